//! A document's life: pending and completed uploads, new versions, renames,
//! moves, soft deletion (by the owner or with the project) and restore.

use quire_domain::document::{Access, ShareRole};

use super::{everything, get, is_not_found, listed};
use crate::query::PageRequest;
use crate::read_models::conformance::world::{doc_id, name, pid, uid};
use crate::read_models::conformance::{DocumentsFixture, World};
use crate::read_models::documents::{DocumentFilter, UploadState};

pub async fn uploads_and_versions(fx: &DocumentsFixture) {
    let mut world = World::new();
    world.request_upload("ann", "d1", "notes.txt", None);
    world.sync(&*fx.projector).await;
    let pending = get(fx, "ann", "d1").await;
    assert_eq!(pending.upload, UploadState::Pending);
    assert_eq!(pending.version, 0);
    let versions = fx
        .queries
        .list_versions(&uid("ann"), &doc_id("d1"), PageRequest::default())
        .await
        .expect("versions");
    assert!(versions.items.is_empty() && versions.next_page_token.is_none());

    world.complete_upload("ann", "d1");
    let completed_at = world.last_time();
    world.sync(&*fx.projector).await;
    let ready = get(fx, "ann", "d1").await;
    assert_eq!((ready.upload, ready.version), (UploadState::Ready, 1));
    assert_eq!((ready.size, &ready.sha256), (pending.size, &pending.sha256));

    let (size, digest) = world.new_version("ann", "d1", "text/markdown");
    world.sync(&*fx.projector).await;
    let second = get(fx, "ann", "d1").await;
    assert_eq!(second.version, 2);
    assert_eq!(second.content_type.as_str(), "text/markdown");
    assert_eq!((second.size, &second.sha256), (size, &digest));
    assert_eq!(second.updated_at, world.last_time());

    let versions = fx
        .queries
        .list_versions(&uid("ann"), &doc_id("d1"), PageRequest::default())
        .await
        .expect("versions")
        .items;
    let numbers: Vec<u32> = versions.iter().map(|v| v.number).collect();
    assert_eq!(numbers, [2, 1], "versions are listed newest first");
    assert_eq!(versions[0].content_type.as_str(), "text/markdown");
    assert_eq!((versions[0].size, &versions[0].sha256), (size, &digest));
    assert_eq!(versions[1].content_type.as_str(), "text/plain");
    assert_eq!(versions[1].uploaded_by, uid("ann"));
    assert_eq!(versions[1].at, completed_at);

    // A requested version is not a version until it completes.
    world.request_version("ann", "d1", "application/pdf");
    world.sync(&*fx.projector).await;
    let still = get(fx, "ann", "d1").await;
    assert_eq!((still.version, still.content_type.as_str()), (2, "text/markdown"));
}

pub async fn renames_and_moves_keep_list_order(fx: &DocumentsFixture) {
    let mut world = World::new();
    world
        .create_project("ann", "p1", "Work", None)
        .upload("ann", "d1", "b.txt", None)
        .upload("ann", "d2", "a.txt", None);
    world.sync(&*fx.projector).await;
    let before = get(fx, "ann", "d1").await;

    world
        .rename_document("ann", "d1", "z.txt")
        .move_document("ann", "d1", Some("p1"));
    world.sync(&*fx.projector).await;
    let after = get(fx, "ann", "d1").await;
    assert_eq!(after.name, name("z.txt"));
    assert_eq!(after.project, Some(pid("p1")));
    assert_eq!(after.created_at, before.created_at);
    assert!(after.updated_at > before.updated_at);
    assert_eq!(
        listed(fx, "ann", everything()).await,
        ["d2", "d1"],
        "order is by creation"
    );
    let in_p1 = DocumentFilter {
        project: Some(pid("p1")),
        ..everything()
    };
    assert_eq!(listed(fx, "ann", in_p1.clone()).await, ["d1"]);

    world.move_document("ann", "d1", None);
    world.sync(&*fx.projector).await;
    assert!(listed(fx, "ann", in_p1).await.is_empty());
    assert_eq!(get(fx, "ann", "d1").await.project, None);
}

pub async fn deletes_and_restores(fx: &DocumentsFixture) {
    let mut world = World::new();
    world
        .upload("ann", "d1", "a.txt", None)
        .upload("ann", "d2", "b.txt", None)
        .share("ann", "d1", "bob", ShareRole::Edit)
        .delete_document("ann", "d1");
    let deleted_at = world.last_time();
    world.sync(&*fx.projector).await;
    let q = &fx.queries;
    let with_deleted = DocumentFilter {
        include_deleted: true,
        ..everything()
    };

    let trashed = get(fx, "ann", "d1").await;
    assert!(trashed.deleted, "the owner still sees a deleted document");
    assert_eq!(trashed.deleted_at, Some(deleted_at));
    assert!(is_not_found(&q.get_document(&uid("bob"), &doc_id("d1")).await));
    assert!(is_not_found(
        &q.list_versions(&uid("bob"), &doc_id("d1"), PageRequest::default())
            .await
    ));
    assert_eq!(q.access_of(&uid("bob"), &doc_id("d1")).await, Ok(None));
    assert_eq!(
        q.access_of(&uid("ann"), &doc_id("d1")).await,
        Ok(Some(Access::Owner))
    );
    assert_eq!(listed(fx, "ann", everything()).await, ["d2"]);
    assert_eq!(listed(fx, "ann", with_deleted.clone()).await, ["d2", "d1"]);
    assert!(listed(fx, "bob", with_deleted.clone()).await.is_empty());

    world.restore_document("ann", "d1");
    world.sync(&*fx.projector).await;
    let restored = get(fx, "bob", "d1").await;
    assert!(!restored.deleted);
    assert_eq!(restored.deleted_at, None);
    assert_eq!(restored.access, Access::Edit);
    assert_eq!(listed(fx, "ann", everything()).await, ["d2", "d1"]);
    assert_eq!(listed(fx, "bob", everything()).await, ["d1"]);
}

pub async fn documents_of_a_deleted_project_are_deleted(fx: &DocumentsFixture) {
    let mut world = World::new();
    world
        .create_project("ann", "p1", "Old", None)
        .upload("ann", "d1", "a.txt", Some("p1"))
        .share("ann", "d1", "bob", ShareRole::View)
        .upload("ann", "d2", "b.txt", None)
        .delete_project("ann", "p1");
    let project_deleted_at = world.last_time();
    world.sync(&*fx.projector).await;
    let q = &fx.queries;

    // Before the clean-up reaches the document, it already reads as deleted.
    let early = get(fx, "ann", "d1").await;
    assert!(early.deleted);
    assert_eq!(early.deleted_at, Some(project_deleted_at));
    assert!(is_not_found(&q.get_document(&uid("bob"), &doc_id("d1")).await));
    assert_eq!(listed(fx, "ann", everything()).await, ["d2"]);
    assert!(listed(fx, "bob", everything()).await.is_empty());
    assert!(
        q.readable_documents(&uid("ann"), &[doc_id("d1")])
            .await
            .expect("readable")
            .is_empty()
    );

    world.delete_with_project("d1", "p1");
    world.sync(&*fx.projector).await;
    assert!(get(fx, "ann", "d1").await.deleted);
    let trash = DocumentFilter {
        include_deleted: true,
        project: Some(pid("p1")),
        ..everything()
    };
    assert_eq!(listed(fx, "ann", trash).await, ["d1"]);

    // A restore brings it back out of the gone project.
    world.restore_document("ann", "d1");
    world.sync(&*fx.projector).await;
    let back = get(fx, "bob", "d1").await;
    assert!(!back.deleted);
    assert_eq!(back.project, None);
    assert_eq!(listed(fx, "bob", everything()).await, ["d1"]);
}
