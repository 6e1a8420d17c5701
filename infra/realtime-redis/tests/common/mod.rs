//! Shared by the Redis tests: connections to 127.0.0.1:6379 under a unique
//! key prefix per test, and the teardown that deletes that prefix's keys.

#![allow(dead_code)]

use quire_projections::realtime::conformance::Teardown;
use quire_realtime_redis::RedisRealtime;

/// The server every development and CI machine runs.
pub const URL: &str = "redis://127.0.0.1:6379";

/// A prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("quire-test:{}", uuid::Uuid::now_v7())
}

/// A connection under `prefix`; fails the test (never skips) without Redis.
pub async fn connect(prefix: &str) -> RedisRealtime {
    match RedisRealtime::connect(URL, prefix).await {
        Ok(realtime) => realtime,
        Err(error) => {
            panic!("Redis is not reachable at 127.0.0.1:6379 ({error}); `scripts/services up` starts it")
        }
    }
}

/// Two connections under one fresh prefix: two gateway instances.
pub async fn two_gateways() -> (RedisRealtime, RedisRealtime) {
    let prefix = unique_prefix();
    (connect(&prefix).await, connect(&prefix).await)
}

/// Deletes the keys under `realtime`'s prefix.
pub fn teardown(realtime: RedisRealtime) -> Teardown {
    Box::new(move || {
        Box::pin(async move {
            realtime.delete_all().await.expect("delete the test's keys");
        })
    })
}

/// Deletes the keys under a prefix when dropped, for fixtures that hold a
/// guard rather than run a teardown. It connects afresh on a runtime of its
/// own: the test's runtime, whose tasks drive the test's connections, is
/// blocked while the guard drops.
pub struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let prefix = self.0.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move { connect(&prefix).await.delete_all().await })
        })
        .join()
        .expect("cleanup thread")
        .expect("delete the test's keys");
    }
}
