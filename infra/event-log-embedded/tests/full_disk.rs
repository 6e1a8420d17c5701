//! A real full disk: a 1 MiB tmpfs. Needs root to mount (CI runs as root).
//!
//! In its own test binary because it forks `mount`: a child forked while
//! another test holds a log's lock file briefly inherits that lock.

use std::process::Command;

use quire_domain::{Position, StreamId};
use quire_event_log::{EventLog, ExpectedVersion, LogError};
use quire_event_log_conformance::new_event;
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};

/// A real full disk: a 1 MiB tmpfs. Needs root to mount (CI runs as root).
#[tokio::test]
async fn a_full_disk_fails_appends_cleanly_and_recovers_when_space_returns() {
    let mount = tempfile::tempdir().expect("dir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(mount.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        mounted,
        "mounting a tmpfs failed: this test needs root (CI and the dev machines run as root)"
    );
    let result = std::panic::AssertUnwindSafe(full_disk_scenario(mount.path()))
        .catch_unwind_result()
        .await;
    let _ = Command::new("umount").arg(mount.path()).status();
    result.expect("full disk scenario");
}

async fn full_disk_scenario(dir: &std::path::Path) -> Result<(), String> {
    let filler = dir.join("filler");
    std::fs::write(&filler, vec![0u8; 256 << 10]).map_err(|e| e.to_string())?;
    let log = EmbeddedLog::open(EmbeddedLogConfig::new(dir.join("log"))).map_err(|e| e.to_string())?;
    let stream = StreamId::parse("document-full").expect("stream");
    let mut acknowledged = Vec::new();
    let error = loop {
        let event = new_event("document.renamed", &"y".repeat(2000));
        let id = event.event_id;
        match log.append(&stream, ExpectedVersion::Any, vec![event]).await {
            Ok(_) => acknowledged.push(id),
            Err(error) => break error,
        }
        if acknowledged.len() > 10_000 {
            return Err("the 1 MiB disk never filled".to_owned());
        }
    };
    let message = error.to_string();
    if !(matches!(error, LogError::Storage { .. }) && message.contains("No space left")) {
        return Err(format!("expected a disk-full storage error, got {error:?}"));
    }
    let head = log.head().await.map_err(|e| e.to_string())?;
    if head.0 != acknowledged.len() as u64 {
        return Err(format!(
            "head {head} after {} acknowledged appends",
            acknowledged.len()
        ));
    }
    std::fs::remove_file(&filler).map_err(|e| e.to_string())?;
    log.append(
        &stream,
        ExpectedVersion::Any,
        vec![new_event("document.renamed", "after")],
    )
    .await
    .map_err(|e| format!("append after space returned: {e}"))?;
    log.close();
    let reopened = EmbeddedLog::open(EmbeddedLogConfig::new(dir.join("log"))).map_err(|e| e.to_string())?;
    let all = reopened
        .read_all(Position::ZERO, 100_000)
        .await
        .map_err(|e| e.to_string())?;
    for id in &acknowledged {
        if !all.iter().any(|e| e.event_id == *id) {
            return Err(format!("acknowledged event {id} lost"));
        }
    }
    if all.len() != acknowledged.len() + 1 {
        return Err(format!(
            "{} events after reopen, expected {}",
            all.len(),
            acknowledged.len() + 1
        ));
    }
    reopened.close();
    Ok(())
}

/// Runs a future, turning a panic into an error so the tmpfs is unmounted.
trait CatchUnwindResult: std::future::Future<Output = Result<(), String>> + Sized {
    async fn catch_unwind_result(self) -> Result<(), String> {
        use futures::FutureExt;
        match std::panic::AssertUnwindSafe(self).catch_unwind().await {
            Ok(result) => result,
            Err(_) => Err("the scenario panicked".to_owned()),
        }
    }
}

impl<F: std::future::Future<Output = Result<(), String>>> CatchUnwindResult
    for std::panic::AssertUnwindSafe<F>
{
}
