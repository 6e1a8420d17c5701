//! An aggregate as loaded from its stream: state, version, last position and
//! the outcomes of its recent commands (for idempotent retries).

use std::collections::{HashMap, VecDeque};

use quire_domain::{Aggregate, DomainEvent, Position, RecordedEvent};

/// Where a command's events landed; what a retry of it is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandRecord {
    /// Stream version of the command's last event.
    pub version: u64,
    /// Global position of the command's last event.
    pub position: Position,
    pub events: usize,
}

/// The outcomes of the last `capacity` commands of one aggregate.
#[derive(Debug, Clone)]
pub struct RecentCommands {
    order: VecDeque<String>,
    records: HashMap<String, CommandRecord>,
    capacity: usize,
}

impl RecentCommands {
    pub fn new(capacity: usize) -> RecentCommands {
        RecentCommands {
            order: VecDeque::new(),
            records: HashMap::new(),
            capacity,
        }
    }

    pub fn get(&self, command_id: &str) -> Option<CommandRecord> {
        self.records.get(command_id).copied()
    }

    /// Records that `command_id` wrote an event at `version`/`position`;
    /// consecutive events of one command extend the same record.
    pub fn record_event(&mut self, command_id: &str, version: u64, position: Position) {
        if let Some(record) = self.records.get_mut(command_id) {
            record.version = version;
            record.position = position;
            record.events += 1;
            return;
        }
        if self.capacity == 0 {
            return;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.records.remove(&oldest);
        }
        self.order.push_back(command_id.to_owned());
        self.records.insert(
            command_id.to_owned(),
            CommandRecord {
                version,
                position,
                events: 1,
            },
        );
    }
}

/// One aggregate instance, folded from its stream.
#[derive(Debug, Clone)]
pub struct Loaded<A> {
    pub state: A,
    /// Version of the last applied event; `None` for a stream with none.
    pub version: Option<u64>,
    /// Position of the last applied event.
    pub position: Position,
    pub recent: RecentCommands,
}

impl<A: Aggregate> Loaded<A> {
    pub fn empty(remembered_commands: usize) -> Loaded<A> {
        Loaded {
            state: A::default(),
            version: None,
            position: Position::ZERO,
            recent: RecentCommands::new(remembered_commands),
        }
    }

    /// The version the next read of the stream starts at.
    pub fn next_version(&self) -> u64 {
        self.version.map_or(0, |v| v + 1)
    }

    /// Folds one stored event in.
    pub fn apply_recorded(&mut self, recorded: &RecordedEvent) -> Result<(), quire_domain::EventDecodeError> {
        let event =
            A::Event::decode_payload(&recorded.event_type, recorded.schema_version, &recorded.payload)?;
        self.state.apply(&event);
        self.advance(
            recorded.stream_version,
            recorded.position,
            recorded.metadata.command_id.as_deref(),
        );
        Ok(())
    }

    /// Notes an applied event's version, position and command.
    pub fn advance(&mut self, version: u64, position: Position, command_id: Option<&str>) {
        self.version = Some(version);
        self.position = position;
        if let Some(command_id) = command_id {
            self.recent.record_event(command_id, version, position);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_commands_extend_and_forget_the_oldest() {
        let mut recent = RecentCommands::new(2);
        recent.record_event("a", 0, Position(1));
        recent.record_event("a", 1, Position(2));
        assert_eq!(
            recent.get("a"),
            Some(CommandRecord {
                version: 1,
                position: Position(2),
                events: 2
            })
        );
        recent.record_event("b", 2, Position(3));
        recent.record_event("c", 3, Position(4));
        assert_eq!(recent.get("a"), None);
        assert!(recent.get("b").is_some() && recent.get("c").is_some());
    }
}
