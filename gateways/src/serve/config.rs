//! `quire.toml`: the configuration of `quire serve`, read from a file and
//! overridden by environment variables, rejected at start if it has unknown
//! keys or values a role cannot run with.
//!
//! Every key lives in a section. `QUIRE_<SECTION>__<KEY>` overrides
//! `<section>.<key>` (e.g. `QUIRE_POSTGRES__URL`, `QUIRE_AUTH__TOKEN_SECRET`);
//! variables without the `__` (`QUIRE_SERVER`, `QUIRE_TOKEN`, the client's)
//! are not configuration and are ignored here. Defaults suit the services
//! of a development machine (NATS, PostgreSQL and Redis on 127.0.0.1).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

/// What a process of the fleet does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// gRPC and HTTP edges: commands, queries, streams.
    Gateway,
    /// The read models' projectors (one process at a time each, by lease).
    Projector,
    /// Process managers: text extraction of uploads.
    Worker,
    /// All three in one process.
    All,
}

impl Role {
    pub fn serves_clients(self) -> bool {
        matches!(self, Role::Gateway | Role::All)
    }
    pub fn runs_projectors(self) -> bool {
        matches!(self, Role::Projector | Role::All)
    }
    pub fn runs_workers(self) -> bool {
        matches!(self, Role::Worker | Role::All)
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    pub node: NodeSection,
    pub grpc: GrpcSection,
    pub http: HttpSection,
    pub auth: AuthSection,
    pub nats: NatsSection,
    pub postgres: PostgresSection,
    pub redis: RedisSection,
    pub blobs: BlobsSection,
    pub fleet: FleetSection,
}

/// `[node]`: this process.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSection {
    /// Name in leases, logs and NATS connections; default `<host>-<pid>`.
    pub name: Option<String>,
}

/// `[grpc]`: the gRPC listener (gateways).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcSection {
    pub listen: String,
}

impl Default for GrpcSection {
    fn default() -> Self {
        GrpcSection {
            listen: "127.0.0.1:50051".to_owned(),
        }
    }
}

/// `[http]`: the blob endpoint behind signed URLs (gateways).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    pub listen: String,
    /// The base of signed URLs as clients reach it (a load balancer's
    /// address); default `http://<listen>`.
    pub public_url: Option<String>,
    /// Largest upload through a signed URL, in bytes.
    pub max_upload_bytes: u64,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            listen: "127.0.0.1:50052".to_owned(),
            public_url: None,
            max_upload_bytes: 1 << 30,
        }
    }
}

/// `[auth]`: the shared secrets of every gateway (at least 32 bytes each).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// HS256 secret of bearer tokens.
    pub token_secret: Option<String>,
    /// Or a file holding it.
    pub token_secret_file: Option<PathBuf>,
    /// HMAC secret of signed blob URLs.
    pub url_secret: Option<String>,
    /// Or a file holding it.
    pub url_secret_file: Option<PathBuf>,
}

/// `[nats]`: the event log (a JetStream stream) and the bus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsSection {
    pub servers: Vec<String>,
    pub stream: String,
    pub subject_prefix: String,
    /// Replicas of the stream: 1 on one server, 3 in production.
    pub replicas: usize,
    /// `file` or `memory`.
    pub storage: String,
    /// How long the server remembers message ids for deduplication.
    pub duplicate_window_secs: u64,
    /// Appends a process keeps awaiting their acknowledgement at once (the
    /// log writer's pipeline window, 1 to 4,096). Wider lets one process
    /// append faster; under heavy contention between processes, each lost
    /// race sends back more appends to plan again (ADR 0008).
    pub max_in_flight: usize,
}

impl Default for NatsSection {
    fn default() -> Self {
        NatsSection {
            servers: vec!["nats://127.0.0.1:4222".to_owned()],
            stream: "QUIRE_EVENTS".to_owned(),
            subject_prefix: "quire.events".to_owned(),
            replicas: 1,
            storage: "file".to_owned(),
            duplicate_window_secs: 120,
            max_in_flight: 256,
        }
    }
}

/// `[postgres]`: the relational read models and the search index.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresSection {
    pub url: String,
    pub read_models_schema: String,
    pub search_schema: String,
    pub max_connections: u32,
    /// Transactions a long channels batch (catching up, a rebuild) is split
    /// into, by channel, side by side (ADR 0013); at most `max_connections`.
    pub catch_up_partitions: u32,
}

impl Default for PostgresSection {
    fn default() -> Self {
        PostgresSection {
            url: "postgres://postgres@127.0.0.1:5432/test".to_owned(),
            read_models_schema: "quire_read_models".to_owned(),
            search_schema: "quire_search".to_owned(),
            max_connections: 8,
            catch_up_partitions: 2,
        }
    }
}

/// `[redis]`: the fan-out of message notices between gateways.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSection {
    pub url: String,
    /// Prefix of every key and pub/sub channel, so fleets can share a
    /// server.
    pub key_prefix: String,
}

impl Default for RedisSection {
    fn default() -> Self {
        RedisSection {
            url: "redis://127.0.0.1:6379".to_owned(),
            key_prefix: "quire".to_owned(),
        }
    }
}

/// `[blobs]`: uploaded files, in a directory every gateway and worker
/// shares (a network file system across hosts).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlobsSection {
    pub dir: Option<PathBuf>,
}

/// `[fleet]`: leases and progress between the processes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetSection {
    pub lease_bucket: String,
    /// How long a dead holder keeps its projectors before another process
    /// takes over.
    pub lease_ttl_ms: u64,
    pub subject_prefix: String,
    pub heartbeat_ms: u64,
}

impl Default for FleetSection {
    fn default() -> Self {
        FleetSection {
            lease_bucket: "QUIRE_LEASES".to_owned(),
            lease_ttl_ms: 5000,
            subject_prefix: "quire.fleet".to_owned(),
            heartbeat_ms: 1000,
        }
    }
}

/// The configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading the configuration: {0}")]
    Read(String),
    #[error("configuration key {key}: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("configuration key {key} is required for role {role}")]
    Missing { key: &'static str, role: &'static str },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

impl ServeConfig {
    /// Reads `path` (if given) and the `QUIRE_<SECTION>__<KEY>` variables.
    pub fn load(path: Option<&Path>) -> Result<ServeConfig, ConfigError> {
        Self::load_with(path, Env::prefixed("QUIRE_"))
    }

    fn load_with(path: Option<&Path>, env: Env) -> Result<ServeConfig, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = path {
            if !path.is_file() {
                return Err(ConfigError::Read(format!(
                    "no configuration file at {}",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        // After `split`, a sectioned variable's key holds a dot; the
        // client's own variables (`QUIRE_SERVER`) do not and are skipped.
        let env = env.split("__").filter(|key| key.as_str().contains('.'));
        figment
            .merge(env)
            .extract()
            .map_err(|error| ConfigError::Read(error.to_string()))
    }

    /// Checks what `role` needs, before anything connects.
    pub fn validate(&self, role: Role) -> Result<(), ConfigError> {
        let role_name = role_name(role);
        if role.serves_clients() {
            parse_addr("grpc.listen", &self.grpc.listen)?;
            parse_addr("http.listen", &self.http.listen)?;
            self.token_secret(role)?;
            self.url_secret(role)?;
        }
        if (role.serves_clients() || role.runs_workers()) && self.blobs.dir.is_none() {
            return Err(ConfigError::Missing {
                key: "blobs.dir",
                role: role_name,
            });
        }
        if self.nats.servers.is_empty() {
            return Err(invalid("nats.servers", "at least one server"));
        }
        if !matches!(self.nats.storage.as_str(), "file" | "memory") {
            return Err(invalid("nats.storage", "`file` or `memory`"));
        }
        if !(1..=4096).contains(&self.nats.max_in_flight) {
            return Err(invalid("nats.max_in_flight", "from 1 to 4096"));
        }
        if self.fleet.lease_ttl_ms < 1000 {
            return Err(invalid("fleet.lease_ttl_ms", "at least 1000"));
        }
        if self.fleet.heartbeat_ms == 0 || self.fleet.heartbeat_ms >= self.fleet.lease_ttl_ms {
            return Err(invalid(
                "fleet.heartbeat_ms",
                "above 0 and below fleet.lease_ttl_ms",
            ));
        }
        if !self.postgres.url.starts_with("postgres://") && !self.postgres.url.starts_with("postgresql://") {
            return Err(invalid("postgres.url", "a postgres:// URL"));
        }
        if self.postgres.max_connections == 0 {
            return Err(invalid("postgres.max_connections", "at least 1"));
        }
        if !(1..=self.postgres.max_connections.min(64)).contains(&self.postgres.catch_up_partitions) {
            return Err(invalid(
                "postgres.catch_up_partitions",
                "from 1 to postgres.max_connections (at most 64)",
            ));
        }
        if !self.redis.url.starts_with("redis://") && !self.redis.url.starts_with("rediss://") {
            return Err(invalid("redis.url", "a redis:// URL"));
        }
        Ok(())
    }

    /// This process's name.
    pub fn node_name(&self, role: Role) -> String {
        self.node.name.clone().unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "quire".to_owned());
            format!("{host}-{}-{}", role_name(role), std::process::id())
        })
    }

    pub fn lease_ttl(&self) -> Duration {
        Duration::from_millis(self.fleet.lease_ttl_ms)
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.fleet.heartbeat_ms)
    }

    /// The bearer-token secret.
    pub fn token_secret(&self, role: Role) -> Result<Vec<u8>, ConfigError> {
        secret(
            "auth.token_secret",
            &self.auth.token_secret,
            &self.auth.token_secret_file,
            role,
        )
    }

    /// The signed-URL secret.
    pub fn url_secret(&self, role: Role) -> Result<Vec<u8>, ConfigError> {
        secret(
            "auth.url_secret",
            &self.auth.url_secret,
            &self.auth.url_secret_file,
            role,
        )
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Gateway => "gateway",
        Role::Projector => "projector",
        Role::Worker => "worker",
        Role::All => "all",
    }
}

fn parse_addr(key: &'static str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.parse()
        .map_err(|e| invalid(key, format!("`{text}` is not a host:port address: {e}")))
}

fn secret(
    key: &'static str,
    inline: &Option<String>,
    file: &Option<PathBuf>,
    role: Role,
) -> Result<Vec<u8>, ConfigError> {
    let bytes = match (inline, file) {
        (Some(_), Some(_)) => return Err(invalid(key, "set the secret or its file, not both")),
        (Some(text), None) => text.as_bytes().to_vec(),
        (None, Some(path)) => std::fs::read(path)
            .map_err(|e| invalid(key, format!("reading {}: {e}", path.display())))?
            .trim_ascii()
            .to_vec(),
        (None, None) => {
            return Err(ConfigError::Missing {
                key,
                role: role_name(role),
            });
        }
    };
    if bytes.len() < 32 {
        return Err(invalid(key, "at least 32 bytes"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write");
        file
    }

    const SECRETS: &str = r#"
        [auth]
        token_secret = "0123456789abcdef0123456789abcdef"
        url_secret = "fedcba9876543210fedcba9876543210"
        [blobs]
        dir = "/tmp/quire-blobs"
    "#;

    fn no_env() -> Env {
        Env::prefixed("QUIRE_TEST_NOTHING_SET_")
    }

    #[test]
    fn a_minimal_file_with_defaults_is_valid_for_every_role() {
        let file = write(SECRETS);
        let config = ServeConfig::load_with(Some(file.path()), no_env()).expect("load");
        for role in [Role::Gateway, Role::Projector, Role::Worker, Role::All] {
            config.validate(role).expect("valid");
        }
        assert_eq!(config.nats.servers, vec!["nats://127.0.0.1:4222"]);
        assert_eq!(config.lease_ttl(), Duration::from_secs(5));
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let file = write("[postgres]\nurll = \"postgres://x\"\n");
        let error = ServeConfig::load_with(Some(file.path()), no_env()).expect_err("unknown key");
        assert!(error.to_string().contains("urll"), "{error}");
        let file = write("[postgress]\nurl = \"postgres://x\"\n");
        let error = ServeConfig::load_with(Some(file.path()), no_env()).expect_err("unknown section");
        assert!(error.to_string().contains("postgress"), "{error}");
    }

    #[test]
    fn missing_secrets_and_blob_dir_name_the_key_and_role() {
        let config = ServeConfig::default();
        let error = config.validate(Role::Gateway).expect_err("no secret");
        assert_eq!(
            error.to_string(),
            "configuration key auth.token_secret is required for role gateway"
        );
        let error = config.validate(Role::Worker).expect_err("no blob dir");
        assert_eq!(
            error.to_string(),
            "configuration key blobs.dir is required for role worker"
        );
        config
            .validate(Role::Projector)
            .expect("a projector needs neither");
    }

    #[test]
    fn bad_values_are_named() {
        let file = write(&format!("{SECRETS}\n[grpc]\nlisten = \"nowhere\"\n"));
        let config = ServeConfig::load_with(Some(file.path()), no_env()).expect("load");
        let error = config.validate(Role::Gateway).expect_err("bad address");
        assert!(
            error.to_string().starts_with("configuration key grpc.listen"),
            "{error}"
        );
        let mut config = ServeConfig::default();
        config.fleet.lease_ttl_ms = 10;
        let error = config.validate(Role::Projector).expect_err("ttl");
        assert!(error.to_string().contains("fleet.lease_ttl_ms"), "{error}");
        let mut config = ServeConfig::default();
        config.nats.max_in_flight = 0;
        let error = config.validate(Role::Projector).expect_err("window");
        assert!(error.to_string().contains("nats.max_in_flight"), "{error}");
        for partitions in [0, 9] {
            let mut config = ServeConfig::default();
            config.postgres.catch_up_partitions = partitions;
            let error = config.validate(Role::Projector).expect_err("partitions");
            assert!(
                error.to_string().contains("postgres.catch_up_partitions"),
                "{error}"
            );
        }
        let file = write("[auth]\ntoken_secret = \"short\"\n");
        let config = ServeConfig::load_with(Some(file.path()), no_env()).expect("load");
        assert!(config.token_secret(Role::Gateway).is_err());
    }

    /// The reference configuration in docs/fleet.md: every key it shows
    /// exists, and its values are valid.
    #[test]
    fn the_documented_configuration_loads() {
        let doc = include_str!("../../../docs/fleet.md");
        let start = doc.find("```toml\n").expect("a toml block in docs/fleet.md") + "```toml\n".len();
        let end = start + doc[start..].find("```").expect("the block ends");
        let file = write(&doc[start..end]);
        let config = ServeConfig::load_with(Some(file.path()), no_env()).expect("the documented keys load");
        config.validate(Role::Projector).expect("valid for a projector");
        assert_eq!(config.node.name.as_deref(), Some("gateway-a"));
        assert_eq!(config.fleet.lease_ttl_ms, 5000);
        assert_eq!(config.redis.key_prefix, "quire");
        assert_eq!(config.nats.max_in_flight, 256);
        assert_eq!(config.postgres.catch_up_partitions, 2);
    }

    #[test]
    // figment's `Jail` closure returns figment's own (large) error type.
    #[allow(clippy::result_large_err)]
    fn environment_overrides_the_file_and_ignores_client_variables() {
        let file = write(SECRETS);
        figment::Jail::expect_with(|jail| {
            jail.set_env("QUIRE_POSTGRES__URL", "postgres://db.internal:5432/quire");
            jail.set_env("QUIRE_FLEET__LEASE_TTL_MS", "3000");
            jail.set_env("QUIRE_SERVER", "http://127.0.0.1:50051");
            jail.set_env("QUIRE_TOKEN", "abc");
            let config = ServeConfig::load(Some(file.path())).expect("load");
            assert_eq!(config.postgres.url, "postgres://db.internal:5432/quire");
            assert_eq!(config.fleet.lease_ttl_ms, 3000);
            jail.set_env("QUIRE_POSTGRES__URLL", "x");
            assert!(
                ServeConfig::load(Some(file.path())).is_err(),
                "unknown key from the environment"
            );
            Ok(())
        });
    }
}
