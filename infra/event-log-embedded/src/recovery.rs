//! Opening a log directory: the lock, the scan of every segment that rebuilds
//! the index, and the repair of a torn tail.
//!
//! A crash can leave the last segment ending in a partly written group
//! commit. Frames after the last complete one are cut off, and the log says
//! so. Damage anywhere else (a bad frame followed by good ones, a bad frame
//! in an older segment, positions out of order) is corruption: opening fails
//! with an error naming the segment and offset, and nothing is changed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use quire_domain::Position;
use quire_event_log::LogError;
use rustc_hash::FxHashMap;
use tracing::{info, warn};
use uuid::Uuid;

use crate::config::EmbeddedLogConfig;
use crate::format::{
    FRAME_HEADER_LEN, FRAME_MAGIC, SEGMENT_HEADER_LEN, check_segment_header, parse_frame_body,
    parse_frame_header, segment_header,
};
use crate::index::{Index, Location};
use crate::segment::{ActiveSegment, parse_segment_file_name, sync_dir};

/// Everything the writer and readers need from an opened directory.
#[derive(Debug)]
pub struct Opened {
    pub index: Index,
    /// Every event id in the log with its position, for the writer.
    pub event_ids: FxHashMap<Uuid, Position>,
    pub active: ActiveSegment,
    /// Held for as long as the log is open: one process per directory.
    pub lock: File,
}

fn storage(context: impl Into<String>) -> impl FnOnce(io::Error) -> LogError {
    let context = context.into();
    move |source| LogError::Storage { context, source }
}

/// Opens (creating if needed) the log in `config.dir`.
pub fn open(config: &EmbeddedLogConfig) -> Result<Opened, LogError> {
    let dir = config.dir.as_path();
    fs::create_dir_all(dir).map_err(storage(format!("creating log directory {}", dir.display())))?;
    let lock = lock_dir(dir)?;
    let segments = list_segments(dir)?;
    let mut index = Index::new(config.tail_cache_events);
    let mut event_ids = FxHashMap::default();
    if segments.is_empty() {
        let active = ActiveSegment::create(dir, 0, Position::FIRST).map_err(storage(format!(
            "creating the first segment in {}",
            dir.display()
        )))?;
        index.add_segment(Arc::new(
            active
                .reopen_for_reading()
                .map_err(storage("opening the first segment"))?,
        ));
        info!(dir = %dir.display(), "created new event log");
        return Ok(Opened {
            index,
            event_ids,
            active,
            lock,
        });
    }
    let last = segments.len() - 1;
    let mut active = None;
    for (number, (first, path)) in segments.into_iter().enumerate() {
        if first != index.head().next() {
            return Err(LogError::Corrupt(format!(
                "segment {} starts at position {first} but the log before it ends at {}",
                path.display(),
                index.head()
            )));
        }
        let valid_len = scan_segment(&path, number as u32, number == last, &mut index, &mut event_ids)?;
        let read = File::open(&path).map_err(storage(format!("opening {}", path.display())))?;
        index.add_segment(Arc::new(read));
        if number == last {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(storage(format!("opening {} for writing", path.display())))?;
            active = Some(ActiveSegment {
                number: number as u32,
                path,
                file,
                len: valid_len,
            });
        }
    }
    let active = active.ok_or_else(|| LogError::Corrupt("no segment to write to".to_owned()))?;
    info!(dir = %dir.display(), head = %index.head(), segments = index.segment_count(), "opened event log");
    Ok(Opened {
        index,
        event_ids,
        active,
        lock,
    })
}

fn lock_dir(dir: &Path) -> Result<File, LogError> {
    let path = dir.join("LOCK");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(storage(format!("opening lock file {}", path.display())))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err(LogError::Unavailable(format!(
            "log directory {} is in use by another process",
            dir.display()
        ))),
        Err(fs::TryLockError::Error(source)) => Err(LogError::Storage {
            context: format!("locking {}", path.display()),
            source,
        }),
    }
}

fn list_segments(dir: &Path) -> Result<Vec<(Position, PathBuf)>, LogError> {
    let entries = fs::read_dir(dir).map_err(storage(format!("listing log directory {}", dir.display())))?;
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(storage(format!("listing log directory {}", dir.display())))?;
        if let Some(first) = entry.file_name().to_str().and_then(parse_segment_file_name) {
            segments.push((first, entry.path()));
        }
    }
    segments.sort();
    Ok(segments)
}

/// Scans one segment into the index; returns its valid length (after any
/// tail repair on the last segment).
fn scan_segment(
    path: &Path,
    number: u32,
    is_last: bool,
    index: &mut Index,
    event_ids: &mut FxHashMap<Uuid, Position>,
) -> Result<u64, LogError> {
    let file = File::open(path).map_err(storage(format!("opening {}", path.display())))?;
    let file_len = file
        .metadata()
        .map_err(storage(format!("reading size of {}", path.display())))?
        .len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    let header_len =
        read_up_to(&mut reader, &mut header).map_err(storage(format!("reading {}", path.display())))?;
    if let Err(reason) = check_segment_header(&header[..header_len]) {
        if is_last && file_len < SEGMENT_HEADER_LEN as u64 {
            return rewrite_torn_header(path, file_len);
        }
        return Err(LogError::Corrupt(format!("{}: {reason}", path.display())));
    }
    let mut offset = SEGMENT_HEADER_LEN as u64;
    let mut body = Vec::new();
    loop {
        match next_frame(&mut reader, file_len - offset, &mut body) {
            Ok(None) => return Ok(offset),
            Ok(Some(())) => {}
            Err(reason) => return handle_bad_frame(path, is_last, offset, file_len, &reason),
        }
        let records = parse_frame_body(&body)
            .map_err(|reason| LogError::Corrupt(format!("{} offset {offset}: {reason}", path.display())))?;
        let body_start = offset + FRAME_HEADER_LEN as u64;
        for record in records {
            let location = Location {
                segment: number,
                offset: (body_start + record.offset as u64) as u32,
                len: record.len as u32,
            };
            index
                .insert_recovered(record.stream_id, record.position, record.stream_version, location)
                .map_err(|reason| {
                    LogError::Corrupt(format!("{} offset {offset}: {reason}", path.display()))
                })?;
            if event_ids.insert(record.event_id, record.position).is_some() {
                return Err(LogError::Corrupt(format!(
                    "{} offset {offset}: event id {} appears twice in the log",
                    path.display(),
                    record.event_id
                )));
            }
        }
        offset = body_start + body.len() as u64;
    }
}

/// Reads the next frame's body into `body`. `Ok(None)` at a clean end of
/// file; `Err` describes a frame that is cut short or fails its checks.
fn next_frame(reader: &mut impl Read, remaining: u64, body: &mut Vec<u8>) -> Result<Option<()>, String> {
    if remaining == 0 {
        return Ok(None);
    }
    let mut header = [0u8; FRAME_HEADER_LEN];
    let got = read_up_to(reader, &mut header).map_err(|e| format!("read failed: {e}"))?;
    let header = parse_frame_header(&header[..got])?;
    let body_len = u64::from(header.body_len);
    if body_len > remaining - FRAME_HEADER_LEN as u64 {
        return Err(format!("frame of {body_len} bytes runs past the end of the file"));
    }
    body.resize(body_len as usize, 0);
    reader.read_exact(body).map_err(|e| format!("read failed: {e}"))?;
    if crc32c::crc32c(body) != header.crc {
        return Err("frame checksum mismatch".to_owned());
    }
    Ok(Some(()))
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// A bad frame at `offset`: a torn tail is cut off; anything else is
/// corruption and stops the open.
fn handle_bad_frame(
    path: &Path,
    is_last: bool,
    offset: u64,
    file_len: u64,
    reason: &str,
) -> Result<u64, LogError> {
    if !is_last {
        return Err(LogError::Corrupt(format!(
            "{} offset {offset}: {reason}, in a segment that is not the last; refusing to open",
            path.display()
        )));
    }
    let rest = read_from(path, offset)?;
    if let Some(good) = find_valid_frame(&rest[1.min(rest.len())..]) {
        return Err(LogError::Corrupt(format!(
            "{} offset {offset}: {reason}, but a complete commit follows at offset {}; refusing to open",
            path.display(),
            offset + 1 + good as u64
        )));
    }
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(storage(format!("opening {}", path.display())))?;
    file.set_len(offset)
        .map_err(storage(format!("truncating torn tail of {}", path.display())))?;
    file.sync_all()
        .map_err(storage(format!("syncing {}", path.display())))?;
    warn!(
        segment = %path.display(),
        offset,
        discarded_bytes = file_len - offset,
        reason,
        "recovered torn tail: cut the log back to its last complete commit"
    );
    Ok(offset)
}

fn read_from(path: &Path, offset: u64) -> Result<Vec<u8>, LogError> {
    let bytes = fs::read(path).map_err(storage(format!("reading {}", path.display())))?;
    Ok(bytes
        .get(offset as usize..)
        .map(<[u8]>::to_vec)
        .unwrap_or_default())
}

/// The offset of the first complete, checksummed frame in `bytes`, if any.
fn find_valid_frame(bytes: &[u8]) -> Option<usize> {
    let magic = FRAME_MAGIC.to_le_bytes();
    (0..bytes.len().saturating_sub(FRAME_HEADER_LEN)).find(|&at| {
        bytes[at..at + 4] == magic
            && parse_frame_header(&bytes[at..]).is_ok_and(|header| {
                let start = at + FRAME_HEADER_LEN;
                let end = start.saturating_add(header.body_len as usize);
                end <= bytes.len()
                    && crc32c::crc32c(&bytes[start..end]) == header.crc
                    && parse_frame_body(&bytes[start..end]).is_ok()
            })
    })
}

/// The last segment was created but its header never fully reached the
/// disk: write it again.
fn rewrite_torn_header(path: &Path, file_len: u64) -> Result<u64, LogError> {
    use std::os::unix::fs::FileExt;
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(storage(format!("opening {}", path.display())))?;
    file.set_len(0)
        .map_err(storage(format!("truncating {}", path.display())))?;
    file.write_all_at(&segment_header(), 0)
        .map_err(storage(format!("writing header of {}", path.display())))?;
    file.sync_all()
        .map_err(storage(format!("syncing {}", path.display())))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir).map_err(storage(format!("syncing {}", dir.display())))?;
    }
    warn!(segment = %path.display(), found_bytes = file_len, "recovered torn segment header");
    Ok(SEGMENT_HEADER_LEN as u64)
}
