//! The read models' tests: each query port's conformance suite against the
//! in-memory backend, and the backends run by the real projector runtime
//! over the embedded log. One binary, one module per concern.

mod conformance;
mod runner;
mod scale;
