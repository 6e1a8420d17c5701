//! Document and version lists: order, filters, page sizes and tokens.

use quire_domain::document::ShareRole;

use super::{everything, list_all, listed};
use crate::query::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest};
use crate::read_models::conformance::world::{doc_id, pid, uid};
use crate::read_models::conformance::{DocumentsFixture, World, assert_invalid, next};
use crate::read_models::documents::DocumentFilter;

pub async fn lists_newest_first_with_filters(fx: &DocumentsFixture) {
    let mut world = World::new();
    world
        .create_project("ann", "p1", "Work", None)
        .upload("ann", "d1", "one.txt", None)
        .upload("ann", "d2", "two.txt", Some("p1"))
        .upload("ann", "d3", "three.txt", None)
        .upload("bob", "d4", "four.txt", Some("p1"))
        .share("bob", "d4", "ann", ShareRole::View)
        .upload("bob", "d5", "five.txt", None);
    world.sync(&*fx.projector).await;

    assert_eq!(listed(fx, "ann", everything()).await, ["d4", "d3", "d2", "d1"]);
    let owned = DocumentFilter {
        owned_only: true,
        ..everything()
    };
    assert_eq!(listed(fx, "ann", owned).await, ["d3", "d2", "d1"]);
    let in_p1 = DocumentFilter {
        project: Some(pid("p1")),
        ..everything()
    };
    assert_eq!(listed(fx, "ann", in_p1.clone()).await, ["d4", "d2"]);
    assert_eq!(
        listed(fx, "bob", in_p1).await,
        ["d4"],
        "only what the reader may see"
    );
    assert_eq!(listed(fx, "bob", everything()).await, ["d5", "d4"]);
    let elsewhere = DocumentFilter {
        project: Some(pid("nowhere")),
        ..everything()
    };
    assert!(listed(fx, "ann", elsewhere).await.is_empty());
}

pub async fn document_paging(fx: &DocumentsFixture) {
    let mut world = World::new();
    for n in 1..=7 {
        world.upload("ann", &format!("d{n}"), &format!("file {n}.txt"), None);
    }
    world.sync(&*fx.projector).await;
    let (ann, q) = (uid("ann"), &fx.queries);
    let newest_first: Vec<_> = (1..=7).rev().map(|n| doc_id(&format!("d{n}"))).collect();

    // Pages of 3: 3, 3, 1, and the last has no token.
    let first = q
        .list_documents(&ann, everything(), PageRequest::first(3))
        .await
        .expect("page 1");
    assert_eq!(first.items.len(), 3);
    let second = q
        .list_documents(&ann, everything(), next(3, first.next_page_token.clone()))
        .await
        .expect("page 2");
    assert_eq!(second.items.len(), 3);
    let third = q
        .list_documents(&ann, everything(), next(3, second.next_page_token.clone()))
        .await
        .expect("page 3");
    assert_eq!(third.items.len(), 1);
    assert_eq!(third.next_page_token, None, "the last page has no token");
    let paged: Vec<_> = [first.items, second.items, third.items]
        .concat()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(paged, newest_first);

    // An exact fit: the page that ends the list has no token.
    let exact = q
        .list_documents(&ann, everything(), PageRequest::first(7))
        .await
        .expect("exact page");
    assert_eq!((exact.items.len(), exact.next_page_token), (7, None));
    for size in [1, 2, 4, 6] {
        assert_eq!(
            list_all(fx, &ann, everything(), size).await,
            newest_first,
            "pages of {size}"
        );
    }
    // Size 0 is the default size.
    let default = q
        .list_documents(&ann, everything(), PageRequest::default())
        .await
        .expect("default page");
    assert_eq!(default.items.len(), 7.min(DEFAULT_PAGE_SIZE as usize));

    // A token stays valid when the list changes under it.
    let page = q
        .list_documents(&ann, everything(), PageRequest::first(2))
        .await
        .expect("page");
    world
        .upload("ann", "d8", "newer.txt", None)
        .delete_document("ann", "d5");
    world.sync(&*fx.projector).await;
    let rest = list_after(fx, page.next_page_token).await;
    assert_eq!(rest, ["d4", "d3", "d2", "d1"].map(doc_id));

    assert_invalid(
        q.list_documents(&ann, everything(), next(3, Some("not a token".to_owned())))
            .await,
        "a forged token",
    );
    assert_invalid(
        q.list_documents(&ann, everything(), next(3, Some("7b7d".to_owned())))
            .await,
        "a token of another shape",
    );
    assert_invalid(
        q.list_documents(&ann, everything(), PageRequest::first(MAX_PAGE_SIZE + 1))
            .await,
        "an oversized page",
    );
}

/// The rest of ann's list after a token, in pages of 2.
async fn list_after(fx: &DocumentsFixture, mut token: Option<String>) -> Vec<quire_domain::DocumentId> {
    let mut ids = Vec::new();
    while let Some(current) = token {
        let page = fx
            .queries
            .list_documents(&uid("ann"), everything(), next(2, Some(current)))
            .await
            .expect("page");
        ids.extend(page.items.into_iter().map(|d| d.id));
        token = page.next_page_token;
    }
    ids
}

pub async fn version_paging(fx: &DocumentsFixture) {
    let mut world = World::new();
    world.upload("ann", "d1", "a.txt", None);
    for _ in 2..=5 {
        world.new_version("ann", "d1", "text/plain");
    }
    world.sync(&*fx.projector).await;
    let (ann, d1, q) = (uid("ann"), doc_id("d1"), &fx.queries);

    let mut numbers = Vec::new();
    let mut sizes = Vec::new();
    let mut token = None;
    loop {
        let page = q
            .list_versions(&ann, &d1, next(2, token))
            .await
            .expect("versions");
        sizes.push(page.items.len());
        numbers.extend(page.items.iter().map(|v| v.number));
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(numbers, [5, 4, 3, 2, 1]);
    assert_eq!(sizes, [2, 2, 1]);
    assert_invalid(
        q.list_versions(&ann, &d1, next(2, Some("zz".to_owned()))).await,
        "a forged version token",
    );
    assert_invalid(
        q.list_versions(&ann, &d1, PageRequest::first(MAX_PAGE_SIZE + 1))
            .await,
        "an oversized version page",
    );
}
