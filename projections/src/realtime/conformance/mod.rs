//! The conformance suites of the real-time ports, written once and run
//! against every backend: [`fanout`] for
//! [`MessageFanout`](crate::realtime::MessageFanout), [`presence`] for
//! [`Presence`](crate::realtime::Presence), [`unread`] for
//! [`UnreadCounters`](crate::realtime::UnreadCounters).
//!
//! A backend's test file instantiates a suite with a factory returning a
//! [`Fixture`]: two handles on one fresh backend (two "gateway instances")
//! and an optional teardown that runs after the case, passed or failed:
//!
//! ```ignore
//! quire_projections::presence_conformance!(|| async {
//!     let presence = InMemoryPresence::new();
//!     Fixture::pair(Arc::new(presence.clone()), Arc::new(presence))
//! });
//! ```

pub mod fanout;
pub mod presence;
pub mod unread;

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use quire_domain::{ChannelId, UserId};

/// Cleans up after a case (deletes its keys, closes connections).
pub type Teardown = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// Two handles on one fresh backend of port `P`, and its teardown.
pub struct Fixture<P: ?Sized> {
    first: Arc<P>,
    second: Arc<P>,
    teardown: Option<Teardown>,
}

impl<P: ?Sized> Fixture<P> {
    /// Two handles on one backend, as two gateway instances hold it.
    pub fn pair(first: Arc<P>, second: Arc<P>) -> Fixture<P> {
        Fixture {
            first,
            second,
            teardown: None,
        }
    }

    /// Runs `teardown` after the case.
    pub fn with_teardown(mut self, teardown: Teardown) -> Fixture<P> {
        self.teardown = Some(teardown);
        self
    }

    /// The first instance.
    pub fn first(&self) -> Arc<P> {
        self.first.clone()
    }

    /// The second instance.
    pub fn second(&self) -> Arc<P> {
        self.second.clone()
    }
}

impl<P: ?Sized> fmt::Debug for Fixture<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("teardown", &self.teardown.is_some())
            .finish_non_exhaustive()
    }
}

/// Runs `case`, then the fixture's teardown, then re-raises a failure.
pub async fn run_guarded<P: ?Sized>(fixture: Fixture<P>, case: impl Future<Output = ()>) {
    let outcome = AssertUnwindSafe(case).catch_unwind().await;
    if let Some(teardown) = fixture.teardown {
        teardown().await;
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A user id for tests.
pub fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}

/// A channel id for tests.
pub fn channel(id: &str) -> ChannelId {
    ChannelId::parse(id).expect("valid channel id")
}

/// Generates one `#[tokio::test]` per case of one port's suite.
#[doc(hidden)]
#[macro_export]
macro_rules! realtime_conformance_cases {
    ($port:ident, $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = ($factory)().await;
                $crate::realtime::conformance::$port::run(stringify!($case), fixture).await;
            }
        )+
    };
}

/// The [`MessageFanout`](crate::realtime::MessageFanout) suite; `$factory`
/// returns a future of a `Fixture<dyn MessageFanout>`.
#[macro_export]
macro_rules! message_fanout_conformance {
    ($factory:expr) => {
        $crate::realtime_conformance_cases!(fanout, $factory;
            notice_reaches_other_instance,
            only_subscribed_channels,
            order_per_publisher,
            every_subscriber_receives,
            dropped_subscription_is_harmless,
        );
    };
}

/// The [`Presence`](crate::realtime::Presence) suite; `$factory` returns a
/// future of a `Fixture<dyn Presence>`.
#[macro_export]
macro_rules! presence_conformance {
    ($factory:expr) => {
        $crate::realtime_conformance_cases!(presence, $factory;
            heartbeat_then_online,
            offline_on_one_gateway_keeps_the_other,
            ttl_expires_a_dead_gateway,
            heartbeat_renews,
            instances_share_state,
        );
    };
}

/// The [`UnreadCounters`](crate::realtime::UnreadCounters) suite; `$factory`
/// returns a future of a `Fixture<dyn UnreadCounters>`.
#[macro_export]
macro_rules! unread_counters_conformance {
    ($factory:expr) => {
        $crate::realtime_conformance_cases!(unread, $factory;
            a_batch_applies_in_order_and_saves_the_checkpoint,
            each_channel_skips_what_it_has_applied,
            counts_saturate_at_the_window,
            ids_with_separators_stay_apart,
            instances_share_state,
            reset_forgets_everything,
            a_reset_elsewhere_rewinds_this_instance,
        );
    };
}
