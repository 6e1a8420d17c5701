//! [`NatsLeases`]: the [`LeaseStore`] port on a JetStream key-value bucket.
//!
//! The bucket keeps one revision per key and expires entries `lease_ttl`
//! after their last write (`max_age`), so the server, not a holder's clock,
//! decides when a lease is free. The value is the holder's name and the
//! lease's token is the key's revision:
//! - acquire: create the key (fails if present);
//! - renew: update expecting the revision held (fails if it changed or the
//!   key expired);
//! - release: delete expecting the revision held.

use std::time::Duration;

use async_nats::jetstream::kv::{CreateErrorKind, Operation, Store, UpdateErrorKind};
use async_nats::jetstream::stream;
use async_trait::async_trait;
use bytes::Bytes;
use quire_projections::lease::{Lease, LeaseError, LeaseStore};
use tracing::warn;

use crate::config::CoordinationConfig;
use crate::connect::CoordinationError;

/// Leases in a JetStream key-value bucket.
#[derive(Debug, Clone)]
pub struct NatsLeases {
    store: Store,
    ttl: Duration,
}

impl NatsLeases {
    /// Creates the bucket if missing, on an open client. An existing
    /// bucket is used as it is; a TTL other than the configured one is
    /// logged (the bucket's own `max_age` decides expiry).
    pub async fn open(
        client: async_nats::Client,
        config: &CoordinationConfig,
    ) -> Result<NatsLeases, CoordinationError> {
        let jetstream = async_nats::jetstream::new(client);
        let failed = |message: String| CoordinationError::Bucket {
            bucket: config.lease_bucket.clone(),
            servers: config.servers.join(","),
            message,
        };
        // The bucket's stream is created here rather than with
        // `create_key_value`, whose account query nats-server 2.9 answers
        // in a shape the client does not read.
        let stream = jetstream
            .get_or_create_stream(bucket_stream(config))
            .await
            .map_err(|e| failed(e.to_string()))?;
        let ttl = stream.cached_info().config.max_age;
        if ttl != config.lease_ttl {
            warn!(bucket = %config.lease_bucket, ?ttl, configured = ?config.lease_ttl, "lease bucket keeps its own TTL");
        }
        let store = jetstream
            .get_key_value(&config.lease_bucket)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(NatsLeases { store, ttl })
    }
}

/// The stream behind a key-value bucket, as the client library lays it out
/// (one message per key, roll-ups, direct gets).
fn bucket_stream(config: &CoordinationConfig) -> stream::Config {
    stream::Config {
        name: format!("KV_{}", config.lease_bucket),
        description: Some("Quire projector leases".to_owned()),
        subjects: vec![format!("$KV.{}.>", config.lease_bucket)],
        max_messages_per_subject: 1,
        max_age: config.lease_ttl,
        storage: stream::StorageType::File,
        num_replicas: config.replicas.max(1),
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    }
}

/// Keys may hold letters, digits, `-`, `_`, `/`, `=` and `.`; projector
/// names are letters, digits, `-`, `_`, `.`, and `@` separates the version.
fn key(name: &str) -> Result<String, LeaseError> {
    let key = name.replace('@', "=");
    let valid = !key.is_empty()
        && !key.starts_with('.')
        && !key.ends_with('.')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '=' | '.'));
    valid
        .then_some(key)
        .ok_or_else(|| LeaseError::InvalidName(name.to_owned()))
}

fn unavailable(what: &str, error: impl std::fmt::Display) -> LeaseError {
    LeaseError::Unavailable(format!("{what}: {error}"))
}

#[async_trait]
impl LeaseStore for NatsLeases {
    fn ttl(&self) -> Duration {
        self.ttl
    }

    async fn try_acquire(&self, name: &str, holder: &str) -> Result<Option<Lease>, LeaseError> {
        let value = Bytes::copy_from_slice(holder.as_bytes());
        match self.store.create(key(name)?, value).await {
            Ok(revision) => Ok(Some(Lease {
                name: name.to_owned(),
                holder: holder.to_owned(),
                token: revision,
            })),
            Err(error) if error.kind() == CreateErrorKind::AlreadyExists => Ok(None),
            Err(error) => Err(unavailable("acquiring a lease", error)),
        }
    }

    async fn renew(&self, lease: &Lease) -> Result<Lease, LeaseError> {
        let value = Bytes::copy_from_slice(lease.holder.as_bytes());
        match self.store.update(key(&lease.name)?, value, lease.token).await {
            Ok(revision) => Ok(Lease {
                token: revision,
                ..lease.clone()
            }),
            Err(error) if error.kind() == UpdateErrorKind::WrongLastRevision => {
                Err(LeaseError::Lost(lease.name.clone()))
            }
            Err(error) => Err(unavailable("renewing a lease", error)),
        }
    }

    async fn release(&self, lease: &Lease) -> Result<(), LeaseError> {
        match self
            .store
            .delete_expect_revision(key(&lease.name)?, Some(lease.token))
            .await
        {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == UpdateErrorKind::TimedOut => {
                Err(unavailable("releasing a lease", error))
            }
            // The server refused the delete because the key moved on (a
            // stale token): the current holder keeps its lease, which is
            // what releasing a lease no longer held must do.
            Err(_) => Ok(()),
        }
    }

    async fn holder(&self, name: &str) -> Result<Option<String>, LeaseError> {
        let entry = self
            .store
            .entry(key(name)?)
            .await
            .map_err(|e| unavailable("reading a lease", e))?;
        Ok(entry
            .filter(|entry| entry.operation == Operation::Put)
            .map(|entry| String::from_utf8_lossy(&entry.value).into_owned()))
    }
}
