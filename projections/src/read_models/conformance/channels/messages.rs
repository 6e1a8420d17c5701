//! Messages: newest first with cursor paging, edits, deletes, threads,
//! mentions and attachments.

use quire_domain::document::ShareRole;

use super::{message, timeline};
use crate::query::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest};
use crate::read_models::channels::MessageFilter;
use crate::read_models::conformance::world::{body_of, cid, doc_id, mid, uid};
use crate::read_models::conformance::{ChannelsFixture, World, assert_invalid, assert_not_found, next};

/// Message ids of both forms the handlers may issue: UUIDs and other text.
fn message_ids(count: usize) -> Vec<String> {
    (1..=count)
        .map(|n| match n % 2 {
            0 => format!("0193a4c2-7f00-7abc-8def-{n:012x}"),
            _ => format!("m{n}"),
        })
        .collect()
}

pub async fn messages_newest_first_with_cursor_paging(fx: &ChannelsFixture) {
    let mut world = World::new();
    world.group("ann", "g1", "Team", &["bob"]);
    let ids = message_ids(7);
    for (n, id) in ids.iter().enumerate() {
        world.send(if n % 3 == 0 { "bob" } else { "ann" }, "g1", id);
    }
    world.sync(&*fx.projector).await;
    let (bob, g1, q) = (uid("bob"), cid("g1"), &fx.queries);
    let all = || MessageFilter::default();

    let mut seqs = Vec::new();
    let mut listed = Vec::new();
    let mut sizes = Vec::new();
    let mut token = None;
    loop {
        let page = q
            .list_messages(&bob, &g1, all(), next(3, token))
            .await
            .expect("messages");
        sizes.push(page.items.len());
        seqs.extend(page.items.iter().map(|m| m.seq));
        listed.extend(page.items.into_iter().map(|m| m.id.to_string()));
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seqs, [7, 6, 5, 4, 3, 2, 1], "newest first");
    assert_eq!(sizes, [3, 3, 1], "the last page has no token");
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(listed, newest_first);

    let first = message(fx, "bob", "g1", &ids[0]).await;
    assert_eq!((first.seq, first.author.as_str()), (1, "bob"));
    assert_eq!(first.body.as_deref(), Some(body_of(&ids[0]).as_str()));
    assert_eq!(first.channel, g1);
    assert!(!first.deleted && first.edited_at.is_none() && first.thread_parent.is_none());

    let exact = q
        .list_messages(&bob, &g1, all(), PageRequest::first(7))
        .await
        .expect("exact page");
    assert_eq!((exact.items.len(), exact.next_page_token), (7, None));
    let default = q
        .list_messages(&bob, &g1, all(), PageRequest::default())
        .await
        .expect("default page");
    assert_eq!(default.items.len(), 7.min(DEFAULT_PAGE_SIZE as usize));

    // A token stays valid while newer messages arrive.
    let page = q
        .list_messages(&bob, &g1, all(), PageRequest::first(4))
        .await
        .expect("page");
    world.send("ann", "g1", "newer");
    world.sync(&*fx.projector).await;
    let rest = q
        .list_messages(&bob, &g1, all(), next(10, page.next_page_token))
        .await
        .expect("rest");
    let rest_seqs: Vec<u64> = rest.items.iter().map(|m| m.seq).collect();
    assert_eq!(rest_seqs, [3, 2, 1]);

    assert_invalid(
        q.list_messages(&bob, &g1, all(), next(3, Some("nonsense".to_owned())))
            .await,
        "a forged message token",
    );
    assert_invalid(
        q.list_messages(&bob, &g1, all(), PageRequest::first(MAX_PAGE_SIZE + 1))
            .await,
        "an oversized message page",
    );
}

pub async fn edits_and_deletes(fx: &ChannelsFixture) {
    let mut world = World::new();
    world
        .upload("ann", "d1", "a.txt", None)
        .share("ann", "d1", "bob", ShareRole::View)
        .group("ann", "g1", "Team", &["bob"])
        .send("ann", "g1", "m1")
        .send_with("ann", "g1", "m2", None, &["bob"], &["d1"])
        .send("bob", "g1", "m3")
        .edit("ann", "g1", "m1", "corrected");
    let edited_at = world.last_time();
    world.delete_message("ann", "g1", "m2");
    world.sync(&*fx.projector).await;

    let edited = message(fx, "bob", "g1", "m1").await;
    assert_eq!(edited.body.as_deref(), Some("corrected"));
    assert_eq!(edited.edited_at, Some(edited_at));
    assert!(!edited.deleted);

    let deleted = message(fx, "bob", "g1", "m2").await;
    assert!(deleted.deleted);
    assert_eq!(deleted.body, None, "a deleted message loses its body");
    assert!(deleted.mentions.is_empty() && deleted.attachments.is_empty());
    assert_eq!((deleted.seq, deleted.author.as_str()), (2, "ann"));
    assert_eq!(
        timeline(fx, "bob", "g1", None).await,
        ["m3", "m2", "m1"],
        "a deleted message keeps its place"
    );
}

pub async fn threads(fx: &ChannelsFixture) {
    let mut world = World::new();
    world
        .group("ann", "g1", "Team", &["bob"])
        .send("ann", "g1", "root")
        .reply("bob", "g1", "r1", "root")
        .send("ann", "g1", "other")
        .reply("ann", "g1", "r2", "root")
        .reply("bob", "g1", "r1a", "r1")
        .reply("ann", "g1", "r3", "root");
    world.sync(&*fx.projector).await;
    let (ann, g1, q) = (uid("ann"), cid("g1"), &fx.queries);

    assert_eq!(timeline(fx, "ann", "g1", Some("root")).await, ["r3", "r2", "r1"]);
    assert_eq!(timeline(fx, "ann", "g1", Some("r1")).await, ["r1a"]);
    assert!(timeline(fx, "ann", "g1", Some("other")).await.is_empty());
    assert_eq!(
        timeline(fx, "ann", "g1", None).await,
        ["r3", "r1a", "r2", "other", "r1", "root"],
        "the channel's list holds replies too"
    );
    let root = message(fx, "ann", "g1", "root").await;
    assert_eq!((root.replies, root.thread_parent), (3, None));
    let r1 = message(fx, "ann", "g1", "r1").await;
    assert_eq!((r1.replies, r1.thread_parent), (1, Some(mid("root"))));

    let thread = || MessageFilter {
        thread: Some(mid("root")),
    };
    let first = q
        .list_messages(&ann, &g1, thread(), PageRequest::first(2))
        .await
        .expect("thread page 1");
    let second = q
        .list_messages(&ann, &g1, thread(), next(2, first.next_page_token.clone()))
        .await
        .expect("thread page 2");
    let ids = |items: &[crate::read_models::channels::MessageView]| {
        items.iter().map(|m| m.id.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&first.items), ["r3", "r2"]);
    assert_eq!(ids(&second.items), ["r1"]);
    assert_eq!(second.next_page_token, None);

    // A deleted root keeps its replies.
    world.delete_message("ann", "g1", "root");
    world.sync(&*fx.projector).await;
    assert_eq!(timeline(fx, "ann", "g1", Some("root")).await, ["r3", "r2", "r1"]);
    assert_not_found(
        q.list_messages(
            &ann,
            &g1,
            MessageFilter {
                thread: Some(mid("nope")),
            },
            PageRequest::default(),
        )
        .await,
        "an unknown thread",
    );
}

pub async fn mentions_and_attachments(fx: &ChannelsFixture) {
    let mut world = World::new();
    world
        .upload("ann", "d1", "a.txt", None)
        .upload("ann", "d2", "b.txt", None)
        .group("ann", "g1", "Team", &["bob", "cy"])
        .send_with("ann", "g1", "m1", None, &["cy", "bob", "cy"], &["d2", "d1"]);
    world.sync(&*fx.projector).await;

    let m1 = message(fx, "bob", "g1", "m1").await;
    assert_eq!(
        m1.mentions,
        [uid("cy"), uid("bob")],
        "in the order given, once each"
    );
    assert_eq!(m1.attachments, [doc_id("d2"), doc_id("d1")]);
}
