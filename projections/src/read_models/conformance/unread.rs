//! The [`UnreadQueries`] cases: counts follow messages, markers, deletes,
//! leaving and rejoining; they come in channel list order; redelivery and
//! reset. Each takes a fresh fixture; the `unread_queries_conformance!`
//! macro makes one test of each.
//!
//! [`UnreadQueries`]: crate::read_models::unread::UnreadQueries

use quire_domain::Position;

use super::channels::busy_world;
use super::world::{assert_redelivery_changes_nothing, counts, deliver_in_batches, uid};
use super::{UnreadFixture, World};

const READERS: [&str; 4] = ["ann", "bob", "cy", "dee"];

/// The reader's counts as `(channel, count)` text pairs.
async fn unread(fx: &UnreadFixture, reader: &str) -> Vec<(String, u32)> {
    fx.queries
        .unread_counts(&uid(reader))
        .await
        .expect("unread counts")
        .into_iter()
        .map(|u| (u.channel.to_string(), u.unread))
        .collect()
}

/// Every reader's counts, as text.
async fn snapshot(fx: &UnreadFixture) -> Vec<String> {
    let mut answers = Vec::new();
    for reader in READERS {
        answers.push(format!("{reader}: {:?}", unread(fx, reader).await));
    }
    answers
}

pub async fn counts_follow_messages_markers_and_deletes(fx: &UnreadFixture) {
    let mut world = World::new();
    world
        .group("ann", "g1", "Team", &["bob", "cy"])
        .send("ann", "g1", "a1")
        .send("ann", "g1", "a2")
        .send("ann", "g1", "a3")
        .send("bob", "g1", "b1");
    world.sync(&*fx.projector).await;
    assert_eq!(
        unread(fx, "ann").await,
        counts(&[("g1", 1)]),
        "own messages never count"
    );
    assert_eq!(unread(fx, "bob").await, counts(&[("g1", 3)]));
    assert_eq!(unread(fx, "cy").await, counts(&[("g1", 4)]));
    assert!(unread(fx, "dee").await.is_empty(), "a stranger has nothing");

    world.mark_read("bob", "g1", "a2");
    world.sync(&*fx.projector).await;
    assert_eq!(unread(fx, "bob").await, counts(&[("g1", 1)]));

    // Deleting an unread message uncounts it; a read one changes nothing.
    world
        .delete_message("ann", "g1", "a3")
        .delete_message("ann", "g1", "a1");
    world.sync(&*fx.projector).await;
    assert!(unread(fx, "bob").await.is_empty(), "nothing unread is left out");
    assert_eq!(unread(fx, "cy").await, counts(&[("g1", 2)]));

    // A marker on a message of one's own, past others' messages.
    world.send("cy", "g1", "c1").mark_read("cy", "g1", "c1");
    world.sync(&*fx.projector).await;
    assert!(unread(fx, "cy").await.is_empty());
    assert_eq!(unread(fx, "ann").await, counts(&[("g1", 2)]));
    assert_eq!(unread(fx, "bob").await, counts(&[("g1", 1)]));

    // An older marker after a newer one changes nothing.
    world.send("ann", "g1", "a4").mark_read("bob", "g1", "a4");
    world.sync(&*fx.projector).await;
    assert!(unread(fx, "bob").await.is_empty());
}

pub async fn counts_come_in_channel_list_order(fx: &UnreadFixture) {
    let mut world = World::new();
    world
        .group("ann", "g1", "Team", &["bob"])
        .direct("ann", "bob", "dm")
        .group("cy", "g2", "Other", &["bob"])
        .send("ann", "g1", "a1")
        .send("ann", "dm", "d1")
        .send("ann", "dm", "d2")
        .send("cy", "g2", "c1");
    world.sync(&*fx.projector).await;
    assert_eq!(
        unread(fx, "bob").await,
        counts(&[("g2", 1), ("dm", 2), ("g1", 1)]),
        "newest channel first"
    );
    world.mark_read("bob", "dm", "d2");
    world.sync(&*fx.projector).await;
    assert_eq!(unread(fx, "bob").await, counts(&[("g2", 1), ("g1", 1)]));
}

pub async fn leaving_drops_the_channel_and_rejoining_counts_every_live_message(fx: &UnreadFixture) {
    let mut world = World::new();
    world
        .group("ann", "g1", "Team", &["bob", "cy"])
        .send("ann", "g1", "a1")
        .send("bob", "g1", "b1")
        .send("cy", "g1", "c1")
        .mark_read("cy", "g1", "b1")
        .remove_participant("cy", "g1", "cy")
        .send("ann", "g1", "a2");
    world.sync(&*fx.projector).await;
    assert!(
        unread(fx, "cy").await.is_empty(),
        "a channel one left has no count"
    );

    // Back in, with no marker: every live message by others is unread.
    world
        .delete_message("bob", "g1", "b1")
        .add_participant("ann", "g1", "cy")
        .send("bob", "g1", "b2");
    world.sync(&*fx.projector).await;
    assert_eq!(unread(fx, "cy").await, counts(&[("g1", 3)]), "a1, a2 and b2");
    // Adding someone already in keeps their marker.
    world
        .mark_read("bob", "g1", "b2")
        .add_participant("ann", "g1", "bob");
    world.sync(&*fx.projector).await;
    assert!(unread(fx, "bob").await.is_empty());
}

pub async fn redelivery_changes_nothing(fx: &UnreadFixture) {
    let mut world = busy_world();
    world.sync(&*fx.projector).await;
    let once = snapshot(fx).await;
    assert_ne!(
        once,
        READERS.map(|r| format!("{r}: []")).to_vec(),
        "the scenario leaves something unread"
    );
    let (history, head) = (world.history(), world.head());
    assert_redelivery_changes_nothing(&*fx.projector, &history, head, "counts", &once, || snapshot(fx)).await;
}

pub async fn reset_empties_the_counts(fx: &UnreadFixture) {
    let mut world = busy_world();
    world.sync(&*fx.projector).await;
    let built = snapshot(fx).await;

    fx.projector.reset().await.expect("reset");
    assert_eq!(
        fx.projector.load_checkpoint().await.expect("checkpoint"),
        Position::ZERO
    );
    for reader in READERS {
        assert!(unread(fx, reader).await.is_empty(), "{reader} after reset");
    }
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
