//! The [`LeaseStore`] conformance suite, run against every backend.
//!
//! The factory returns a [`Fixture`] of two handles on one fresh store (two
//! processes of a fleet), built with a TTL of [`TTL`]:
//!
//! ```ignore
//! quire_projections::lease_store_conformance!(|| async {
//!     let leases = Arc::new(InMemoryLeases::new(conformance::TTL));
//!     Fixture::pair(leases.clone(), leases)
//! });
//! ```

use std::sync::Arc;
use std::time::Duration;

use super::{LeaseError, LeaseStore};
pub use crate::realtime::conformance::{Fixture, Teardown, run_guarded};

/// The TTL every backend under test must be built with.
pub const TTL: Duration = Duration::from_secs(1);

/// How long after the TTL a store may take to let a lease go (servers
/// expire entries on a timer of their own).
const EXPIRY_SLACK: Duration = Duration::from_millis(2500);

type Store = Arc<dyn LeaseStore>;

/// Runs the case named `case` on `fixture`, then its teardown.
pub async fn run(case: &str, fixture: Fixture<dyn LeaseStore>) {
    let (a, b) = (fixture.first(), fixture.second());
    let case = case.to_owned();
    run_guarded(fixture, async move {
        match case.as_str() {
            "one_holder_at_a_time" => one_holder_at_a_time(a, b).await,
            "renewal_keeps_the_lease" => renewal_keeps_the_lease(a, b).await,
            "release_frees_at_once" => release_frees_at_once(a, b).await,
            "unrenewed_lease_expires" => unrenewed_lease_expires(a, b).await,
            "stale_lease_cannot_renew_or_release" => stale_lease_cannot_renew_or_release(a, b).await,
            "names_are_independent" => names_are_independent(a, b).await,
            "racing_acquirers_one_wins" => racing_acquirers_one_wins(a, b).await,
            other => panic!("no lease store conformance case named {other}"),
        }
    })
    .await;
}

fn unique(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::now_v7().simple())
}

async fn one_holder_at_a_time(a: Store, b: Store) {
    let name = unique("documents");
    let lease = a
        .try_acquire(&name, "node-a")
        .await
        .expect("acquire")
        .expect("free lease");
    assert_eq!(
        (lease.name.as_str(), lease.holder.as_str()),
        (name.as_str(), "node-a")
    );
    assert_eq!(b.try_acquire(&name, "node-b").await.expect("acquire"), None);
    assert_eq!(
        a.try_acquire(&name, "node-a").await.expect("acquire"),
        None,
        "not re-entrant"
    );
    assert_eq!(b.holder(&name).await.expect("holder").as_deref(), Some("node-a"));
}

async fn renewal_keeps_the_lease(a: Store, b: Store) {
    let name = unique("search");
    let mut lease = a
        .try_acquire(&name, "node-a")
        .await
        .expect("acquire")
        .expect("free");
    for _ in 0..4 {
        tokio::time::sleep(TTL / 2).await;
        let renewed = a.renew(&lease).await.expect("renew within the TTL");
        assert_ne!(renewed.token, lease.token, "a renewal is a new grant");
        lease = renewed;
        assert_eq!(b.try_acquire(&name, "node-b").await.expect("acquire"), None);
    }
    assert_eq!(b.holder(&name).await.expect("holder").as_deref(), Some("node-a"));
}

async fn release_frees_at_once(a: Store, b: Store) {
    let name = unique("channels");
    let lease = a
        .try_acquire(&name, "node-a")
        .await
        .expect("acquire")
        .expect("free");
    a.release(&lease).await.expect("release");
    assert_eq!(b.holder(&name).await.expect("holder"), None);
    let taken = b.try_acquire(&name, "node-b").await.expect("acquire");
    assert_eq!(taken.map(|l| l.holder), Some("node-b".to_owned()));
    a.release(&lease).await.expect("releasing again is a no-op");
    assert_eq!(a.holder(&name).await.expect("holder").as_deref(), Some("node-b"));
}

async fn unrenewed_lease_expires(a: Store, b: Store) {
    let name = unique("extraction");
    let lease = a
        .try_acquire(&name, "node-a")
        .await
        .expect("acquire")
        .expect("free");
    let deadline = tokio::time::Instant::now() + TTL + EXPIRY_SLACK;
    let successor = loop {
        if let Some(taken) = b.try_acquire(&name, "node-b").await.expect("acquire") {
            break taken;
        }
        assert!(tokio::time::Instant::now() < deadline, "the lease never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(successor.holder, "node-b");
    assert!(matches!(a.renew(&lease).await, Err(LeaseError::Lost(_))));
}

async fn stale_lease_cannot_renew_or_release(a: Store, b: Store) {
    let name = unique("notices");
    let first = a
        .try_acquire(&name, "node-a")
        .await
        .expect("acquire")
        .expect("free");
    let second = a.renew(&first).await.expect("renew");
    assert!(
        matches!(a.renew(&first).await, Err(LeaseError::Lost(_))),
        "old token"
    );
    a.release(&first).await.expect("stale release is a no-op");
    assert_eq!(b.holder(&name).await.expect("holder").as_deref(), Some("node-a"));
    assert_eq!(b.try_acquire(&name, "node-b").await.expect("acquire"), None);
    a.renew(&second).await.expect("the current token still renews");
}

async fn names_are_independent(a: Store, b: Store) {
    let (one, two) = (unique("documents"), unique("channels"));
    let held = a
        .try_acquire(&one, "node-a")
        .await
        .expect("acquire")
        .expect("free");
    let other = b
        .try_acquire(&two, "node-b")
        .await
        .expect("acquire")
        .expect("free");
    assert_eq!(a.holder(&two).await.expect("holder").as_deref(), Some("node-b"));
    a.release(&held).await.expect("release");
    assert_eq!(b.holder(&two).await.expect("holder").as_deref(), Some("node-b"));
    b.renew(&other).await.expect("unaffected by the other name");
}

async fn racing_acquirers_one_wins(a: Store, b: Store) {
    let name = unique("race");
    let attempts = (0..16).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let name = name.clone();
        tokio::spawn(async move { store.try_acquire(&name, &format!("node-{i}")).await })
    });
    let mut winners = Vec::new();
    for attempt in attempts {
        if let Some(lease) = attempt.await.expect("task").expect("acquire") {
            winners.push(lease.holder);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner: {winners:?}");
    assert_eq!(a.holder(&name).await.expect("holder"), Some(winners.remove(0)));
}

/// Generates one `#[tokio::test]` per case; `$factory` returns a future of
/// a `Fixture<dyn LeaseStore>` built with [`TTL`].
#[macro_export]
macro_rules! lease_store_conformance {
    ($factory:expr) => {
        $crate::lease_store_conformance!(@cases $factory;
            one_holder_at_a_time,
            renewal_keeps_the_lease,
            release_frees_at_once,
            unrenewed_lease_expires,
            stale_lease_cannot_renew_or_release,
            names_are_independent,
            racing_acquirers_one_wins,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = ($factory)().await;
                $crate::lease::conformance::run(stringify!($case), fixture).await;
            }
        )+
    };
}
