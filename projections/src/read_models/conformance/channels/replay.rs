//! Idempotency and rebuilds: the same events delivered again change
//! nothing, and a reset read model replayed from the start answers as
//! before.

use quire_domain::Position;

use crate::query::{MAX_PAGE_SIZE, PageRequest};
use crate::read_models::channels::MessageFilter;
use crate::read_models::conformance::world::{
    assert_redelivery_changes_nothing, cid, deliver_in_batches, mid, uid,
};
use crate::read_models::conformance::{ChannelsFixture, World, assert_not_found};

const READERS: [&str; 4] = ["ann", "bob", "cy", "dee"];
const CHANNELS: [&str; 3] = ["g1", "dm", "nope"];
const MESSAGES: [&str; 5] = ["m1", "m2", "m3", "m4", "nope"];

/// A scenario touching every kind of channel event.
pub(crate) fn busy_world() -> World {
    let mut world = World::new();
    world
        .group("ann", "g1", "Team", &["bob", "cy"])
        .direct("ann", "dee", "dm")
        .send("ann", "g1", "m1")
        .reply("bob", "g1", "m2", "m1")
        .send_with("cy", "g1", "m3", None, &["ann"], &[])
        .edit("bob", "g1", "m2", "edited")
        .edit("bob", "g1", "m2", "edited again")
        .mark_read("bob", "g1", "m3")
        .delete_message("ann", "g1", "m1")
        .remove_participant("ann", "g1", "cy")
        .add_participant("bob", "g1", "dee")
        .add_participant("dee", "g1", "cy")
        .send("dee", "g1", "m4")
        .send("dee", "dm", "m1");
    world
}

/// Every answer the port gives about the scenario, as text.
async fn snapshot(fx: &ChannelsFixture) -> Vec<String> {
    let q = &fx.queries;
    let all = PageRequest::first(MAX_PAGE_SIZE);
    let mut answers = Vec::new();
    for reader in READERS.map(uid) {
        answers.push(format!("{:?}", q.list_channels(&reader, all.clone()).await));
        for channel in CHANNELS.map(cid) {
            answers.push(format!("{:?}", q.get_channel(&reader, &channel).await));
            answers.push(format!("{:?}", q.is_participant(&reader, &channel).await));
            let everything = MessageFilter::default();
            answers.push(format!(
                "{:?}",
                q.list_messages(&reader, &channel, everything, all.clone()).await
            ));
            for message in MESSAGES.map(mid) {
                answers.push(format!("{:?}", q.get_message(&reader, &channel, &message).await));
                let thread = MessageFilter {
                    thread: Some(message),
                };
                answers.push(format!(
                    "{:?}",
                    q.list_messages(&reader, &channel, thread, all.clone()).await
                ));
            }
        }
    }
    answers
}

pub async fn redelivery_changes_nothing(fx: &ChannelsFixture) {
    let mut world = busy_world();
    world.sync(&*fx.projector).await;
    let once = snapshot(fx).await;
    let (history, head) = (world.history(), world.head());
    assert_redelivery_changes_nothing(&*fx.projector, &history, head, "read model", &once, || {
        snapshot(fx)
    })
    .await;
}

pub async fn reset_empties_the_read_model(fx: &ChannelsFixture) {
    let mut world = busy_world();
    world.sync(&*fx.projector).await;
    let built = snapshot(fx).await;

    fx.projector.reset().await.expect("reset");
    assert_eq!(
        fx.projector.load_checkpoint().await.expect("checkpoint"),
        Position::ZERO
    );
    assert_not_found(
        fx.queries.get_channel(&uid("ann"), &cid("g1")).await,
        "after reset",
    );
    assert!(
        fx.queries
            .list_channels(&uid("bob"), PageRequest::first(MAX_PAGE_SIZE))
            .await
            .expect("channels")
            .items
            .is_empty()
    );

    deliver_in_batches(&*fx.projector, &world.history(), 2).await;
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
