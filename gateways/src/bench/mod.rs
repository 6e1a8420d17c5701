//! `quire bench`: benchmarks of the engine, each printing one result per
//! scenario (a table, or JSON lines with `--json`).

pub mod append;
pub mod e2e;
pub mod load;
pub mod report;
pub mod restart;
