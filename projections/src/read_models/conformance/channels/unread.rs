//! Read markers and unread counts: messages by others after the reader's
//! marker, deleted ones excluded; leaving drops the channel and the marker.

use super::{channel, unread};
use crate::query::PageRequest;
use crate::read_models::conformance::world::{cid, counts, uid};
use crate::read_models::conformance::{ChannelsFixture, World, assert_not_found};

pub async fn unread_counts_follow_messages_markers_and_deletes(fx: &ChannelsFixture) {
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

    world.mark_read("bob", "g1", "a2");
    world.sync(&*fx.projector).await;
    let bob = channel(fx, "bob", "g1").await;
    assert_eq!((bob.read_up_to, bob.unread), (2, 1));

    // Deleting an unread message uncounts it; a read one changes nothing.
    world
        .delete_message("ann", "g1", "a3")
        .delete_message("ann", "g1", "a1");
    world.sync(&*fx.projector).await;
    assert!(unread(fx, "bob").await.is_empty(), "nothing unread is left out");
    assert_eq!(channel(fx, "bob", "g1").await.unread, 0);
    assert_eq!(unread(fx, "cy").await, counts(&[("g1", 2)]));

    // A marker on a message of one's own, past others' messages.
    world.send("cy", "g1", "c1").mark_read("cy", "g1", "c1");
    world.sync(&*fx.projector).await;
    assert!(unread(fx, "cy").await.is_empty());
    assert_eq!(unread(fx, "ann").await, counts(&[("g1", 2)]));
    assert_eq!(unread(fx, "bob").await, counts(&[("g1", 1)]));

    // Counts per channel, in channel list order; the list carries them too.
    world
        .direct("ann", "bob", "dm")
        .send("ann", "dm", "d1")
        .send("ann", "dm", "d2");
    world.sync(&*fx.projector).await;
    assert_eq!(unread(fx, "bob").await, counts(&[("dm", 2), ("g1", 1)]));
}

pub async fn a_participant_who_leaves_loses_the_channel(fx: &ChannelsFixture) {
    let mut world = World::new();
    world
        .group("ann", "g1", "Team", &["bob", "cy"])
        .send("ann", "g1", "a1")
        .send("bob", "g1", "b1")
        .send("cy", "g1", "c1")
        .mark_read("cy", "g1", "b1")
        .remove_participant("cy", "g1", "cy");
    world.sync(&*fx.projector).await;
    let q = &fx.queries;

    assert_not_found(q.get_channel(&uid("cy"), &cid("g1")).await, "a channel one left");
    assert_eq!(q.is_participant(&uid("cy"), &cid("g1")).await, Ok(false));
    assert!(unread(fx, "cy").await.is_empty());
    assert!(
        q.list_channels(&uid("cy"), PageRequest::default())
            .await
            .expect("channels")
            .items
            .is_empty()
    );
    assert_eq!(
        channel(fx, "ann", "g1").await.participants,
        [uid("ann"), uid("bob")]
    );

    // Back in, with no marker: every live message by others is unread.
    world
        .send("ann", "g1", "a2")
        .delete_message("bob", "g1", "b1")
        .add_participant("ann", "g1", "cy")
        .send("bob", "g1", "b2");
    world.sync(&*fx.projector).await;
    let cy = channel(fx, "cy", "g1").await;
    assert_eq!((cy.read_up_to, cy.unread), (0, 3), "a1, a2 and b2");
    assert_eq!(unread(fx, "cy").await, counts(&[("g1", 3)]));
}
