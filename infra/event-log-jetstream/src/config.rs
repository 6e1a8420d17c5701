//! Configuration of the JetStream event log: where NATS is, which JetStream
//! stream holds the log, how that stream is created, and the client's limits.

use std::time::Duration;

/// How the JetStream stream keeps its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// On disk (the default; what production uses).
    File,
    /// In memory only: lost when the server stops. For tests and demos.
    Memory,
}

/// Everything the JetStream log needs to connect and to create its stream.
///
/// The stream settings (`replicas`, `storage`, `max_age`,
/// `duplicate_window`) apply when the log creates the stream; an existing
/// stream is used as it is (a mismatch is logged, not changed).
#[derive(Debug, Clone)]
pub struct JetStreamLogConfig {
    /// NATS server URLs, e.g. `nats://127.0.0.1:4222`; several for a cluster.
    pub servers: Vec<String>,
    /// Name of the JetStream stream holding the whole log.
    pub stream_name: String,
    /// Subject prefix: events of stream `<category>-<id>` go to
    /// `<prefix>.<category>.<category>-<id>`.
    pub subject_prefix: String,
    /// Replicas of the stream: 1 in development, 3 in production.
    pub replicas: usize,
    pub storage: Storage,
    /// Age after which the server deletes messages; `None` keeps them for
    /// ever, which an event log (the only source of truth) should.
    pub max_age: Option<Duration>,
    /// How long the server remembers a message id (`Nats-Msg-Id`) to drop a
    /// retried append.
    pub duplicate_window: Duration,
    /// Time allowed to establish the first connection.
    pub connect_timeout: Duration,
    /// Wait for one JetStream API reply or publish acknowledgement.
    pub request_timeout: Duration,
    /// How long one append keeps retrying through disconnects before it
    /// fails with `LogError::Unavailable`.
    pub append_timeout: Duration,
    /// Longest pause between two reconnect attempts.
    pub max_reconnect_delay: Duration,
    /// Appends awaiting their acknowledgement at once (the writer's
    /// pipeline window).
    pub max_in_flight: usize,
    /// Largest accepted encoded event.
    pub max_event_bytes: usize,
    /// Streams whose last version and subject sequence the writer caches.
    pub stream_cache_capacity: usize,
    /// The client name the server shows for this connection.
    pub client_name: String,
}

/// A configuration value that cannot work; the text names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidConfig(pub String);

impl JetStreamLogConfig {
    pub const DEFAULT_STREAM_NAME: &'static str = "QUIRE_EVENTS";
    pub const DEFAULT_SUBJECT_PREFIX: &'static str = "quire.events";
    /// Replicas a production deployment should use.
    pub const PRODUCTION_REPLICAS: usize = 3;

    /// Defaults for a log on the given servers (R1, file storage).
    pub fn new<S: Into<String>>(servers: impl IntoIterator<Item = S>) -> JetStreamLogConfig {
        JetStreamLogConfig {
            servers: servers.into_iter().map(Into::into).collect(),
            stream_name: Self::DEFAULT_STREAM_NAME.to_owned(),
            subject_prefix: Self::DEFAULT_SUBJECT_PREFIX.to_owned(),
            replicas: 1,
            storage: Storage::File,
            max_age: None,
            duplicate_window: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            append_timeout: Duration::from_secs(30),
            max_reconnect_delay: Duration::from_secs(2),
            max_in_flight: 256,
            max_event_bytes: 1 << 20,
            stream_cache_capacity: 65_536,
            client_name: "quire-event-log".to_owned(),
        }
    }

    /// The servers as one comma-separated text, for messages.
    pub fn servers_text(&self) -> String {
        self.servers.join(",")
    }

    /// Checks every setting; `Err` names the first offending one.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        if self.servers.is_empty() || self.servers.iter().any(|s| s.trim().is_empty()) {
            return Err(InvalidConfig(
                "servers must list at least one NATS URL".to_owned(),
            ));
        }
        check_stream_name(&self.stream_name)?;
        check_subject_prefix(&self.subject_prefix)?;
        check_range("replicas", self.replicas, 1, 5)?;
        check_range("max_in_flight", self.max_in_flight, 1, 4096)?;
        check_range("max_event_bytes", self.max_event_bytes, 1, 64 << 20)?;
        check_range("stream_cache_capacity", self.stream_cache_capacity, 1, usize::MAX)?;
        self.check_durations()
    }

    fn check_durations(&self) -> Result<(), InvalidConfig> {
        let named = [
            ("duplicate_window", self.duplicate_window),
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
            ("append_timeout", self.append_timeout),
            ("max_reconnect_delay", self.max_reconnect_delay),
        ];
        if let Some((name, _)) = named.iter().find(|(_, d)| d.is_zero()) {
            return Err(InvalidConfig(format!("{name} must be more than zero")));
        }
        if self.max_age.is_some_and(|age| age < self.duplicate_window) {
            return Err(InvalidConfig(
                "max_age must be at least the duplicate_window".to_owned(),
            ));
        }
        Ok(())
    }
}

fn check_range(name: &str, value: usize, min: usize, max: usize) -> Result<(), InvalidConfig> {
    if value < min || value > max {
        return Err(InvalidConfig(format!(
            "{name} must be between {min} and {max}, not {value}"
        )));
    }
    Ok(())
}

/// JetStream stream names become subject tokens and file names.
fn check_stream_name(name: &str) -> Result<(), InvalidConfig> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(InvalidConfig(format!(
            "stream_name `{name}` must be 1 to 64 ASCII letters, digits, `_` or `-`"
        )));
    }
    Ok(())
}

/// The prefix is one or more literal subject tokens.
fn check_subject_prefix(prefix: &str) -> Result<(), InvalidConfig> {
    let token_ok = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if prefix.len() > 128 || !prefix.split('.').all(token_ok) {
        return Err(InvalidConfig(format!(
            "subject_prefix `{prefix}` must be dot-separated tokens of ASCII letters, digits, `_` or `-`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> JetStreamLogConfig {
        JetStreamLogConfig::new(["nats://127.0.0.1:4222"])
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(config().validate(), Ok(()));
        assert_eq!(config().servers_text(), "nats://127.0.0.1:4222");
    }

    type Change = Box<dyn Fn(&mut JetStreamLogConfig)>;

    #[test]
    fn rejects_each_bad_setting() {
        let cases: Vec<(&str, Change)> = vec![
            ("servers", Box::new(|c| c.servers.clear())),
            ("stream_name", Box::new(|c| c.stream_name = "a.b".to_owned())),
            ("stream_name", Box::new(|c| c.stream_name = String::new())),
            (
                "subject_prefix",
                Box::new(|c| c.subject_prefix = "quire.>".to_owned()),
            ),
            (
                "subject_prefix",
                Box::new(|c| c.subject_prefix = "quire..x".to_owned()),
            ),
            ("replicas", Box::new(|c| c.replicas = 0)),
            ("replicas", Box::new(|c| c.replicas = 7)),
            ("max_in_flight", Box::new(|c| c.max_in_flight = 0)),
            (
                "request_timeout",
                Box::new(|c| c.request_timeout = Duration::ZERO),
            ),
            ("max_age", Box::new(|c| c.max_age = Some(Duration::from_secs(1)))),
        ];
        for (name, change) in cases {
            let mut config = config();
            change(&mut config);
            let error = config.validate().expect_err(name);
            assert!(error.0.contains(name), "{error} should name {name}");
        }
    }
}
