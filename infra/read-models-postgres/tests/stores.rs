//! The conformance suites of the projector runtime's own stores
//! (`DeadLetterStore`, `CheckpointStore`) of `quire-projections`, run
//! against their PostgreSQL backends: every case gets a fresh schema,
//! dropped after. PostgreSQL must be running (`scripts/services up`);
//! without it every case fails, naming the address.

mod common;

mod dead_letters {
    use std::sync::Arc;

    use quire_read_models_postgres::PgDeadLetterStore;

    quire_projections::dead_letter_store_conformance!(|| async {
        let (store, schema) = crate::common::fresh_store().await;
        (Arc::new(PgDeadLetterStore::new(store)), schema)
    });
}

mod checkpoints {
    use std::sync::Arc;

    use quire_read_models_postgres::PgCheckpointStore;

    quire_projections::checkpoint_store_conformance!(|| async {
        let (store, schema) = crate::common::fresh_store().await;
        (Arc::new(PgCheckpointStore::new(store)), schema)
    });
}
