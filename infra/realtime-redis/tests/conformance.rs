//! The real-time ports' conformance suites against Redis on 127.0.0.1:6379:
//! each case gets two connections (two gateway instances) under a unique
//! key prefix, deleted afterwards. The unread counts query suite runs
//! through the `UnreadCounts` projector on the Redis counters.

mod common;

use std::sync::Arc;

use quire_projections::realtime::conformance::Fixture;
use quire_projections::realtime::{MessageFanout, Presence, UnreadCounters};

mod fanout {
    use super::*;

    quire_projections::message_fanout_conformance!(|| async {
        let (a, b) = common::two_gateways().await;
        Fixture::<dyn MessageFanout>::pair(Arc::new(a.fanout()), Arc::new(b.fanout()))
            .with_teardown(common::teardown(a))
    });
}

mod presence {
    use super::*;

    quire_projections::presence_conformance!(|| async {
        let (a, b) = common::two_gateways().await;
        Fixture::<dyn Presence>::pair(Arc::new(a.presence()), Arc::new(b.presence()))
            .with_teardown(common::teardown(a))
    });
}

mod unread {
    use super::*;

    quire_projections::unread_counters_conformance!(|| async {
        let (a, b) = common::two_gateways().await;
        Fixture::<dyn UnreadCounters>::pair(Arc::new(a.unread()), Arc::new(b.unread()))
            .with_teardown(common::teardown(a))
    });
}

mod unread_queries {
    use quire_projections::read_models::conformance::UnreadFixture;
    use quire_projections::realtime::UnreadCounts;

    use super::*;

    quire_projections::unread_queries_conformance!(|| async {
        let prefix = common::unique_prefix();
        let realtime = common::connect(&prefix).await;
        let model = Arc::new(UnreadCounts::new(Arc::new(realtime.unread())));
        UnreadFixture::new(model.clone(), model, common::Cleanup(prefix))
    });
}
