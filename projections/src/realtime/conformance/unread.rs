//! The [`UnreadCounters`] cases at the port itself: batches and the saved
//! checkpoint, the per-channel guard, the window, state shared between
//! instances, reset. How channel events become counts (markers, leaving,
//! list order) is the `unread_queries_conformance!` suite's, run through
//! [`UnreadCounts`](crate::realtime::UnreadCounts) on the same backends.

use std::sync::Arc;

use quire_domain::{MessageId, Position, Timestamp};

use super::{Fixture, channel, run_guarded, user};
use crate::realtime::{ChannelChange, RealtimeError, UNREAD_WINDOW, UnreadChange, UnreadCounters};

/// Runs the named case against `fixture`.
pub async fn run(case: &str, fixture: Fixture<dyn UnreadCounters>) {
    let (a, b) = (fixture.first(), fixture.second());
    let case = case.to_owned();
    run_guarded(fixture, async move {
        match case.as_str() {
            "a_batch_applies_in_order_and_saves_the_checkpoint" => {
                a_batch_applies_in_order_and_saves_the_checkpoint(a).await;
            }
            "each_channel_skips_what_it_has_applied" => each_channel_skips_what_it_has_applied(a).await,
            "counts_saturate_at_the_window" => counts_saturate_at_the_window(a).await,
            "ids_with_separators_stay_apart" => ids_with_separators_stay_apart(a).await,
            "instances_share_state" => instances_share_state(a, b).await,
            "reset_forgets_everything" => reset_forgets_everything(a).await,
            "a_reset_elsewhere_rewinds_this_instance" => a_reset_elsewhere_rewinds_this_instance(a, b).await,
            other => panic!("unknown unread counters conformance case {other}"),
        }
    })
    .await;
}

/// Builds batches of changes at increasing positions.
struct Changes {
    position: u64,
    seq: u64,
    batch: Vec<ChannelChange>,
}

impl Changes {
    fn from(position: u64) -> Changes {
        Changes {
            position,
            seq: 0,
            batch: Vec::new(),
        }
    }

    fn push(&mut self, channel_id: &str, change: UnreadChange) -> &mut Changes {
        self.position += 1;
        self.batch.push(ChannelChange {
            channel: channel(channel_id),
            position: Position(self.position),
            change,
        });
        self
    }

    fn open(&mut self, channel_id: &str, created: i64, users: &[&str]) -> &mut Changes {
        let participants = users.iter().map(|u| user(u)).collect();
        self.push(
            channel_id,
            UnreadChange::Opened {
                created_at: Timestamp::from_unix_micros(created),
                participants,
            },
        )
    }

    fn send(&mut self, channel_id: &str, message: &str, author: &str) -> &mut Changes {
        self.seq += 1;
        let seq = self.seq;
        self.push(
            channel_id,
            UnreadChange::Sent {
                message: message_id(message),
                seq,
                author: user(author),
            },
        )
    }

    fn delete(&mut self, channel_id: &str, message: &str, author: &str) -> &mut Changes {
        self.push(
            channel_id,
            UnreadChange::Deleted {
                message: message_id(message),
                author: user(author),
            },
        )
    }

    fn read(&mut self, channel_id: &str, reader: &str, seq: u64) -> &mut Changes {
        self.push(
            channel_id,
            UnreadChange::ReadUpTo {
                user: user(reader),
                seq,
            },
        )
    }

    fn head(&self) -> Position {
        Position(self.position)
    }

    /// Applies the batch so far (checkpoint: the last position) and starts
    /// a new one.
    async fn apply_to(&mut self, counters: &Arc<dyn UnreadCounters>) {
        let batch = std::mem::take(&mut self.batch);
        counters.apply(&batch, self.head()).await.expect("apply");
    }
}

fn message_id(id: &str) -> MessageId {
    MessageId::parse(id).expect("valid message id")
}

async fn counts(counters: &Arc<dyn UnreadCounters>, who: &str) -> Vec<(String, u64)> {
    counters
        .counts(&user(who))
        .await
        .expect("counts")
        .into_iter()
        .map(|c| (c.channel.to_string(), c.unread))
        .collect()
}

fn expect(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs
        .iter()
        .map(|(id, count)| ((*id).to_owned(), *count))
        .collect()
}

async fn a_batch_applies_in_order_and_saves_the_checkpoint(a: Arc<dyn UnreadCounters>) {
    assert_eq!(a.checkpoint().await.expect("checkpoint"), Position::ZERO);
    assert_eq!(counts(&a, "ann").await, expect(&[]));
    let mut changes = Changes::from(10);
    changes
        .open("c1", 1, &["ann", "bob"])
        .send("c1", "m1", "ann")
        .send("c1", "m2", "ann")
        .send("c1", "m3", "bob")
        .delete("c1", "m2", "ann")
        .read("c1", "bob", 1);
    changes.apply_to(&a).await;
    assert_eq!(a.checkpoint().await.expect("checkpoint"), Position(16));
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 1)]));
    assert_eq!(counts(&a, "bob").await, expect(&[]));

    // A batch with nothing in it still moves the checkpoint.
    a.apply(&[], Position(40)).await.expect("apply");
    assert_eq!(a.checkpoint().await.expect("checkpoint"), Position(40));
}

async fn each_channel_skips_what_it_has_applied(a: Arc<dyn UnreadCounters>) {
    let mut changes = Changes::from(0);
    changes
        .open("c1", 1, &["ann", "bob"])
        .send("c1", "m1", "ann")
        .send("c1", "m2", "ann");
    let c1 = changes.batch.clone();
    changes.apply_to(&a).await;
    assert_eq!(counts(&a, "bob").await, expect(&[("c1", 2)]));

    // Redelivered, whole or one change at a time, newest first.
    a.apply(&c1, Position(3)).await.expect("apply");
    for change in c1.iter().rev() {
        a.apply(std::slice::from_ref(change), Position(3))
            .await
            .expect("apply");
    }
    assert_eq!(counts(&a, "bob").await, expect(&[("c1", 2)]));
    // An old delete arriving after the channel moved on is skipped too.
    let late = ChannelChange {
        channel: channel("c1"),
        position: Position(2),
        change: UnreadChange::Deleted {
            message: message_id("m2"),
            author: user("ann"),
        },
    };
    a.apply(&[late], Position(3)).await.expect("apply");
    assert_eq!(counts(&a, "bob").await, expect(&[("c1", 2)]));

    // The guard is per channel: another channel's lower positions apply.
    let other = [
        ChannelChange {
            channel: channel("c2"),
            position: Position(1),
            change: UnreadChange::Opened {
                created_at: Timestamp::from_unix_micros(2),
                participants: vec![user("bob"), user("cy")],
            },
        },
        ChannelChange {
            channel: channel("c2"),
            position: Position(2),
            change: UnreadChange::Sent {
                message: message_id("m1"),
                seq: 1,
                author: user("cy"),
            },
        },
    ];
    a.apply(&other, Position(3)).await.expect("apply");
    assert_eq!(counts(&a, "bob").await, expect(&[("c2", 1), ("c1", 2)]));
}

async fn counts_saturate_at_the_window(a: Arc<dyn UnreadCounters>) {
    let window = UNREAD_WINDOW as u64;
    let mut changes = Changes::from(0);
    changes.open("c1", 1, &["ann", "bob"]);
    for n in 1..=window + 5 {
        changes.send("c1", &format!("m{n}"), if n % 2 == 0 { "bob" } else { "ann" });
    }
    changes.apply_to(&a).await;
    assert_eq!(
        counts(&a, "bob").await,
        expect(&[("c1", window / 2)]),
        "ann's messages among the newest {window}"
    );
    // Past the oldest message kept, counts are exact again.
    changes.read("c1", "bob", window);
    changes.read("c1", "ann", window + 1);
    changes.apply_to(&a).await;
    assert_eq!(
        counts(&a, "bob").await,
        expect(&[("c1", 3)]),
        "m1001, m1003, m1005"
    );
    assert_eq!(counts(&a, "ann").await, expect(&[("c1", 2)]), "m1002, m1004");
    // Deleting a message the window no longer holds changes nothing.
    changes.delete("c1", "m1", "ann").delete("c1", "m1003", "ann");
    changes.apply_to(&a).await;
    assert_eq!(counts(&a, "bob").await, expect(&[("c1", 2)]));
}

async fn ids_with_separators_stay_apart(a: Arc<dyn UnreadCounters>) {
    let mut changes = Changes::from(0);
    changes
        .open("a:b", 1, &["x", "x:y"])
        .open("b", 2, &["x", "x:y"])
        .send("a:b", "m:1", "x:y")
        .send("b", "1", "x");
    changes.apply_to(&a).await;
    assert_eq!(counts(&a, "x").await, expect(&[("a:b", 1)]));
    assert_eq!(counts(&a, "x:y").await, expect(&[("b", 1)]));
}

async fn instances_share_state(a: Arc<dyn UnreadCounters>, b: Arc<dyn UnreadCounters>) {
    let mut changes = Changes::from(0);
    changes.open("c1", 1, &["ann", "bob"]).send("c1", "m1", "ann");
    changes.apply_to(&a).await;
    assert_eq!(counts(&b, "bob").await, expect(&[("c1", 1)]));
    assert_eq!(b.checkpoint().await.expect("checkpoint"), changes.head());
    changes.read("c1", "bob", 1);
    changes.apply_to(&b).await;
    assert_eq!(counts(&a, "bob").await, expect(&[]));
    // An overlapping replay of the first batch by `a` (a projector that
    // lost its lease) neither changes counts nor moves the checkpoint back.
    let latest = changes.head();
    let mut replay = Changes::from(0);
    replay.open("c1", 1, &["ann", "bob"]).send("c1", "m1", "ann");
    replay.apply_to(&a).await;
    assert_eq!(counts(&b, "bob").await, expect(&[]));
    assert_eq!(b.checkpoint().await.expect("checkpoint"), latest);
}

async fn reset_forgets_everything(a: Arc<dyn UnreadCounters>) {
    let mut changes = Changes::from(0);
    changes.open("c1", 1, &["ann", "bob"]).send("c1", "m1", "ann");
    let batch = changes.batch.clone();
    changes.apply_to(&a).await;
    a.reset().await.expect("reset");
    assert_eq!(a.checkpoint().await.expect("checkpoint"), Position::ZERO);
    assert_eq!(counts(&a, "bob").await, expect(&[]));
    // Nothing of the old guards is left: the same changes apply again.
    a.apply(&batch, Position(2)).await.expect("apply");
    assert_eq!(counts(&a, "bob").await, expect(&[("c1", 1)]));
}

/// State lost under a running instance (here a reset through another one,
/// as a Redis restart without persistence would lose it) is reported, not
/// built upon: the instance's next batch applies nothing and fails with
/// `Rewound`, and once it has read the store's checkpoint again it applies.
async fn a_reset_elsewhere_rewinds_this_instance(a: Arc<dyn UnreadCounters>, b: Arc<dyn UnreadCounters>) {
    let mut changes = Changes::from(0);
    changes.open("c1", 1, &["ann", "bob"]).send("c1", "m1", "ann");
    changes.apply_to(&a).await;
    let seen = changes.head();
    b.reset().await.expect("reset");
    changes.send("c1", "m2", "ann");
    let batch = std::mem::take(&mut changes.batch);
    let error = a.apply(&batch, changes.head()).await.expect_err("rewound");
    assert!(
        matches!(error, RealtimeError::Rewound { stored, seen: s } if stored == Position::ZERO && s == seen),
        "{error:?}"
    );
    assert_eq!(counts(&b, "bob").await, expect(&[]));
    assert_eq!(b.checkpoint().await.expect("checkpoint"), Position::ZERO);
    // Empty batches (checkpoint-only writes) are checked too.
    assert!(matches!(
        a.apply(&[], Position(9)).await,
        Err(RealtimeError::Rewound { .. })
    ));
    assert_eq!(a.checkpoint().await.expect("checkpoint"), Position::ZERO);
    a.apply(&batch, Position(3))
        .await
        .expect("apply after reading the checkpoint");
    assert_eq!(b.checkpoint().await.expect("checkpoint"), Position(3));
}
