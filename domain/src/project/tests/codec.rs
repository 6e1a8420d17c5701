//! Every project event survives its stored form.

use proptest::prelude::*;

use crate::strategies as arb;
use crate::testing::{assert_catalog_covered, assert_round_trips};

use super::*;

/// Any project event, of any variant.
fn project_event() -> impl Strategy<Value = ProjectEvent> {
    (
        (arb::project_id(), arb::name(), arb::user_id()),
        (arb::project_id_opt(), arb::project_id_opt(), arb::timestamp()),
    )
        .prop_flat_map(|((project_id, name, by), (from, to, at))| {
            prop_oneof![
                Just(ProjectEvent::Created(Created {
                    project_id: project_id.clone(),
                    name: name.clone(),
                    owner: by.clone(),
                    parent: from.clone(),
                    at,
                })),
                Just(ProjectEvent::Renamed(Renamed {
                    project_id: project_id.clone(),
                    name,
                    by: by.clone(),
                    at,
                })),
                Just(ProjectEvent::Moved(Moved {
                    project_id: project_id.clone(),
                    from,
                    to,
                    by: by.clone(),
                    at,
                })),
                Just(ProjectEvent::Deleted(Deleted { project_id, by, at })),
            ]
        })
}

proptest! {
    #[test]
    fn every_project_event_round_trips(event in project_event()) {
        assert_round_trips(&event);
    }
}

#[test]
fn samples_cover_the_catalog_and_round_trip() {
    let samples = [
        created(Some("root")),
        ProjectEvent::Renamed(Renamed {
            project_id: pid("p"),
            name: name("Ünïcode · name"),
            by: user("ann"),
            at: AT,
        }),
        ProjectEvent::Moved(Moved {
            project_id: pid("p"),
            from: Some(pid("root")),
            to: None,
            by: user("ann"),
            at: AT,
        }),
        deleted(),
    ];
    assert_catalog_covered(&samples);
    for event in &samples {
        assert_round_trips(event);
    }
}
