//! The aggregate cache: loaded aggregates by stream, each behind an async
//! lock so that commands on one aggregate within this process run one after
//! another (no self-inflicted version conflicts), while other processes are
//! still caught by the log's expected-version check.

use std::any::Any;
use std::sync::Arc;

use quick_cache::sync::Cache;
use quire_domain::{Aggregate, StreamId};
use tokio::sync::Mutex;

use crate::loaded::Loaded;

/// One cached aggregate; `None` until first loaded.
pub type Slot<A> = Arc<Mutex<Option<Loaded<A>>>>;

/// Loaded aggregates of every type, bounded by count.
pub struct AggregateCache {
    entries: Cache<StreamId, Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for AggregateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateCache")
            .field("len", &self.entries.len())
            .finish()
    }
}

impl AggregateCache {
    pub fn new(capacity: usize) -> AggregateCache {
        AggregateCache {
            entries: Cache::new(capacity.max(1)),
        }
    }

    /// The slot of `stream`, created empty if absent.
    pub fn slot<A: Aggregate>(&self, stream: &StreamId) -> Slot<A> {
        let entry = self.entries.get_or_insert_with(stream, || {
            Ok::<_, std::convert::Infallible>(
                Arc::new(Mutex::new(None::<Loaded<A>>)) as Arc<dyn Any + Send + Sync>
            )
        });
        if let Ok(Ok(slot)) = entry.map(|entry| entry.downcast::<Mutex<Option<Loaded<A>>>>()) {
            return slot;
        }
        // The stream was cached as another aggregate type: the category
        // decides the type, so this only follows a caller's mistake.
        let slot: Slot<A> = Arc::new(Mutex::new(None));
        self.entries.insert(stream.clone(), slot.clone());
        slot
    }

    /// Forgets a stream (after an error left its state uncertain).
    pub fn evict(&self, stream: &StreamId) {
        self.entries.remove(stream);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
