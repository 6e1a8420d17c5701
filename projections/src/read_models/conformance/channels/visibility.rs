//! Who sees a channel: its current participants only. Channel lists and
//! their paging.

use quire_domain::channel::ChannelKind;

use super::{channel, timeline};
use crate::query::{MAX_PAGE_SIZE, PageRequest};
use crate::read_models::channels::MessageFilter;
use crate::read_models::conformance::world::{cid, mid, name, uid};
use crate::read_models::conformance::{ChannelsFixture, World, assert_invalid, assert_not_found, next};

pub async fn participants_see_the_channel(fx: &ChannelsFixture) {
    let mut world = World::new();
    world.group("ann", "g1", "Team", &["bob"]);
    let created_at = world.last_time();
    world.direct("cy", "ann", "dm1").send("ann", "g1", "m1");
    world.sync(&*fx.projector).await;

    let group = channel(fx, "bob", "g1").await;
    assert_eq!(group.id, cid("g1"));
    assert_eq!(group.kind, ChannelKind::Group);
    assert_eq!(group.name, Some(name("Team")));
    assert_eq!(group.created_at, created_at);
    assert_eq!(group.participants, [uid("ann"), uid("bob")]);
    assert_eq!(group.last_seq, 1);
    assert_eq!(group.last_message_at, Some(world.last_time()));
    let direct = channel(fx, "ann", "dm1").await;
    assert_eq!((direct.kind, direct.name), (ChannelKind::Direct, None));
    assert_eq!(direct.participants, [uid("ann"), uid("cy")]);
    assert_eq!((direct.last_seq, direct.last_message_at), (0, None));

    assert_eq!(timeline(fx, "bob", "g1", None).await, ["m1"]);
    let q = &fx.queries;
    assert_eq!(q.is_participant(&uid("bob"), &cid("g1")).await, Ok(true));
    let listed: Vec<_> = q
        .list_channels(&uid("ann"), PageRequest::default())
        .await
        .expect("channels")
        .items
        .into_iter()
        .map(|c| c.id.to_string())
        .collect();
    assert_eq!(listed, ["dm1", "g1"], "newest first");
}

pub async fn strangers_get_not_found(fx: &ChannelsFixture) {
    let mut world = World::new();
    world.group("ann", "g1", "Team", &["bob"]).send("ann", "g1", "m1");
    world.sync(&*fx.projector).await;
    let (cy, g1, q) = (uid("cy"), cid("g1"), &fx.queries);

    assert_not_found(q.get_channel(&cy, &g1).await, "a stranger's channel");
    assert_not_found(
        q.list_messages(&cy, &g1, MessageFilter::default(), PageRequest::default())
            .await,
        "a stranger's messages",
    );
    assert_not_found(q.get_message(&cy, &g1, &mid("m1")).await, "a stranger's message");
    assert_eq!(q.is_participant(&cy, &g1).await, Ok(false));
    assert!(
        q.list_channels(&cy, PageRequest::default())
            .await
            .expect("channels")
            .items
            .is_empty()
    );
    // The same answers as for a channel that does not exist.
    assert_not_found(
        q.get_channel(&uid("ann"), &cid("nope")).await,
        "an unknown channel",
    );
    assert_not_found(
        q.list_messages(
            &uid("ann"),
            &cid("nope"),
            MessageFilter::default(),
            PageRequest::default(),
        )
        .await,
        "an unknown channel's messages",
    );
    assert_eq!(q.is_participant(&uid("ann"), &cid("nope")).await, Ok(false));
    assert_not_found(
        q.get_message(&uid("ann"), &g1, &mid("nope")).await,
        "an unknown message",
    );
}

pub async fn channel_paging(fx: &ChannelsFixture) {
    let mut world = World::new();
    for n in 1..=5 {
        world.group("ann", &format!("g{n}"), &format!("Group {n}"), &["bob"]);
    }
    world.group("bob", "solo", "Bob only", &[]);
    world.sync(&*fx.projector).await;
    let (ann, q) = (uid("ann"), &fx.queries);

    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    let mut token = None;
    loop {
        let page = q.list_channels(&ann, next(2, token)).await.expect("channels");
        sizes.push(page.items.len());
        ids.extend(page.items.into_iter().map(|c| c.id.to_string()));
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(ids, ["g5", "g4", "g3", "g2", "g1"]);
    assert_eq!(sizes, [2, 2, 1]);
    let all = q
        .list_channels(&ann, PageRequest::first(5))
        .await
        .expect("exact page");
    assert_eq!((all.items.len(), all.next_page_token), (5, None));
    assert_invalid(
        q.list_channels(&ann, next(2, Some("abc".to_owned()))).await,
        "a forged channel token",
    );
    assert_invalid(
        q.list_channels(&ann, PageRequest::first(MAX_PAGE_SIZE + 1)).await,
        "an oversized channel page",
    );
}
