//! The conformance suites of the query ports, instantiated for the
//! in-memory backends.

mod documents {
    use quire_projections::read_models::conformance::DocumentsFixture;
    use quire_projections::read_models::documents::InMemoryDocuments;

    quire_projections::document_queries_conformance!(|| async {
        let model = InMemoryDocuments::shared();
        DocumentsFixture::new(model.clone(), model, ())
    });
}

mod channels {
    use quire_projections::read_models::channels::InMemoryChannels;
    use quire_projections::read_models::conformance::ChannelsFixture;

    quire_projections::channel_queries_conformance!(|| async {
        let model = InMemoryChannels::shared();
        ChannelsFixture::new(model.clone(), model, ())
    });
}

mod unread_from_channels {
    use quire_projections::read_models::channels::InMemoryChannels;
    use quire_projections::read_models::conformance::UnreadFixture;

    quire_projections::unread_queries_conformance!(|| async {
        let model = InMemoryChannels::shared();
        UnreadFixture::new(model.clone(), model, ())
    });
}

mod unread_from_counters {
    use std::sync::Arc;

    use quire_projections::read_models::conformance::UnreadFixture;
    use quire_projections::realtime::{InMemoryUnreadCounters, UnreadCounts};

    quire_projections::unread_queries_conformance!(|| async {
        let model = Arc::new(UnreadCounts::new(Arc::new(InMemoryUnreadCounters::new())));
        UnreadFixture::new(model.clone(), model, ())
    });
}
