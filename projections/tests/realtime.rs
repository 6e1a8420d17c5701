//! The real-time ports' conformance suites against the in-memory backends;
//! two clones of one backend stand for two gateway instances.

use std::sync::Arc;

use quire_projections::realtime::conformance::Fixture;
use quire_projections::realtime::{
    InMemoryFanout, InMemoryPresence, InMemoryUnreadCounters, MessageFanout, Presence, UnreadCounters,
};

mod fanout {
    use super::*;

    quire_projections::message_fanout_conformance!(|| async {
        let fanout = InMemoryFanout::new();
        Fixture::<dyn MessageFanout>::pair(Arc::new(fanout.clone()), Arc::new(fanout))
    });
}

mod presence {
    use super::*;

    quire_projections::presence_conformance!(|| async {
        let presence = InMemoryPresence::new();
        Fixture::<dyn Presence>::pair(Arc::new(presence.clone()), Arc::new(presence))
    });
}

mod unread {
    use super::*;

    quire_projections::unread_counters_conformance!(|| async {
        let counters = InMemoryUnreadCounters::new();
        Fixture::<dyn UnreadCounters>::pair(Arc::new(counters.instance()), Arc::new(counters))
    });
}

mod leases {
    use quire_projections::lease::conformance::{self, Fixture};
    use quire_projections::lease::{InMemoryLeases, LeaseStore};

    use super::*;

    quire_projections::lease_store_conformance!(|| async {
        let leases = Arc::new(InMemoryLeases::new(conformance::TTL));
        Fixture::<dyn LeaseStore>::pair(leases.clone(), leases)
    });
}
