//! Opening damaged logs: a torn or corrupted tail is cut back to the last
//! complete commit (and the log says so); damage with good data after it is
//! refused without touching the files.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use quire_domain::Position;
use quire_domain::StreamId;
use quire_event_log::{EventLog, ExpectedVersion, LogError};
use quire_event_log_conformance::new_event;
use quire_event_log_embedded::{EmbeddedLog, EmbeddedLogConfig};

/// Writes `appends` appends of three events each and returns the segment
/// files and the position after each append.
fn build_log(dir: &Path, appends: usize, segment_bytes: u64) -> Vec<Position> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut config = EmbeddedLogConfig::new(dir);
        config.segment_bytes = segment_bytes;
        let log = EmbeddedLog::open(config).expect("open");
        let stream = StreamId::parse("document-1").expect("stream");
        let mut heads = Vec::new();
        for i in 0..appends {
            let events = (0..3)
                .map(|j| new_event("document.renamed", &format!("{i}-{j}")))
                .collect();
            heads.push(
                log.append(&stream, ExpectedVersion::Any, events)
                    .await
                    .expect("append")
                    .last_position,
            );
        }
        log.close();
        heads
    })
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "qlog"))
        .collect();
    files.sort();
    files
}

/// Opens the log capturing its log output; returns the head (or error) and
/// what was logged.
fn open_capturing(dir: &Path) -> (Result<Position, LogError>, String) {
    let captured = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = Arc::clone(&captured);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || CaptureWriter(Arc::clone(&sink)))
        .with_ansi(false)
        .finish();
    let result = tracing::subscriber::with_default(subscriber, || {
        EmbeddedLog::open(EmbeddedLogConfig::new(dir)).map(|log| {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            let head = runtime.block_on(log.head()).expect("head");
            log.close();
            head
        })
    });
    let text = String::from_utf8(captured.lock().expect("capture").clone()).expect("utf-8 log");
    (result, text)
}

struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn last_segment(dir: &Path) -> PathBuf {
    segments(dir).pop().expect("a segment")
}

#[test]
fn truncated_tail_recovers_to_last_complete_commit() {
    for cut in [1u64, 7, 12, 13, 40, 100] {
        let dir = tempfile::tempdir().expect("dir");
        let heads = build_log(dir.path(), 10, 1 << 20);
        let segment = last_segment(dir.path());
        let len = fs::metadata(&segment).expect("meta").len();
        fs::OpenOptions::new()
            .write(true)
            .open(&segment)
            .expect("open")
            .set_len(len - cut)
            .expect("truncate");
        let (head, output) = open_capturing(dir.path());
        assert_eq!(
            head.expect("open after truncation"),
            heads[8],
            "cut of {cut} bytes"
        );
        assert!(
            output.contains("recovered torn tail"),
            "no torn-tail message for a cut of {cut}: {output}"
        );
        // The repaired log takes appends and reopens cleanly.
        let more = build_log(dir.path(), 1, 1 << 20);
        assert_eq!(more[0], Position(heads[8].0 + 3));
        let (head, output) = open_capturing(dir.path());
        assert_eq!(head.expect("reopen"), more[0]);
        assert!(
            !output.contains("torn"),
            "second open still found damage: {output}"
        );
    }
}

#[test]
fn flipped_byte_in_last_commit_recovers_to_previous_commit() {
    let dir = tempfile::tempdir().expect("dir");
    let heads = build_log(dir.path(), 5, 1 << 20);
    let segment = last_segment(dir.path());
    let mut bytes = fs::read(&segment).expect("read");
    let at = bytes.len() - 10;
    bytes[at] ^= 0x40;
    fs::write(&segment, &bytes).expect("write");
    let (head, output) = open_capturing(dir.path());
    assert_eq!(head.expect("open"), heads[3]);
    assert!(
        output.contains("recovered torn tail") && output.contains("checksum"),
        "{output}"
    );
}

#[test]
fn zeroed_garbage_after_the_tail_is_cut_off() {
    let dir = tempfile::tempdir().expect("dir");
    let heads = build_log(dir.path(), 3, 1 << 20);
    let segment = last_segment(dir.path());
    let mut bytes = fs::read(&segment).expect("read");
    bytes.extend_from_slice(&[0u8; 4096]);
    fs::write(&segment, &bytes).expect("write");
    let (head, output) = open_capturing(dir.path());
    assert_eq!(head.expect("open"), heads[2]);
    assert!(output.contains("recovered torn tail"), "{output}");
}

#[test]
fn corruption_before_good_commits_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("dir");
    build_log(dir.path(), 6, 1 << 20);
    let segment = last_segment(dir.path());
    let mut bytes = fs::read(&segment).expect("read");
    // Inside the first frame's body: later frames stay intact.
    bytes[16 + 12 + 30] ^= 0xFF;
    fs::write(&segment, &bytes).expect("write");
    let (result, _) = open_capturing(dir.path());
    match result {
        Err(LogError::Corrupt(message)) => {
            assert!(
                message.contains("offset 16"),
                "error does not name the offset: {message}"
            );
            assert!(
                message.contains(".qlog"),
                "error does not name the segment: {message}"
            );
        }
        other => panic!("expected a corruption error, got {other:?}"),
    }
    assert_eq!(
        fs::read(&segment).expect("read"),
        bytes,
        "a refused open changed the file"
    );
}

#[test]
fn corruption_in_an_older_segment_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    build_log(dir.path(), 200, 4096);
    let files = segments(dir.path());
    assert!(files.len() > 3, "expected several segments, got {}", files.len());
    let mut bytes = fs::read(&files[1]).expect("read");
    let at = bytes.len() - 5;
    bytes[at] ^= 0x01;
    fs::write(&files[1], &bytes).expect("write");
    let (result, _) = open_capturing(dir.path());
    assert!(
        matches!(result, Err(LogError::Corrupt(ref m)) if m.contains("not the last")),
        "{result:?}"
    );
}

#[test]
fn torn_segment_header_is_rewritten() {
    let dir = tempfile::tempdir().expect("dir");
    let heads = build_log(dir.path(), 2, 1 << 20);
    let next = dir.path().join(format!("{:020}.qlog", heads[1].0 + 1));
    fs::write(&next, b"QUIRE").expect("write partial header");
    let (head, output) = open_capturing(dir.path());
    assert_eq!(head.expect("open"), heads[1]);
    assert!(output.contains("recovered torn segment header"), "{output}");
    let more = build_log(dir.path(), 1, 1 << 20);
    assert_eq!(more[0], Position(heads[1].0 + 3));
}

#[test]
fn a_missing_segment_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    build_log(dir.path(), 200, 4096);
    let files = segments(dir.path());
    fs::remove_file(&files[2]).expect("remove");
    let (result, _) = open_capturing(dir.path());
    assert!(
        matches!(result, Err(LogError::Corrupt(ref m)) if m.contains("starts at position")),
        "{result:?}"
    );
}
