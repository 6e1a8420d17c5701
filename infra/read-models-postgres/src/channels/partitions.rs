//! How a long channels batch is split into partitions by channel, each
//! applied in its own transaction on its own connection, side by side
//! (ADR 0013).
//!
//! Every row of the channels read model belongs to one channel, so the
//! partitions write disjoint rows. Each partition's transaction writes the
//! partition's own checkpoint row (`<projector>#<i>/<n>`), so the rule
//! "checkpoint in the transaction of the change" holds per partition: a
//! crash between two partitions' commits leaves one partition ahead, and
//! the projector resumes from the lowest row (see
//! [`checkpoints::load_family`](crate::checkpoints::load_family)); the
//! partition that was ahead skips what it already has by its channels'
//! position guards.

use std::sync::Arc;

use quire_domain::RecordedEvent;
use quire_projections::ProjectorId;

/// How many partitions a long batch is split into, and the checkpoint
/// rows that go with that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout {
    count: usize,
}

impl Layout {
    /// `count` partitions, at least one.
    pub(super) fn new(count: usize) -> Layout {
        Layout { count: count.max(1) }
    }

    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// The checkpoint row of partition `index`. With one partition it is
    /// the projector's own row, as before partitions existed.
    pub(super) fn checkpoint(&self, projector: &ProjectorId, index: usize) -> ProjectorId {
        if self.count == 1 {
            return projector.clone();
        }
        ProjectorId::new(
            format!("{}#{index}/{}", projector.name, self.count),
            projector.version,
        )
    }

    /// Every checkpoint row of the layout.
    pub(super) fn checkpoints(&self, projector: &ProjectorId) -> Vec<ProjectorId> {
        (0..self.count).map(|i| self.checkpoint(projector, i)).collect()
    }

    /// The partition of a channel: FNV-1a of its id, so that every process
    /// and every version splits alike (nothing depends on it for
    /// correctness, but a stable split keeps a resumed batch's partitions
    /// the same).
    pub(super) fn partition_of(&self, channel: &str) -> usize {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in channel.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        (hash % self.count as u64) as usize
    }

    /// The batch's `channel.*` events, one list per partition (every
    /// partition has a list, maybe empty), each in the batch's order.
    pub(super) fn split(&self, events: &[Arc<RecordedEvent>]) -> Vec<Vec<Arc<RecordedEvent>>> {
        let mut parts = vec![Vec::with_capacity(events.len() / self.count + 1); self.count];
        for event in events.iter().filter(|e| e.stream_id.category() == "channel") {
            parts[self.partition_of(event.stream_id.aggregate_id())].push(Arc::clone(event));
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_partition_keeps_the_projectors_own_row() {
        let id = ProjectorId::new("channels.postgres", 1);
        assert_eq!(Layout::new(1).checkpoints(&id), vec![id.clone()]);
        assert_eq!(Layout::new(0).count(), 1);
        let names: Vec<String> = Layout::new(2)
            .checkpoints(&id)
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["channels.postgres#0/2", "channels.postgres#1/2"]);
    }

    #[test]
    fn channels_spread_over_every_partition_and_stay_put() {
        let layout = Layout::new(4);
        let mut seen = [0usize; 4];
        for n in 0..1_000 {
            let channel = format!("c{n}");
            let partition = layout.partition_of(&channel);
            assert_eq!(partition, layout.partition_of(&channel));
            seen[partition] += 1;
        }
        assert!(seen.iter().all(|n| *n > 150), "{seen:?}");
        // The hash is FNV-1a 64 (fixed offset basis and prime), not one
        // that may change between builds.
        assert_eq!(
            Layout::new(7).partition_of(""),
            (0xcbf2_9ce4_8422_2325u64 % 7) as usize
        );
        assert_eq!(
            Layout::new(1 << 20).partition_of("a"),
            (0xaf63_dc4c_8601_ec8cu64 % (1 << 20)) as usize
        );
    }
}
