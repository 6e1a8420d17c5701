//! Segment files: naming, creation and the active (last) segment that the
//! writer appends to.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use quire_domain::Position;

use crate::format::{SEGMENT_HEADER_LEN, segment_header};

const SUFFIX: &str = ".qlog";

/// The file name of the segment whose first event has `first` position.
pub fn segment_file_name(first: Position) -> String {
    format!("{:020}{SUFFIX}", first.0)
}

/// The first position encoded in a segment file name, if it is one.
pub fn parse_segment_file_name(name: &str) -> Option<Position> {
    let digits = name.strip_suffix(SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Position)
}

/// The segment the writer appends to.
#[derive(Debug)]
pub struct ActiveSegment {
    /// Segment number: index into the index's read handles.
    pub number: u32,
    pub path: PathBuf,
    pub file: File,
    /// Bytes of valid data: the next write goes here.
    pub len: u64,
}

impl ActiveSegment {
    /// Creates a new, empty segment whose first event will have `first`
    /// position, durably (file and directory entry).
    pub fn create(dir: &Path, number: u32, first: Position) -> io::Result<ActiveSegment> {
        let path = dir.join(segment_file_name(first));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all_at(&segment_header(), 0)?;
        file.sync_all()?;
        sync_dir(dir)?;
        Ok(ActiveSegment {
            number,
            path,
            file,
            len: SEGMENT_HEADER_LEN as u64,
        })
    }

    /// A read handle on the same file.
    pub fn reopen_for_reading(&self) -> io::Result<File> {
        File::open(&self.path)
    }
}

/// Makes directory entries (new files) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
