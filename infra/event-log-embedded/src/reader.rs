//! Turns planned reads into events: cached events as they are, records on
//! disk through positioned reads, neighbouring records coalesced into one.

use std::os::unix::fs::FileExt;
use std::sync::Arc;

use quire_domain::RecordedEvent;
use quire_event_log::LogError;

use crate::format::decode_record;
use crate::index::{Location, Slot};

/// Largest single coalesced disk read.
const MAX_READ_BYTES: usize = 4 << 20;

/// Loads every planned slot, in order.
pub fn load(slots: Vec<Slot>) -> Result<Vec<Arc<RecordedEvent>>, LogError> {
    let mut events = Vec::with_capacity(slots.len());
    let mut run: Vec<Location> = Vec::new();
    let mut run_file = None;
    for slot in slots {
        match slot {
            Slot::Cached(event) => {
                flush_run(&mut run, run_file.take(), &mut events)?;
                events.push(event);
            }
            Slot::OnDisk { file, location } => {
                let continues = run_file.as_ref().is_some_and(|f| Arc::ptr_eq(f, &file))
                    && run
                        .last()
                        .is_some_and(|last| last.offset + last.len == location.offset)
                    && run_bytes(&run) + location.len as usize <= MAX_READ_BYTES;
                if !continues {
                    flush_run(&mut run, run_file.take(), &mut events)?;
                }
                run.push(location);
                run_file = Some(file);
            }
        }
    }
    flush_run(&mut run, run_file, &mut events)?;
    Ok(events)
}

fn run_bytes(run: &[Location]) -> usize {
    run.iter().map(|l| l.len as usize).sum()
}

fn flush_run(
    run: &mut Vec<Location>,
    file: Option<Arc<std::fs::File>>,
    events: &mut Vec<Arc<RecordedEvent>>,
) -> Result<(), LogError> {
    let (Some(file), Some(first)) = (file, run.first().copied()) else {
        run.clear();
        return Ok(());
    };
    let mut buffer = vec![0u8; run_bytes(run)];
    file.read_exact_at(&mut buffer, u64::from(first.offset))
        .map_err(|source| LogError::Storage {
            context: format!("reading segment {} at offset {}", first.segment, first.offset),
            source,
        })?;
    let mut at = 0usize;
    for location in run.drain(..) {
        let record = &buffer[at..at + location.len as usize];
        let event = decode_record(record).map_err(|reason| {
            LogError::Corrupt(format!(
                "segment {} offset {}: {reason}",
                location.segment, location.offset
            ))
        })?;
        events.push(Arc::new(event));
        at += location.len as usize;
    }
    Ok(())
}
