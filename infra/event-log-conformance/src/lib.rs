//! The conformance suite of the [`EventLog`] port, written once and run
//! against every backend.
//!
//! A backend's test file instantiates it with a factory that opens a fresh,
//! empty log:
//!
//! ```ignore
//! quire_event_log_conformance::event_log_conformance!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let log = EmbeddedLog::open(EmbeddedLogConfig::new(dir.path())).unwrap();
//!     Fixture::new(log, dir)
//! });
//! ```
//!
//! # Layout
//! - [`fixture`] — the [`Fixture`] a factory returns, and event builders.
//! - [`basics`] — append/read round trips, expected versions, idempotency,
//!   invalid appends, stream paging.
//! - [`concurrency`] — 32 concurrent writers with subscribers from the start
//!   and from the middle.
//! - [`subscriptions`] — filters and live delivery.

pub mod basics;
pub mod concurrency;
pub mod fixture;
pub mod subscriptions;

pub use fixture::{Fixture, new_event};

use quire_event_log::EventLog;

/// Generates one `#[tokio::test]` per conformance case; `$factory` is a
/// closure returning a future of a [`Fixture`] holding a fresh, empty log.
#[macro_export]
macro_rules! event_log_conformance {
    ($factory:expr) => {
        $crate::event_log_conformance!(@cases $factory;
            append_and_read_back,
            expected_version_rules,
            idempotent_retries,
            invalid_appends,
            read_stream_paging,
            read_all_paging,
            concurrent_writers_and_subscribers,
            subscription_filters,
            live_delivery,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture: $crate::Fixture = ($factory)().await;
                $crate::run_case(stringify!($case), fixture.log()).await;
                drop(fixture);
            }
        )+
    };
}

/// Runs the named case against `log`.
pub async fn run_case(case: &str, log: &dyn EventLog) {
    match case {
        "append_and_read_back" => basics::append_and_read_back(log).await,
        "expected_version_rules" => basics::expected_version_rules(log).await,
        "idempotent_retries" => basics::idempotent_retries(log).await,
        "invalid_appends" => basics::invalid_appends(log).await,
        "read_stream_paging" => basics::read_stream_paging(log).await,
        "read_all_paging" => basics::read_all_paging(log).await,
        "concurrent_writers_and_subscribers" => concurrency::concurrent_writers_and_subscribers(log).await,
        "subscription_filters" => subscriptions::filters(log).await,
        "live_delivery" => subscriptions::live_delivery(log).await,
        other => panic!("unknown conformance case {other}"),
    }
}
