//! [`CommittedCheckpoints`]: the checkpoint rows this process has
//! committed, so that a batch notices when the server no longer has them.
//!
//! Batch transactions commit asynchronously (`synchronous_commit = off`),
//! so a server crash may lose the last batches, rows and checkpoint
//! together; a restored backup or a promoted replica that lagged loses
//! more. The model stays consistent, only behind, but the runner that
//! applied those batches has moved on and would never apply them again.
//! So each batch first reads its checkpoint rows, and if one is below what
//! this process committed to it, the batch is refused with
//! [`ProjectionError::Rewound`]: the runner starts again from the stored
//! checkpoint, as after a restart. A reset by this process forgets its
//! rows; a reset by another process is a rewind like any other.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use quire_domain::Position;
use quire_projections::{ProjectionError, ProjectorId};

/// Per checkpoint row (name and version), the highest position this
/// process committed to it.
#[derive(Debug, Default)]
pub(crate) struct CommittedCheckpoints {
    rows: Mutex<HashMap<(String, u32), Position>>,
}

impl CommittedCheckpoints {
    /// Whether any of `rows` was committed by this process (if none was,
    /// there is nothing to compare the stored rows with).
    pub(crate) fn knows_any(&self, rows: &[ProjectorId]) -> bool {
        let committed = self.lock();
        rows.iter().any(|row| committed.contains_key(&key(row)))
    }

    /// Compares the rows' stored positions (`None`: no row) with what this
    /// process committed to them. If any is behind, lowers what it
    /// remembers to the stored positions, so that the replay the runner
    /// starts is not refused too, and fails with
    /// [`ProjectionError::Rewound`].
    pub(crate) fn check(&self, stored: &[(ProjectorId, Option<Position>)]) -> Result<(), ProjectionError> {
        let mut committed = self.lock();
        let mut rewound: Option<(Position, Position)> = None;
        for (row, position) in stored {
            let position = position.unwrap_or(Position::ZERO);
            if let Some(seen) = committed.get_mut(&key(row))
                && position < *seen
            {
                let (lowest, highest) = rewound.get_or_insert((position, *seen));
                *lowest = (*lowest).min(position);
                *highest = (*highest).max(*seen);
                *seen = position;
            }
        }
        match rewound {
            None => Ok(()),
            Some((stored, seen)) => Err(ProjectionError::Rewound { stored, seen }),
        }
    }

    /// Records that `rows` were raised to `position` by a transaction that
    /// committed.
    pub(crate) fn committed(&self, rows: &[ProjectorId], position: Position) {
        let mut committed = self.lock();
        for row in rows {
            let seen = committed.entry(key(row)).or_insert(position);
            *seen = (*seen).max(position);
        }
    }

    /// Forgets the rows of `projector`'s family (its own and its
    /// partitions', `<name>#…`) after this process reset them.
    pub(crate) fn forget_family(&self, projector: &ProjectorId) {
        let partitions = format!("{}#", projector.name);
        self.lock().retain(|(name, version), _| {
            *version != projector.version || (*name != projector.name && !name.starts_with(&partitions))
        });
    }
}

impl CommittedCheckpoints {
    /// The map; a panic while it was held cannot leave it half-updated
    /// (every change is one insert, assignment or retain), so a poisoned
    /// lock is taken over.
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, u32), Position>> {
        self.rows.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn key(row: &ProjectorId) -> (String, u32) {
    (row.name.clone(), row.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str) -> ProjectorId {
        ProjectorId::new(name, 1)
    }

    #[test]
    fn rows_at_or_above_what_was_committed_pass() {
        let committed = CommittedCheckpoints::default();
        committed.committed(&[row("a"), row("b")], Position(10));
        committed.committed(&[row("a")], Position(7));
        assert!(committed.knows_any(&[row("b")]));
        assert!(!committed.knows_any(&[row("c")]));
        let stored = [(row("a"), Some(Position(10))), (row("b"), Some(Position(12)))];
        assert!(committed.check(&stored).is_ok());
        assert!(
            committed.check(&[(row("c"), None)]).is_ok(),
            "never committed here"
        );
    }

    #[test]
    fn a_row_behind_or_gone_is_a_rewind_reported_once() {
        let committed = CommittedCheckpoints::default();
        committed.committed(&[row("a"), row("b")], Position(10));
        let stored = [(row("a"), Some(Position(4))), (row("b"), None)];
        let error = committed.check(&stored).expect_err("rewound");
        assert!(
            matches!(error, ProjectionError::Rewound { stored, seen } if stored == Position::ZERO && seen == Position(10)),
            "{error:?}"
        );
        assert!(committed.check(&stored).is_ok(), "the replay from there passes");
    }

    #[test]
    fn forgetting_a_family_keeps_other_projectors_and_versions() {
        let committed = CommittedCheckpoints::default();
        let rows = [row("ch"), row("ch#0/2"), row("chat"), ProjectorId::new("ch", 2)];
        committed.committed(&rows, Position(5));
        committed.forget_family(&row("ch"));
        assert!(!committed.knows_any(&rows[..2]));
        assert!(committed.knows_any(&rows[2..3]));
        assert!(committed.knows_any(&rows[3..]));
    }
}
