//! The read-model conformance suites of `quire-projections`, run against
//! the PostgreSQL backends: every case gets a fresh schema, dropped after.
//! PostgreSQL must be running (`scripts/services up`); without it every case
//! fails, naming the address.

mod common;

mod documents {
    use std::sync::Arc;

    use quire_projections::read_models::conformance::DocumentsFixture;
    use quire_read_models_postgres::PgDocuments;

    quire_projections::document_queries_conformance!(|| async {
        let (store, schema) = crate::common::fresh_store().await;
        let model = Arc::new(PgDocuments::new(store));
        DocumentsFixture::new(model.clone(), model, schema)
    });
}

mod channels {
    use std::sync::Arc;

    use quire_projections::read_models::conformance::ChannelsFixture;
    use quire_read_models_postgres::PgChannels;

    quire_projections::channel_queries_conformance!(|| async {
        let (store, schema) = crate::common::fresh_store().await;
        let model = Arc::new(PgChannels::new(store));
        ChannelsFixture::new(model.clone(), model, schema)
    });
}

mod unread {
    use std::sync::Arc;

    use quire_projections::read_models::conformance::UnreadFixture;
    use quire_read_models_postgres::PgChannels;

    quire_projections::unread_queries_conformance!(|| async {
        let (store, schema) = crate::common::fresh_store().await;
        let model = Arc::new(PgChannels::new(store));
        UnreadFixture::new(model.clone(), model, schema)
    });
}
