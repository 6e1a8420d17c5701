//! Who sees which document: owners, sharees (view and edit), strangers,
//! and the attachment check of `SendMessage`.

use quire_domain::document::{Access, ShareRole};

use super::{everything, get, is_not_found, listed};
use crate::query::PageRequest;
use crate::read_models::conformance::world::{doc_id, name, uid};
use crate::read_models::conformance::{DocumentsFixture, World, assert_not_found};
use crate::read_models::documents::{DocumentFilter, ShareView, UploadState};

pub async fn owner_sees_their_document(fx: &DocumentsFixture) {
    let mut world = World::new();
    world.request_upload("ann", "d1", "report.txt", None);
    let requested_at = world.last_time();
    world.complete_upload("ann", "d1");
    world.sync(&*fx.projector).await;

    let view = get(fx, "ann", "d1").await;
    assert_eq!(view.id, doc_id("d1"));
    assert_eq!(view.name, name("report.txt"));
    assert_eq!(view.owner, uid("ann"));
    assert_eq!(view.content_type.as_str(), "text/plain");
    assert_eq!(view.version, 1);
    assert_eq!(view.upload, UploadState::Ready);
    assert_eq!(view.project, None);
    assert!(!view.deleted);
    assert_eq!(view.deleted_at, None);
    assert_eq!(view.created_at, requested_at, "created_at is the request's time");
    assert_eq!(
        view.updated_at,
        world.last_time(),
        "updated_at is the last change's time"
    );
    assert_eq!(view.access, Access::Owner);
    assert!(view.shares.is_empty());
    assert_eq!(listed(fx, "ann", everything()).await, ["d1"]);
    let access = fx.queries.access_of(&uid("ann"), &doc_id("d1")).await;
    assert_eq!(access, Ok(Some(Access::Owner)));
}

pub async fn strangers_get_not_found(fx: &DocumentsFixture) {
    let mut world = World::new();
    world.upload("ann", "d1", "secret.txt", None);
    world.sync(&*fx.projector).await;
    let (bob, d1) = (uid("bob"), doc_id("d1"));
    let q = &fx.queries;

    assert_not_found(q.get_document(&bob, &d1).await, "a stranger's get");
    assert_not_found(
        q.list_versions(&bob, &d1, PageRequest::default()).await,
        "a stranger's versions",
    );
    assert_eq!(q.access_of(&bob, &d1).await, Ok(None));
    assert!(
        q.readable_documents(&bob, std::slice::from_ref(&d1))
            .await
            .expect("readable")
            .is_empty()
    );
    assert!(listed(fx, "bob", everything()).await.is_empty());
    assert!(
        listed(
            fx,
            "bob",
            DocumentFilter {
                include_deleted: true,
                ..everything()
            }
        )
        .await
        .is_empty()
    );
    // The same answer as for a document that does not exist.
    assert_not_found(q.get_document(&bob, &doc_id("nope")).await, "an unknown document");
    assert_not_found(
        q.get_document(&uid("ann"), &doc_id("nope")).await,
        "an unknown document",
    );
    assert_eq!(q.access_of(&uid("ann"), &doc_id("nope")).await, Ok(None));
}

pub async fn shares_grant_view_and_edit_until_unshared(fx: &DocumentsFixture) {
    let mut world = World::new();
    world
        .upload("ann", "d1", "plan.txt", None)
        .share("ann", "d1", "bob", ShareRole::View)
        .share("ann", "d1", "cy", ShareRole::Edit);
    world.sync(&*fx.projector).await;
    let q = &fx.queries;

    let bob_view = get(fx, "bob", "d1").await;
    assert_eq!(bob_view.access, Access::View);
    assert!(bob_view.shares.is_empty(), "sharees do not see other shares");
    assert_eq!(get(fx, "cy", "d1").await.access, Access::Edit);
    assert_eq!(
        get(fx, "ann", "d1").await.shares,
        [
            ShareView {
                user: uid("bob"),
                role: ShareRole::View
            },
            ShareView {
                user: uid("cy"),
                role: ShareRole::Edit
            },
        ]
    );
    assert_eq!(listed(fx, "bob", everything()).await, ["d1"]);
    assert!(
        listed(
            fx,
            "bob",
            DocumentFilter {
                owned_only: true,
                ..everything()
            }
        )
        .await
        .is_empty(),
        "owned_only leaves out shared documents"
    );
    assert_eq!(
        q.access_of(&uid("cy"), &doc_id("d1")).await,
        Ok(Some(Access::Edit))
    );

    // An editor uploads a version; a role changes; a share is withdrawn.
    world.new_version("cy", "d1", "text/markdown");
    world
        .share("ann", "d1", "bob", ShareRole::Edit)
        .unshare("ann", "d1", "cy");
    world.sync(&*fx.projector).await;
    assert_eq!(get(fx, "bob", "d1").await.access, Access::Edit);
    assert_eq!(get(fx, "bob", "d1").await.version, 2);
    assert!(is_not_found(&q.get_document(&uid("cy"), &doc_id("d1")).await));
    assert!(listed(fx, "cy", everything()).await.is_empty());
    assert_eq!(q.access_of(&uid("cy"), &doc_id("d1")).await, Ok(None));
    assert_eq!(
        get(fx, "ann", "d1").await.shares,
        [ShareView {
            user: uid("bob"),
            role: ShareRole::Edit
        }]
    );
}

pub async fn readable_documents_checks_each_id(fx: &DocumentsFixture) {
    let mut world = World::new();
    world
        .upload("ann", "own", "a.txt", None)
        .upload("bob", "viewed", "b.txt", None)
        .share("bob", "viewed", "ann", ShareRole::View)
        .upload("bob", "hidden", "c.txt", None)
        .upload("ann", "trashed", "d.txt", None)
        .delete_document("ann", "trashed")
        .upload("bob", "gone", "e.txt", None)
        .share("bob", "gone", "ann", ShareRole::Edit)
        .delete_document("bob", "gone");
    world.sync(&*fx.projector).await;

    let ids = ["own", "viewed", "hidden", "trashed", "gone", "unknown"].map(doc_id);
    let readable = fx
        .queries
        .readable_documents(&uid("ann"), &ids)
        .await
        .expect("readable documents");
    assert_eq!(readable, [doc_id("own"), doc_id("viewed")].into_iter().collect());
    let none = fx
        .queries
        .readable_documents(&uid("ann"), &[])
        .await
        .expect("readable");
    assert!(none.is_empty());
}
