//! Integration tests of the projector runtime against the real embedded
//! event log. One binary, one module per concern.

mod common;

mod batching;
mod failures;
mod filters;
mod leases;
mod rebuild;
mod resume;
mod status;
