//! Connecting to a Quire server with a bearer token.

use anyhow::Context;
use clap::Args;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

/// Options every client subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct ClientOptions {
    /// Server address.
    #[arg(
        long,
        env = "QUIRE_SERVER",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub server: String,
    /// Bearer token (`quire token --user <id>` mints one).
    #[arg(long, env = "QUIRE_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// One JSON object per line instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Debug, Clone)]
pub struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// An open, authenticated channel to the server.
#[derive(Debug, Clone)]
pub struct Connection {
    pub channel: Channel,
    pub bearer: Bearer,
    pub json: bool,
}

impl Connection {
    pub async fn open(options: &ClientOptions) -> anyhow::Result<Connection> {
        let token = options
            .token
            .as_deref()
            .context("no token: pass --token or set QUIRE_TOKEN (quire dev prints one; quire token --user <id> mints one)")?;
        let bearer = MetadataValue::try_from(format!("Bearer {token}"))
            .context("the token is not valid header text")?;
        let channel = Endpoint::from_shared(options.server.clone())
            .with_context(|| format!("`{}` is not a server address", options.server))?
            .connect()
            .await
            .with_context(|| format!("cannot reach a quire server at {}", options.server))?;
        Ok(Connection {
            channel,
            bearer: Bearer(bearer),
            json: options.json,
        })
    }
}

/// A gRPC failure as a one-line message for the terminal.
pub fn describe(status: Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}
