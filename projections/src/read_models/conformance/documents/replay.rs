//! Idempotency and rebuilds: the same events delivered again (in one batch,
//! one by one, or overlapping) change nothing, and a reset read model
//! replayed from the start answers as before.

use quire_domain::Position;
use quire_domain::document::ShareRole;

use crate::query::{MAX_PAGE_SIZE, PageRequest};
use crate::read_models::conformance::world::{
    assert_redelivery_changes_nothing, deliver_in_batches, doc_id, pid, uid,
};
use crate::read_models::conformance::{DocumentsFixture, World, assert_not_found};
use crate::read_models::documents::DocumentFilter;

const READERS: [&str; 3] = ["ann", "bob", "cy"];
const DOCUMENTS: [&str; 5] = ["d1", "d2", "d3", "d4", "nope"];
const PROJECTS: [&str; 4] = ["p1", "p2", "p3", "nope"];

/// A scenario touching every kind of event.
fn busy_world() -> World {
    let mut world = World::new();
    world
        .create_project("ann", "p1", "Work", None)
        .create_project("ann", "p2", "Sub", Some("p1"))
        .create_project("ann", "p3", "Old", None)
        .upload("ann", "d1", "a.txt", Some("p1"))
        .share("ann", "d1", "bob", ShareRole::View)
        .upload("bob", "d2", "b.txt", None)
        .share("bob", "d2", "ann", ShareRole::Edit)
        .share("bob", "d2", "cy", ShareRole::View)
        .unshare("bob", "d2", "cy")
        .rename_document("ann", "d2", "b2.txt")
        .rename_document("bob", "d2", "b3.txt")
        .upload("ann", "d3", "c.txt", Some("p3"))
        .delete_project("ann", "p3")
        .delete_with_project("d3", "p3")
        .request_upload("cy", "d4", "pending.txt", None)
        .delete_document("ann", "d1")
        .restore_document("ann", "d1")
        .move_document("ann", "d1", Some("p2"))
        .rename_project("ann", "p2", "Sub2")
        .rename_project("ann", "p2", "Sub3");
    world.new_version("ann", "d2", "text/markdown");
    world
}

/// Every answer the port gives about the scenario, as text.
async fn snapshot(fx: &DocumentsFixture) -> Vec<String> {
    let q = &fx.queries;
    let all = PageRequest::first(MAX_PAGE_SIZE);
    let mut answers = Vec::new();
    for reader in READERS.map(uid) {
        for include_deleted in [false, true] {
            let filter = DocumentFilter {
                include_deleted,
                ..DocumentFilter::default()
            };
            answers.push(format!(
                "{:?}",
                q.list_documents(&reader, filter, all.clone()).await
            ));
        }
        for doc in DOCUMENTS.map(doc_id) {
            answers.push(format!("{:?}", q.get_document(&reader, &doc).await));
            answers.push(format!("{:?}", q.list_versions(&reader, &doc, all.clone()).await));
            answers.push(format!("{:?}", q.access_of(&reader, &doc).await));
        }
        answers.push(format!(
            "{:?}",
            q.readable_documents(&reader, &DOCUMENTS.map(doc_id)).await
        ));
        answers.push(format!("{:?}", q.list_projects(&reader, None, all.clone()).await));
        for project in PROJECTS.map(pid) {
            answers.push(format!("{:?}", q.get_project(&reader, &project).await));
            answers.push(format!(
                "{:?}",
                q.list_projects(&reader, Some(&project), all.clone()).await
            ));
        }
    }
    for project in PROJECTS.map(pid) {
        answers.push(format!("{:?}", q.project_ancestors(&project).await));
    }
    answers
}

pub async fn redelivery_changes_nothing(fx: &DocumentsFixture) {
    let mut world = busy_world();
    world.sync(&*fx.projector).await;
    let once = snapshot(fx).await;
    let (history, head) = (world.history(), world.head());
    assert_redelivery_changes_nothing(&*fx.projector, &history, head, "read model", &once, || {
        snapshot(fx)
    })
    .await;
}

pub async fn reset_empties_the_read_model(fx: &DocumentsFixture) {
    let mut world = busy_world();
    world.sync(&*fx.projector).await;
    let built = snapshot(fx).await;
    assert_eq!(
        fx.projector.load_checkpoint().await.expect("checkpoint"),
        world.head()
    );

    fx.projector.reset().await.expect("reset");
    assert_eq!(
        fx.projector.load_checkpoint().await.expect("checkpoint"),
        Position::ZERO
    );
    assert_not_found(
        fx.queries.get_document(&uid("ann"), &doc_id("d2")).await,
        "after reset",
    );
    assert_not_found(fx.queries.project_ancestors(&pid("p2")).await, "after reset");

    // A rebuild in small batches, as a replay from the log would deliver.
    deliver_in_batches(&*fx.projector, &world.history(), 3).await;
    assert_eq!(
        snapshot(fx).await,
        built,
        "the rebuild differs from the first build"
    );
    assert_eq!(
        fx.projector.load_checkpoint().await.expect("checkpoint"),
        world.head()
    );
}
