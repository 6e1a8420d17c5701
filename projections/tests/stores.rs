//! The conformance suites of the runtime's own stores ([`DeadLetterStore`]
//! and [`CheckpointStore`]) against their in-memory and local-file backends;
//! every file case gets a fresh temporary directory.
//!
//! [`DeadLetterStore`]: quire_projections::DeadLetterStore
//! [`CheckpointStore`]: quire_projections::CheckpointStore

use std::sync::Arc;

use quire_projections::{FileCheckpointStore, FileDeadLetterStore};
use tempfile::TempDir;

fn temp_dir() -> TempDir {
    tempfile::tempdir().expect("temporary directory")
}

mod dead_letters {
    mod in_memory {
        use std::sync::Arc;

        use quire_projections::InMemoryDeadLetterStore;

        quire_projections::dead_letter_store_conformance!(|| async {
            (Arc::new(InMemoryDeadLetterStore::new()), ())
        });
    }

    mod file {
        use super::super::*;

        quire_projections::dead_letter_store_conformance!(|| async {
            let dir = temp_dir();
            let store = FileDeadLetterStore::open(dir.path().join("dead-letters.json")).expect("open");
            (Arc::new(store), dir)
        });
    }
}

mod checkpoints {
    mod in_memory {
        use std::sync::Arc;

        use quire_projections::InMemoryCheckpointStore;

        quire_projections::checkpoint_store_conformance!(|| async {
            (Arc::new(InMemoryCheckpointStore::new()), ())
        });
    }

    mod file {
        use super::super::*;

        quire_projections::checkpoint_store_conformance!(|| async {
            let dir = temp_dir();
            let store = FileCheckpointStore::open(dir.path().join("checkpoints")).expect("open");
            (Arc::new(store), dir)
        });
    }
}
