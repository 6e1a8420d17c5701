//! [`InMemoryLeases`]: leases inside one process, for `quire serve --role
//! all` on a single node and for tests. Expiry follows tokio's clock.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::time::Instant;

use super::{Lease, LeaseError, LeaseStore};

/// Leases in memory.
#[derive(Debug)]
pub struct InMemoryLeases {
    ttl: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_token: u64,
    grants: HashMap<String, Grant>,
}

#[derive(Debug)]
struct Grant {
    holder: String,
    token: u64,
    expires: Instant,
}

impl InMemoryLeases {
    pub fn new(ttl: Duration) -> InMemoryLeases {
        InMemoryLeases {
            ttl,
            state: Mutex::new(State::default()),
        }
    }
}

impl State {
    /// The live grant of `name`, dropping an expired one.
    fn live(&mut self, name: &str, now: Instant) -> Option<&mut Grant> {
        if self.grants.get(name).is_some_and(|grant| grant.expires <= now) {
            self.grants.remove(name);
        }
        self.grants.get_mut(name)
    }

    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }
}

#[async_trait]
impl LeaseStore for InMemoryLeases {
    fn ttl(&self) -> Duration {
        self.ttl
    }

    async fn try_acquire(&self, name: &str, holder: &str) -> Result<Option<Lease>, LeaseError> {
        let now = Instant::now();
        let mut state = self.state.lock();
        if state.live(name, now).is_some() {
            return Ok(None);
        }
        let token = state.token();
        let grant = Grant {
            holder: holder.to_owned(),
            token,
            expires: now + self.ttl,
        };
        state.grants.insert(name.to_owned(), grant);
        Ok(Some(Lease {
            name: name.to_owned(),
            holder: holder.to_owned(),
            token,
        }))
    }

    async fn renew(&self, lease: &Lease) -> Result<Lease, LeaseError> {
        let now = Instant::now();
        let mut state = self.state.lock();
        let token = state.token();
        match state.live(&lease.name, now) {
            Some(grant) if grant.token == lease.token => {
                grant.token = token;
                grant.expires = now + self.ttl;
                Ok(Lease {
                    token,
                    ..lease.clone()
                })
            }
            _ => Err(LeaseError::Lost(lease.name.clone())),
        }
    }

    async fn release(&self, lease: &Lease) -> Result<(), LeaseError> {
        let mut state = self.state.lock();
        if state
            .grants
            .get(&lease.name)
            .is_some_and(|grant| grant.token == lease.token)
        {
            state.grants.remove(&lease.name);
        }
        Ok(())
    }

    async fn holder(&self, name: &str) -> Result<Option<String>, LeaseError> {
        let now = Instant::now();
        Ok(self
            .state
            .lock()
            .live(name, now)
            .map(|grant| grant.holder.clone()))
    }
}
