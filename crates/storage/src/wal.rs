//! Write-ahead log: numbered segment files of checksummed frames, each one Arrow IPC stream
//! holding one batch of one signal.
//!
//! Segment layout: the 8-byte header `RSWAL002` (format version 2), then frames of
//! `len: u32 LE | crc32(signal, arrived, payload): u32 LE | signal: u8 | arrived: i64 LE |
//! payload: len bytes`, where `arrived` is when the write was received (unix ns; what is
//! derived from the rows is replayed at that time after a crash). Version 1 segments (frames
//! without `arrived`) still replay, with `arrived` 0.
//! Replay stops at the first torn or corrupt frame of a segment: everything before it was
//! acknowledged, nothing after it was.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use model::Signal;

use crate::StorageError;

const HEADER: &[u8; 8] = b"RSWAL002";
const HEADER_V1: &[u8; 8] = b"RSWAL001";
/// `len`, `crc`, `signal` and `arrived`.
const FRAME_HEAD: usize = 17;

/// Where a frame is in the WAL: its segment and its index in the segment. Frames are ordered
/// by position as they were written.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Position {
    pub segment: u64,
    pub frame: u32,
}
const MAX_FRAME: u32 = 1 << 30;

pub fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:016}.wal"))
}

/// Segment ids present in `dir`, ascending.
pub fn list_segments(dir: &Path) -> Result<Vec<u64>, StorageError> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(id) = name
            .strip_suffix(".wal")
            .and_then(|s| s.parse::<u64>().ok())
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Encodes one batch as a WAL frame payload.
pub fn encode_batch(batch: &RecordBatch) -> Result<Vec<u8>, StorageError> {
    let mut buf = Vec::with_capacity(batch.get_array_memory_size() / 2 + 1024);
    {
        let mut writer = StreamWriter::try_new(&mut buf, &batch.schema())?;
        writer.write(batch)?;
        writer.finish()?;
    }
    Ok(buf)
}

/// One batch as a complete frame, encoded in place after the frame's header (no second copy of
/// the payload).
pub fn encode_frame(
    signal: Signal,
    arrived: i64,
    batch: &RecordBatch,
) -> Result<Vec<u8>, StorageError> {
    const HEADER: usize = FRAME_HEAD;
    let mut buf = Vec::with_capacity(HEADER + batch.get_array_memory_size() / 2 + 1024);
    buf.extend_from_slice(&[0; HEADER]);
    {
        let mut writer = StreamWriter::try_new(&mut buf, &batch.schema())?;
        writer.write(batch)?;
        writer.finish()?;
    }
    let payload_len = u32::try_from(buf.len() - HEADER)
        .map_err(|_| StorageError::Encode("batch too large for one WAL frame".into()))?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[signal.as_u8()]);
    crc.update(&arrived.to_le_bytes());
    crc.update(&buf[HEADER..]);
    buf[0..4].copy_from_slice(&payload_len.to_le_bytes());
    buf[4..8].copy_from_slice(&crc.finalize().to_le_bytes());
    buf[8] = signal.as_u8();
    buf[9..17].copy_from_slice(&arrived.to_le_bytes());
    Ok(buf)
}

/// Appends a complete frame to `out`.
pub fn push_frame(out: &mut Vec<u8>, signal: Signal, arrived: i64, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[signal.as_u8()]);
    crc.update(&arrived.to_le_bytes());
    crc.update(payload);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.push(signal.as_u8());
    out.extend_from_slice(&arrived.to_le_bytes());
    out.extend_from_slice(payload);
}

/// An open segment being appended to.
///
/// A failed write may leave part of a frame at the end of the file, and replay stops at the
/// first torn frame: anything appended after it would be acknowledged and yet lost on the next
/// replay. So after a failed write the segment is cut back to its last complete frame, and when
/// even that fails it is `poisoned` and must not be appended to again (start a new segment).
pub struct Segment {
    pub id: u64,
    file: File,
    pub bytes: u64,
    /// Frames written so far: the index the next frame gets.
    pub frames: u32,
    poisoned: bool,
}

impl Segment {
    pub fn create(dir: &Path, id: u64) -> Result<Segment, StorageError> {
        let path = segment_path(dir, id);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        file.write_all(HEADER)?;
        file.sync_all()?;
        sync_dir(dir)?;
        Ok(Segment {
            id,
            file,
            bytes: HEADER.len() as u64,
            frames: 0,
            poisoned: false,
        })
    }

    /// Writes `count` frames and, when `fsync`, makes them durable before returning. On
    /// failure nothing of `frames` stays in the segment (or the segment is
    /// [`Segment::is_poisoned`]).
    pub fn append(&mut self, frames: &[u8], count: u32, fsync: bool) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Io(std::io::Error::other(
                "wal segment is unusable after a failed write",
            )));
        }
        let written = self
            .file
            .write_all(frames)
            .and_then(|()| if fsync { self.file.sync_data() } else { Ok(()) });
        if let Err(e) = written {
            self.cut_back();
            return Err(if crate::is_disk_full_io(&e) {
                StorageError::DiskFull(e.to_string())
            } else {
                StorageError::Io(e)
            });
        }
        self.bytes += frames.len() as u64;
        self.frames += count;
        Ok(())
    }

    /// Cuts the file back to its last complete frame after a failed write.
    fn cut_back(&mut self) {
        let cut = self
            .file
            .set_len(self.bytes)
            .and_then(|()| self.file.seek(SeekFrom::Start(self.bytes)).map(|_| ()))
            .and_then(|()| self.file.sync_data());
        if let Err(e) = cut {
            tracing::error!(error = %e, segment = self.id, "could not cut a torn wal frame");
            self.poisoned = true;
        }
    }

    /// True when a failed write could not be undone: appends must go to a new segment.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
}

pub fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// One intact frame read back: where it is, its signal, when it arrived (unix ns; 0 in a
/// version 1 segment) and its rows.
pub struct Frame {
    pub position: Position,
    pub signal: Signal,
    pub arrived: i64,
    pub batch: RecordBatch,
}

/// Reads every intact frame of segment `id` in `dir`. A torn tail is reported, not an error.
pub fn replay_segment(
    dir: &Path,
    id: u64,
    mut on_frame: impl FnMut(Frame),
) -> Result<ReplayStats, StorageError> {
    let mut reader = BufReader::new(File::open(segment_path(dir, id))?);
    let mut stats = ReplayStats::default();
    let mut header = [0u8; 8];
    let timed = match reader.read_exact(&mut header) {
        Ok(()) if &header == HEADER => true,
        Ok(()) if &header == HEADER_V1 => false,
        _ => {
            stats.torn = true;
            return Ok(stats);
        }
    };
    let head_len = if timed { FRAME_HEAD } else { 9 };
    loop {
        let mut head = [0u8; FRAME_HEAD];
        let head = &mut head[..head_len];
        match reader.read_exact(head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let Some(signal) = Signal::from_u8(head[8]) else {
            stats.torn = true;
            break;
        };
        if len > MAX_FRAME {
            stats.torn = true;
            break;
        }
        let mut payload = vec![0u8; len as usize];
        if reader.read_exact(&mut payload).is_err() {
            stats.torn = true;
            break;
        }
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&head[8..]);
        hasher.update(&payload);
        if hasher.finalize() != crc {
            stats.torn = true;
            break;
        }
        let arrived = if timed {
            let mut t = [0u8; 8];
            t.copy_from_slice(&head[9..17]);
            i64::from_le_bytes(t)
        } else {
            0
        };
        let position = Position {
            segment: id,
            frame: u32::try_from(stats.frames).unwrap_or(u32::MAX),
        };
        let ipc = StreamReader::try_new(&payload[..], None)?;
        for batch in ipc {
            let batch = batch?;
            stats.rows += batch.num_rows() as u64;
            on_frame(Frame {
                position,
                signal,
                arrived,
                batch,
            });
        }
        stats.frames += 1;
    }
    Ok(stats)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ReplayStats {
    pub frames: u64,
    pub rows: u64,
    pub torn: bool,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::schema;

    fn batch(n: usize) -> RecordBatch {
        let rows = (0..n)
            .map(|i| model::LogRow {
                time_unix_nano: i as i64,
                body: format!("line {i}"),
                ..Default::default()
            })
            .collect();
        schema::to_record_batch(&model::Batch::Logs(rows)).unwrap()
    }

    #[test]
    fn frames_replay_and_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 7).unwrap();
        let mut frames = Vec::new();
        push_frame(
            &mut frames,
            Signal::Logs,
            5,
            &encode_batch(&batch(3)).unwrap(),
        );
        // Both ways of building a frame give the same bytes.
        let direct = encode_frame(Signal::Logs, 5, &batch(2)).unwrap();
        let mut copied = Vec::new();
        push_frame(
            &mut copied,
            Signal::Logs,
            5,
            &encode_batch(&batch(2)).unwrap(),
        );
        assert_eq!(direct, copied);
        frames.extend_from_slice(&direct);
        seg.append(&frames, 2, true).unwrap();
        // A torn third frame: only half of it reached the disk.
        let mut third = Vec::new();
        push_frame(
            &mut third,
            Signal::Logs,
            5,
            &encode_batch(&batch(4)).unwrap(),
        );
        seg.append(&third[..third.len() / 2], 1, true).unwrap();
        let mut got = 0;
        let mut positions = Vec::new();
        let stats = replay_segment(dir.path(), 7, |f| {
            assert_eq!((f.signal, f.arrived), (Signal::Logs, 5));
            positions.push(f.position);
            got += f.batch.num_rows();
        })
        .unwrap();
        assert_eq!(got, 5);
        assert_eq!(stats.frames, 2);
        assert!(stats.torn);
        let at = |frame| Position { segment: 7, frame };
        assert_eq!(positions, vec![at(0), at(1)]);
        assert_eq!(list_segments(dir.path()).unwrap(), vec![7]);
    }

    /// A write the disk refuses leaves nothing behind that replay would stop at: the file is
    /// cut back to its last complete frame, or (when even that fails) the segment is poisoned
    /// and refuses further appends, so nothing is ever acknowledged after a torn frame.
    #[test]
    fn a_failed_write_leaves_no_torn_frame_to_append_after() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 3).unwrap();
        let mut frames = Vec::new();
        push_frame(
            &mut frames,
            Signal::Logs,
            5,
            &encode_batch(&batch(3)).unwrap(),
        );
        seg.append(&frames, 1, true).unwrap();
        let good = seg.bytes;
        // Half a frame reaches the file, then the write "fails": it is cut back.
        seg.file.write_all(&frames[..frames.len() / 2]).unwrap();
        seg.cut_back();
        assert!(!seg.is_poisoned());
        assert_eq!(
            std::fs::metadata(segment_path(dir.path(), 3))
                .unwrap()
                .len(),
            good
        );
        seg.append(&frames, 1, true).unwrap();
        let stats = replay_segment(dir.path(), 3, |_| {}).unwrap();
        assert_eq!((stats.frames, stats.rows, stats.torn), (2, 6, false));

        // A file that takes no bytes at all (ENOSPC on every write, no truncation).
        if let Ok(full) = OpenOptions::new().write(true).open("/dev/full") {
            seg.file = full;
            let err = seg.append(&frames, 1, true).unwrap_err();
            assert!(err.is_disk_full(), "{err}");
            assert!(seg.is_poisoned());
            assert!(
                seg.append(&frames, 1, true).is_err(),
                "no append after a torn frame"
            );
        }
    }

    #[test]
    fn corrupt_frame_stops_replay() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 1).unwrap();
        let mut frames = Vec::new();
        push_frame(
            &mut frames,
            Signal::Logs,
            5,
            &encode_batch(&batch(3)).unwrap(),
        );
        let last = frames.len() - 1;
        frames[last] ^= 0xff;
        seg.append(&frames, 1, true).unwrap();
        let stats = replay_segment(dir.path(), 1, |_| panic!("corrupt frame replayed")).unwrap();
        assert!(stats.torn);
        assert_eq!(stats.rows, 0);
    }

    #[test]
    fn version_1_segments_still_replay() {
        let dir = tempfile::tempdir().unwrap();
        let payload = encode_batch(&batch(3)).unwrap();
        let mut crc = crc32fast::Hasher::new();
        crc.update(&[Signal::Logs.as_u8()]);
        crc.update(&payload);
        let mut bytes = HEADER_V1.to_vec();
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&crc.finalize().to_le_bytes());
        bytes.push(Signal::Logs.as_u8());
        bytes.extend_from_slice(&payload);
        fs::write(segment_path(dir.path(), 4), bytes).unwrap();
        let mut arrived = Vec::new();
        let stats = replay_segment(dir.path(), 4, |f| arrived.push(f.arrived)).unwrap();
        assert_eq!((stats.frames, stats.rows, stats.torn), (1, 3, false));
        assert_eq!(arrived, vec![0]);
    }
}
