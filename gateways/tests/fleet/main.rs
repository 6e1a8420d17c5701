//! The fleet across processes: `quire serve` gateways, projectors and a
//! worker as separate OS processes on the local NATS JetStream and
//! PostgreSQL (`scripts/services up` starts them). Each test has a stream,
//! schemas, a lease bucket and subjects of its own, removed at the end.

#[path = "../common/mod.rs"]
mod common;
mod cross_gateways;
mod failover;
mod harness;
mod link;
mod outages;
