//! Bad input and hostile environments: oversized events, a data directory
//! that is not one, a directory already in use. (The full disk has its own
//! test binary: it forks `mount`, and a forked child briefly inherits the
//! open lock files of logs in other tests of the same process.)

use quire_domain::{Position, StreamId};
use quire_event_log::{EventLog, ExpectedVersion, LogError};
use quire_event_log_conformance::new_event;
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};

#[tokio::test]
async fn an_event_over_the_maximum_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = EmbeddedLogConfig::new(dir.path());
    config.max_event_bytes = 1024;
    let log = EmbeddedLog::open(config).expect("open");
    let stream = StreamId::parse("document-big").expect("stream");
    let small = new_event("document.renamed", "ok");
    let mut big = new_event("document.renamed", "big");
    big.payload = bytes::Bytes::from(format!("\"{}\"", "x".repeat(2000)));
    let big_id = big.event_id;
    match log.append(&stream, ExpectedVersion::Any, vec![small, big]).await {
        Err(LogError::EventTooLarge {
            event_id,
            size,
            max: 1024,
        }) => {
            assert_eq!(event_id, big_id);
            assert!(size > 2000);
        }
        other => panic!("expected EventTooLarge, got {other:?}"),
    }
    assert_eq!(log.head().await.expect("head"), Position::ZERO);
}

#[test]
fn a_data_directory_that_is_a_file_is_a_clear_error() {
    let file = tempfile::NamedTempFile::new().expect("file");
    let err = EmbeddedLog::open(EmbeddedLogConfig::new(file.path())).expect_err("must not open");
    let message = err.to_string();
    assert!(matches!(err, LogError::Storage { .. }), "{err:?}");
    assert!(
        message.contains(&file.path().display().to_string()),
        "error does not name the path: {message}"
    );
}

#[test]
fn a_directory_in_use_by_another_log_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let first = EmbeddedLog::open(EmbeddedLogConfig::new(dir.path())).expect("open");
    let err = EmbeddedLog::open(EmbeddedLogConfig::new(dir.path())).expect_err("second open");
    assert!(
        matches!(err, LogError::Unavailable(ref m) if m.contains("in use")),
        "{err:?}"
    );
    first.close();
    EmbeddedLog::open(EmbeddedLogConfig::new(dir.path()))
        .expect("open after close")
        .close();
}

#[test]
fn invalid_configuration_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = EmbeddedLogConfig::new(dir.path());
    config.segment_bytes = 10;
    let err = EmbeddedLog::open(config).expect_err("tiny segments");
    assert!(err.to_string().contains("segment_bytes"), "{err}");
}
