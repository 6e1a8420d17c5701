//! The [`Presence`] cases: heartbeats, offline marks, TTL expiry, renewal,
//! state shared between instances.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use quire_domain::UserId;

use super::{Fixture, run_guarded, user};
use crate::realtime::{GatewayId, Presence};

const LONG: Duration = Duration::from_secs(30);

/// Runs the named case against `fixture`.
pub async fn run(case: &str, fixture: Fixture<dyn Presence>) {
    let (a, b) = (fixture.first(), fixture.second());
    let case = case.to_owned();
    run_guarded(fixture, async move {
        match case.as_str() {
            "heartbeat_then_online" => heartbeat_then_online(a).await,
            "offline_on_one_gateway_keeps_the_other" => offline_on_one_gateway_keeps_the_other(a, b).await,
            "ttl_expires_a_dead_gateway" => ttl_expires_a_dead_gateway(a, b).await,
            "heartbeat_renews" => heartbeat_renews(a).await,
            "instances_share_state" => instances_share_state(a, b).await,
            other => panic!("unknown presence conformance case {other}"),
        }
    })
    .await;
}

fn gateway(name: &str) -> GatewayId {
    GatewayId::new(name)
}

async fn online(presence: &Arc<dyn Presence>, users: &[&str]) -> BTreeSet<UserId> {
    let users: Vec<UserId> = users.iter().map(|id| user(id)).collect();
    presence.online(&users).await.expect("online")
}

fn set(users: &[&str]) -> BTreeSet<UserId> {
    users.iter().map(|id| user(id)).collect()
}

async fn beat(presence: &Arc<dyn Presence>, id: &str, gateway_name: &str, ttl: Duration) {
    presence
        .heartbeat(&user(id), &gateway(gateway_name), ttl)
        .await
        .expect("heartbeat");
}

async fn heartbeat_then_online(a: Arc<dyn Presence>) {
    assert_eq!(online(&a, &["ann", "bob"]).await, set(&[]));
    beat(&a, "ann", "g1", LONG).await;
    beat(&a, "ann", "g1", LONG).await;
    assert_eq!(online(&a, &["ann", "bob"]).await, set(&["ann"]));
    assert_eq!(online(&a, &["bob"]).await, set(&[]));
    assert_eq!(online(&a, &[]).await, set(&[]));
}

async fn offline_on_one_gateway_keeps_the_other(a: Arc<dyn Presence>, b: Arc<dyn Presence>) {
    beat(&a, "ann", "g1", LONG).await;
    beat(&b, "ann", "g2", LONG).await;
    beat(&b, "bob", "g2", LONG).await;
    a.offline(&user("ann"), &gateway("g1")).await.expect("offline");
    assert_eq!(online(&a, &["ann", "bob"]).await, set(&["ann", "bob"]));
    b.offline(&user("ann"), &gateway("g2")).await.expect("offline");
    assert_eq!(online(&a, &["ann", "bob"]).await, set(&["bob"]));
    a.offline(&user("nobody"), &gateway("g1"))
        .await
        .expect("offline of an unknown user");
}

async fn ttl_expires_a_dead_gateway(a: Arc<dyn Presence>, b: Arc<dyn Presence>) {
    beat(&a, "ann", "dying", Duration::from_millis(300)).await;
    beat(&a, "cid", "dying", Duration::from_millis(300)).await;
    beat(&b, "bob", "alive", LONG).await;
    beat(&b, "cid", "alive", LONG).await;
    assert_eq!(
        online(&b, &["ann", "bob", "cid"]).await,
        set(&["ann", "bob", "cid"])
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(online(&b, &["ann", "bob", "cid"]).await, set(&["bob", "cid"]));
}

async fn heartbeat_renews(a: Arc<dyn Presence>) {
    let ttl = Duration::from_millis(600);
    beat(&a, "ann", "g1", ttl).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    beat(&a, "ann", "g1", ttl).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(online(&a, &["ann"]).await, set(&["ann"]));
}

async fn instances_share_state(a: Arc<dyn Presence>, b: Arc<dyn Presence>) {
    beat(&a, "ann", "g1", LONG).await;
    assert_eq!(online(&b, &["ann"]).await, set(&["ann"]));
    b.offline(&user("ann"), &gateway("g1")).await.expect("offline");
    assert_eq!(online(&a, &["ann"]).await, set(&[]));
}
