//! Projects: only their owner sees them; listing by parent and name;
//! renames, moves, deletion; ancestors for the command side's cycle check.

use quire_domain::ProjectId;
use quire_domain::project::ProjectError;

use crate::query::{MAX_PAGE_SIZE, PageRequest};
use crate::read_models::conformance::world::{name, pid, uid};
use crate::read_models::conformance::{DocumentsFixture, World, assert_invalid, assert_not_found, next};

/// The ids of the reader's projects under `parent`, in one page.
async fn children(fx: &DocumentsFixture, reader: &str, parent: Option<&str>) -> Vec<String> {
    let parent = parent.map(pid);
    fx.queries
        .list_projects(&uid(reader), parent.as_ref(), PageRequest::first(MAX_PAGE_SIZE))
        .await
        .expect("list projects")
        .items
        .into_iter()
        .map(|p| p.id.to_string())
        .collect()
}

async fn ancestors(fx: &DocumentsFixture, project: &str) -> Vec<ProjectId> {
    fx.queries
        .project_ancestors(&pid(project))
        .await
        .expect("ancestors")
}

pub async fn projects_are_their_owners(fx: &DocumentsFixture) {
    let mut world = World::new();
    world
        .create_project("ann", "p1", "Beta", None)
        .create_project("ann", "p2", "Alpha", None)
        .create_project("ann", "p3", "Child", Some("p1"))
        .create_project("bob", "p4", "Bob's", None);
    let created_at = world.last_time();
    world.sync(&*fx.projector).await;
    let q = &fx.queries;

    let p4 = q.get_project(&uid("bob"), &pid("p4")).await.expect("own project");
    assert_eq!((p4.name, p4.owner, p4.parent), (name("Bob's"), uid("bob"), None));
    assert_eq!(
        (p4.created_at, p4.updated_at, p4.deleted),
        (created_at, created_at, false)
    );
    let p3 = q.get_project(&uid("ann"), &pid("p3")).await.expect("own project");
    assert_eq!(p3.parent, Some(pid("p1")));
    assert_not_found(q.get_project(&uid("bob"), &pid("p1")).await, "another's project");
    assert_not_found(
        q.get_project(&uid("ann"), &pid("nope")).await,
        "an unknown project",
    );

    assert_eq!(children(fx, "ann", None).await, ["p2", "p1"], "by name");
    assert_eq!(children(fx, "ann", Some("p1")).await, ["p3"]);
    assert_eq!(children(fx, "bob", None).await, ["p4"]);
    assert_not_found(
        q.list_projects(&uid("bob"), Some(&pid("p1")), PageRequest::default())
            .await,
        "the children of another's project",
    );
    assert_not_found(
        q.list_projects(&uid("ann"), Some(&pid("nope")), PageRequest::default())
            .await,
        "the children of an unknown project",
    );

    world
        .rename_project("ann", "p2", "Zeta")
        .delete_project("ann", "p3");
    world.sync(&*fx.projector).await;
    assert_eq!(children(fx, "ann", None).await, ["p1", "p2"]);
    assert!(
        children(fx, "ann", Some("p1")).await.is_empty(),
        "deleted projects are not listed"
    );
    let gone = q
        .get_project(&uid("ann"), &pid("p3"))
        .await
        .expect("deleted project");
    assert!(gone.deleted);
    assert_eq!(gone.deleted_at, Some(world.last_time()));
    assert_eq!(
        q.get_project(&uid("ann"), &pid("p2"))
            .await
            .expect("renamed")
            .name,
        name("Zeta")
    );
}

pub async fn project_moves_and_ancestors(fx: &DocumentsFixture) {
    let mut world = World::new();
    world
        .create_project("ann", "top", "Top", None)
        .create_project("ann", "mid", "Mid", Some("top"))
        .create_project("ann", "leaf", "Leaf", Some("mid"))
        .create_project("ann", "other", "Other", None);
    world.sync(&*fx.projector).await;

    assert_eq!(ancestors(fx, "leaf").await, [pid("mid"), pid("top")]);
    assert_eq!(ancestors(fx, "mid").await, [pid("top")]);
    assert!(ancestors(fx, "top").await.is_empty());
    assert_not_found(
        fx.queries.project_ancestors(&pid("nope")).await,
        "an unknown project",
    );

    // The command side reads the target's ancestors to refuse cycles.
    let into_own_leaf = ancestors(fx, "leaf").await;
    let refused = world.move_project("ann", "top", Some("leaf"), into_own_leaf);
    assert!(matches!(refused, Err(ProjectError::Cycle { .. })), "{refused:?}");

    let to_other = ancestors(fx, "other").await;
    world
        .move_project("ann", "mid", Some("other"), to_other)
        .expect("move mid under other");
    world.sync(&*fx.projector).await;
    assert_eq!(ancestors(fx, "leaf").await, [pid("mid"), pid("other")]);
    assert_eq!(children(fx, "ann", Some("other")).await, ["mid"]);
    assert!(children(fx, "ann", Some("top")).await.is_empty());

    world
        .move_project("ann", "mid", None, Vec::new())
        .expect("move mid to the top");
    world.sync(&*fx.projector).await;
    assert_eq!(ancestors(fx, "leaf").await, [pid("mid")]);
    assert_eq!(children(fx, "ann", None).await, ["mid", "other", "top"]);
}

pub async fn project_paging(fx: &DocumentsFixture) {
    let mut world = World::new();
    for n in 1..=5 {
        world.create_project("ann", &format!("p{n}"), &format!("Folder {n}"), None);
    }
    world.sync(&*fx.projector).await;
    let (ann, q) = (uid("ann"), &fx.queries);

    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    let mut token = None;
    loop {
        let page = q
            .list_projects(&ann, None, next(2, token))
            .await
            .expect("projects");
        sizes.push(page.items.len());
        ids.extend(page.items.into_iter().map(|p| p.id.to_string()));
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(ids, ["p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(sizes, [2, 2, 1]);
    assert_invalid(
        q.list_projects(&ann, None, next(2, Some("0".to_owned()))).await,
        "a forged project token",
    );
    assert_invalid(
        q.list_projects(&ann, None, PageRequest::first(MAX_PAGE_SIZE + 1))
            .await,
        "an oversized project page",
    );
}
