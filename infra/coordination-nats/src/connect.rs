//! The NATS connection of the coordination layer, and its errors.

use std::time::Duration;

use async_nats::{ConnectOptions, Event, ServerAddr};
use tracing::{debug, info, warn};

use crate::config::CoordinationConfig;

/// Coordination through NATS failed.
#[derive(Debug, thiserror::Error)]
pub enum CoordinationError {
    #[error("invalid coordination configuration: {0}")]
    Config(String),
    #[error("cannot connect to NATS at {servers}: {message}")]
    Connect { servers: String, message: String },
    #[error("cannot open the lease bucket `{bucket}` on NATS at {servers}: {message}")]
    Bucket {
        bucket: String,
        servers: String,
        message: String,
    },
}

/// Connects to NATS; the client reconnects by itself for as long as it
/// lives. Fails with an error naming the servers when none answers.
pub async fn connect(config: &CoordinationConfig) -> Result<async_nats::Client, CoordinationError> {
    let servers = config.servers.join(",");
    let addresses = config
        .servers
        .iter()
        .map(|s| s.parse::<ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CoordinationError::Config(format!("servers: {e}")))?;
    let named = servers.clone();
    ConnectOptions::new()
        .name(&config.client_name)
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(config.request_timeout))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| Duration::from_millis(10 << attempts.clamp(1, 8)))
        .event_callback(move |event| {
            let servers = named.clone();
            async move { log_event(&servers, &event) }
        })
        .connect(addresses)
        .await
        .map_err(|e| CoordinationError::Connect {
            servers,
            message: e.to_string(),
        })
}

fn log_event(servers: &str, event: &Event) {
    match event {
        Event::Connected => info!(servers, "coordination reconnected to NATS"),
        Event::Disconnected => warn!(servers, "coordination lost its NATS connection; reconnecting"),
        Event::Closed => debug!(servers, "coordination NATS connection closed"),
        // Every failed reconnect attempt reports one; the disconnection
        // was already logged once.
        Event::ClientError(error) => debug!(servers, %error, "coordination NATS client error"),
        other => warn!(servers, event = %other, "coordination NATS connection event"),
    }
}
