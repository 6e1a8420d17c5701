//! [`Link`]: a TCP relay from a local port to a service, which a test can
//! cut and restore. The machine's PostgreSQL serves every suite at once, so
//! an outage test cannot stop it; the fleet reaches it through a link
//! instead, and cutting the link is what the fleet would see of a lost
//! server or network: every open connection closes, and new ones are
//! accepted and closed at once.

use std::net::SocketAddr;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Link {
    address: SocketAddr,
    up: watch::Sender<bool>,
    relay: JoinHandle<()>,
}

impl Link {
    /// Starts relaying a free local port to `target` (`host:port`).
    pub async fn start(target: &str) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind link");
        let address = listener.local_addr().expect("link address");
        let (up, _) = watch::channel(true);
        let relay = tokio::spawn(accept(listener, target.to_owned(), up.clone()));
        Link { address, up, relay }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Closes every relayed connection and refuses service until restored.
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

async fn accept(listener: TcpListener, target: String, up: watch::Sender<bool>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if !*up.borrow() {
            drop(client);
            continue;
        }
        tokio::spawn(relay(client, target.clone(), up.subscribe()));
    }
}

/// Relays one connection until either side closes it or the link is cut.
async fn relay(mut client: TcpStream, target: String, mut up: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(&target).await else {
        return;
    };
    tokio::select! {
        _ = copy_bidirectional(&mut client, &mut server) => {}
        _ = up.wait_for(|up| !*up) => {}
    }
}
