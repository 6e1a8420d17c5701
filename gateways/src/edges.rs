//! The network edges of a gateway, served together: gRPC and the HTTP blob
//! endpoint, stopped together on shutdown (live streams end first, so a
//! graceful stop never waits on a client that keeps tailing).

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::auth::TokenAuthority;

/// Serves gRPC on `grpc` and blobs on `http` until `shutdown` resolves.
pub async fn serve(
    app: Arc<App>,
    auth: TokenAuthority,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut http_stop = stop_rx.clone();
    let http_task = tokio::spawn(crate::http::serve(app.clone(), http, async move {
        let _ = http_stop.wait_for(|stop| *stop).await;
    }));
    let token = app.shutdown.clone();
    let shutdown = async move {
        shutdown.await;
        token.cancel();
    };
    let grpc_result = crate::grpc::serve(app, auth, grpc, shutdown).await;
    let _ = stop_tx.send(true);
    let _ = http_task.await;
    grpc_result?;
    Ok(())
}
