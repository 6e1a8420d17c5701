//! [`CoordinationConfig`]: where the fleet coordinates and how eagerly.

use std::time::Duration;

/// How the processes of a fleet reach each other.
#[derive(Debug, Clone)]
pub struct CoordinationConfig {
    /// NATS server URLs (`nats://host:port`).
    pub servers: Vec<String>,
    /// The JetStream key-value bucket of the leases.
    pub lease_bucket: String,
    /// How long a lease outlives its holder's last renewal. Failover takes
    /// about this long after a holder dies without releasing.
    pub lease_ttl: Duration,
    /// Replicas of the lease bucket (1 here; 3 in production).
    pub replicas: usize,
    /// Prefix of the progress and control subjects.
    pub subject_prefix: String,
    /// How often a holder publishes its projectors' full status.
    pub heartbeat_every: Duration,
    /// How long a control request waits for the holder's answer.
    pub request_timeout: Duration,
    /// The NATS client's name, as the server's monitoring shows it.
    pub client_name: String,
}

impl CoordinationConfig {
    pub const DEFAULT_BUCKET: &'static str = "QUIRE_LEASES";
    pub const DEFAULT_PREFIX: &'static str = "quire.fleet";

    pub fn new<S: Into<String>>(servers: impl IntoIterator<Item = S>) -> CoordinationConfig {
        CoordinationConfig {
            servers: servers.into_iter().map(Into::into).collect(),
            lease_bucket: Self::DEFAULT_BUCKET.to_owned(),
            lease_ttl: Duration::from_secs(5),
            replicas: 1,
            subject_prefix: Self::DEFAULT_PREFIX.to_owned(),
            heartbeat_every: Duration::from_secs(1),
            request_timeout: Duration::from_secs(30),
            client_name: "quire-coordination".to_owned(),
        }
    }

    /// The subject a projector's progress is published on.
    pub fn progress_subject(&self, projector: &str) -> String {
        format!("{}.progress.{projector}", self.subject_prefix)
    }

    /// The subject a projector's holder answers control requests on.
    pub fn control_subject(&self, projector: &str) -> String {
        format!("{}.control.{projector}", self.subject_prefix)
    }
}
