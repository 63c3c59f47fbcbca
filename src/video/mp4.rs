//! The parts of an ISO base media file (MP4, MOV, 3GP) that say whether a clip is whole: the top-level box
//! layout, the tracks' handlers, and the video track's sample table — how many frames the file declares and how
//! many of them lie complete inside its bytes.
//!
//! OpenCV only reports a frame count that FFmpeg estimates from the *container's* duration where the stream
//! stores none (fragmented MP4, Matroska): a phone clip whose audio runs on past its video then "promises" more
//! frames than it has. The sample table gives the true count, and for a file cut short (a copy that stopped, a
//! download that broke off) it tells before any decoding how many frames can still be read: runform then
//! analyses that part and says how much was lost, instead of refusing the clip after minutes of work.
//!
//! Boxes and fields follow ISO/IEC 14496-12 (`stsz`/`stz2` sample sizes, `stco`/`co64` chunk offsets, `stsc`
//! sample-to-chunk runs, `moof`/`traf`/`tfhd`/`trun` fragments). Only what the count needs is read; anything
//! malformed makes the count unknown (`None`), never an error: FFmpeg remains the judge of what decodes.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// A `moov` box larger than this is not read into memory (real ones are a few MB).
const MAX_MOOV_BYTES: u64 = 256 << 20;

/// A `moof` box larger than this is skipped (real ones are a few kB).
const MAX_MOOF_BYTES: u64 = 16 << 20;

/// Sample tables with more entries than this are not expanded (about 9 hours at 60 fps).
const MAX_SAMPLES: u64 = 2_000_000;

/// What the box layout says about the file.
#[derive(Debug, Default)]
pub(super) struct Mp4Layout {
    /// Why the file looks truncated: a top-level box that runs past the end of the file.
    pub truncated: Option<String>,
    /// Whether the `moov` box was read and holds at least one track.
    pub has_tracks: bool,
    /// Whether a track has the `vide` handler.
    pub has_video_track: bool,
    /// The first video track's frames, when its sample table could be read.
    pub video_frames: Option<VideoFrames>,
}

/// The first video track's frame count, from its sample table (and its fragments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct VideoFrames {
    /// Frames the file declares.
    pub declared: u64,
    /// Frames, counted from the first, whose bytes lie wholly inside the file: what a decoder can still read.
    pub complete: u64,
}

/// Walks the top-level boxes; reads the tracks in `moov` and the video samples of every fragment.
pub(super) fn layout(file: &mut File, file_len: u64) -> io::Result<Mp4Layout> {
    let mut layout = Mp4Layout::default();
    let mut video: Option<VideoTrack> = None;
    // Fragmented files: the video samples of the last `moof`, which count once their `mdat` is whole.
    let mut fragment_samples = 0u64;
    let mut fragments = FragmentCount::default();
    let mut offset = 0u64;
    while offset + 8 <= file_len {
        file.seek(SeekFrom::Start(offset))?;
        let mut header = [0u8; 16];
        let header = read_up_to(file, &mut header)?;
        // A box header: 32-bit big-endian size, four-byte type, and a 64-bit size when the first is 1.
        let Some((&size, rest)) = header.split_first_chunk::<4>() else {
            break;
        };
        let Some((&box_type, rest)) = rest.split_first_chunk::<4>() else {
            break;
        };
        let large_size = rest.first_chunk::<8>().map(|bytes| u64::from_be_bytes(*bytes));
        let (box_len, header_len) = match (u32::from_be_bytes(size), large_size) {
            (0, _) => (file_len - offset, 8),
            (1, Some(large_size)) => (large_size, 16),
            (size, _) => (u64::from(size), 8),
        };
        if box_len < header_len {
            layout.truncated = Some(format!("a box at byte {offset} has an impossible size"));
            break;
        }
        if offset + box_len > file_len {
            layout.truncated = Some(format!(
                "the '{}' box needs {} bytes but the file ends after {}",
                String::from_utf8_lossy(&box_type),
                offset + box_len,
                file_len
            ));
            if &box_type == b"mdat" {
                fragments.cut += fragment_samples;
            }
            break;
        }
        match &box_type {
            b"moov" if box_len <= MAX_MOOV_BYTES => {
                let moov = read_payload(file, offset, box_len, header_len)?;
                for track in tracks(&moov) {
                    layout.has_tracks = true;
                    if track.handler == *b"vide" {
                        layout.has_video_track = true;
                        video.get_or_insert(track);
                    }
                }
            }
            b"moof" if box_len <= MAX_MOOF_BYTES => {
                let moof = read_payload(file, offset, box_len, header_len)?;
                fragment_samples = video
                    .as_ref()
                    .map_or(0, |video| fragment_sample_count(&moof, video.track_id));
            }
            b"mdat" => {
                fragments.whole += fragment_samples;
                fragment_samples = 0;
            }
            _ => {}
        }
        offset += box_len;
    }
    layout.video_frames = video.and_then(|video| {
        let table = video.samples.as_ref()?;
        let in_moov = table.complete_prefix(file_len);
        Some(VideoFrames {
            declared: table.count() + fragments.whole + fragments.cut,
            complete: if in_moov == table.count() {
                in_moov + fragments.whole
            } else {
                in_moov
            },
        })
    });
    Ok(layout)
}

/// Video samples of a fragmented file: in fragments whose data is whole, and in the one the file's end cuts.
#[derive(Default)]
struct FragmentCount {
    whole: u64,
    cut: u64,
}

fn read_payload(file: &mut File, offset: u64, box_len: u64, header_len: u64) -> io::Result<Vec<u8>> {
    let mut payload = vec![0u8; (box_len - header_len) as usize];
    file.seek(SeekFrom::Start(offset + header_len))?;
    file.read_exact(&mut payload)?;
    Ok(payload)
}

/// Reads until `buffer` is full or the file ends, and returns the part that was filled.
pub(super) fn read_up_to<'a>(file: &mut File, buffer: &'a mut [u8]) -> io::Result<&'a [u8]> {
    let mut filled = 0;
    while let Some(rest) = buffer.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        let n = file.read(rest)?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    // `read` never reports more than it was given, so `filled` is within the buffer.
    let buffer: &[u8] = buffer;
    Ok(buffer.get(..filled).unwrap_or(buffer))
}

/// One `trak`: its handler, id and (for the count) its sample table.
struct VideoTrack {
    handler: [u8; 4],
    track_id: u32,
    samples: Option<SampleTable>,
}

/// The `trak`s of a `moov` payload.
fn tracks(moov: &[u8]) -> Vec<VideoTrack> {
    let mut found = Vec::new();
    for trak in child_boxes(moov, b"trak") {
        let track_id = child_boxes(trak, b"tkhd").first().and_then(|tkhd| {
            // tkhd: version (1), flags (3), then creation/modification times (4 or 8 bytes each), track_ID (4).
            let skip = if tkhd.first() == Some(&1) { 20 } else { 12 };
            be_u32(tkhd, skip)
        });
        for mdia in child_boxes(trak, b"mdia") {
            // hdlr payload: version+flags (4), pre_defined (4), handler_type (4).
            let Some(handler) = child_boxes(mdia, b"hdlr")
                .first()
                .and_then(|hdlr| hdlr.get(8..))
                .and_then(<[u8]>::first_chunk::<4>)
                .copied()
            else {
                continue;
            };
            let samples = child_boxes(mdia, b"minf")
                .first()
                .and_then(|minf| child_boxes(minf, b"stbl").first().copied())
                .and_then(SampleTable::read);
            found.push(VideoTrack {
                handler,
                track_id: track_id.unwrap_or(0),
                samples,
            });
        }
    }
    found
}

/// Where each sample of a track lies in the file.
struct SampleTable {
    /// Byte size of each sample (all equal when the table gives one size).
    sizes: SampleSizes,
    /// File offset of each chunk.
    chunk_offsets: Vec<u64>,
    /// Sample-to-chunk runs: (first chunk, 1-based; samples per chunk).
    chunk_runs: Vec<(u32, u32)>,
}

enum SampleSizes {
    Uniform { size: u64, count: u64 },
    Each(Vec<u64>),
}

impl SampleTable {
    fn read(stbl: &[u8]) -> Option<SampleTable> {
        let sizes = if let Some(stsz) = child_boxes(stbl, b"stsz").first() {
            // stsz: version+flags (4), sample_size (4), sample_count (4), then a size per sample if sample_size is 0.
            let size = u64::from(be_u32(stsz, 4)?);
            let count = u64::from(be_u32(stsz, 8)?);
            if count > MAX_SAMPLES {
                return None;
            }
            if size > 0 {
                SampleSizes::Uniform { size, count }
            } else {
                let entries = stsz.get(12..)?;
                SampleSizes::Each(
                    entries
                        .chunks_exact(4)
                        .take(count as usize)
                        .filter_map(|e| be_u32(e, 0).map(u64::from))
                        .collect(),
                )
            }
        } else {
            let stz2 = child_boxes(stbl, b"stz2").first().copied()?;
            // stz2: version+flags (4), reserved (3), field_size (1), sample_count (4), packed sizes.
            let field_bits = *stz2.get(7)?;
            let count = u64::from(be_u32(stz2, 8)?);
            if count > MAX_SAMPLES {
                return None;
            }
            let packed = stz2.get(12..)?;
            let size_at = |k: usize| -> Option<u64> {
                match field_bits {
                    4 => packed
                        .get(k / 2)
                        .map(|b| u64::from(if k.is_multiple_of(2) { b >> 4 } else { b & 0x0f })),
                    8 => packed.get(k).map(|&b| u64::from(b)),
                    16 => packed
                        .get(2 * k..)
                        .and_then(<[u8]>::first_chunk::<2>)
                        .map(|b| u64::from(u16::from_be_bytes(*b))),
                    _ => None,
                }
            };
            SampleSizes::Each((0..count as usize).map_while(size_at).collect())
        };
        let chunk_offsets: Vec<u64> = if let Some(stco) = child_boxes(stbl, b"stco").first() {
            let count = be_u32(stco, 4)? as usize;
            stco.get(8..)?
                .chunks_exact(4)
                .take(count)
                .filter_map(|e| be_u32(e, 0).map(u64::from))
                .collect()
        } else {
            let co64 = child_boxes(stbl, b"co64").first().copied()?;
            let count = be_u32(co64, 4)? as usize;
            co64.get(8..)?
                .chunks_exact(8)
                .take(count)
                .filter_map(|e| e.first_chunk::<8>().map(|b| u64::from_be_bytes(*b)))
                .collect()
        };
        let stsc = child_boxes(stbl, b"stsc").first().copied()?;
        let count = be_u32(stsc, 4)? as usize;
        let chunk_runs: Vec<(u32, u32)> = stsc
            .get(8..)?
            .chunks_exact(12)
            .take(count)
            .filter_map(|e| Some((be_u32(e, 0)?, be_u32(e, 4)?)))
            .collect();
        Some(SampleTable {
            sizes,
            chunk_offsets,
            chunk_runs,
        })
    }

    fn count(&self) -> u64 {
        match &self.sizes {
            SampleSizes::Uniform { count, .. } => *count,
            SampleSizes::Each(sizes) => sizes.len() as u64,
        }
    }

    fn size(&self, sample: u64) -> Option<u64> {
        match &self.sizes {
            SampleSizes::Uniform { size, count } => (sample < *count).then_some(*size),
            SampleSizes::Each(sizes) => sizes.get(sample as usize).copied(),
        }
    }

    /// How many samples, counted from the first, end at or before `file_len`.
    fn complete_prefix(&self, file_len: u64) -> u64 {
        let total = self.count();
        let mut sample = 0u64;
        for (chunk_index, &chunk_offset) in self.chunk_offsets.iter().enumerate() {
            let chunk_number = chunk_index as u32 + 1;
            // The run that covers this chunk: the last whose first chunk is at or before it.
            let per_chunk = self
                .chunk_runs
                .iter()
                .take_while(|(first, _)| *first <= chunk_number)
                .last()
                .map_or(0, |(_, samples)| *samples);
            let mut offset = chunk_offset;
            for _ in 0..per_chunk {
                if sample >= total {
                    return total;
                }
                let Some(size) = self.size(sample) else {
                    return sample;
                };
                offset = offset.saturating_add(size);
                if offset > file_len {
                    return sample;
                }
                sample += 1;
            }
        }
        sample
    }
}

/// The video samples a `moof` holds for track `track_id` (the sum of its `trun` sample counts).
fn fragment_sample_count(moof: &[u8], track_id: u32) -> u64 {
    let mut samples = 0;
    for traf in child_boxes(moof, b"traf") {
        // tfhd: version+flags (4), track_ID (4).
        let id = child_boxes(traf, b"tfhd").first().and_then(|tfhd| be_u32(tfhd, 4));
        if id != Some(track_id) {
            continue;
        }
        for trun in child_boxes(traf, b"trun") {
            // trun: version+flags (4), sample_count (4).
            samples += be_u32(trun, 4).map_or(0, u64::from);
        }
    }
    samples
}

/// The big-endian u32 at `at`, if the bytes are there.
fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..)
        .and_then(<[u8]>::first_chunk::<4>)
        .map(|b| u32::from_be_bytes(*b))
}

/// The payloads of the direct children of type `wanted` in a box payload (32-bit sizes, as inside `moov`).
pub(super) fn child_boxes<'a>(payload: &'a [u8], wanted: &[u8; 4]) -> Vec<&'a [u8]> {
    let mut children = Vec::new();
    let mut rest = payload;
    // Each child: a 32-bit big-endian size (its 8-byte header included), a four-byte type, the payload.
    while let Some(([s0, s1, s2, s3, kind @ ..], _)) = rest.split_first_chunk::<8>() {
        let size = u32::from_be_bytes([*s0, *s1, *s2, *s3]) as usize;
        if size < 8 {
            break;
        }
        let Some((child, next)) = rest.split_at_checked(size) else {
            break;
        };
        if kind == wanted
            && let Some((_, child_payload)) = child.split_first_chunk::<8>()
        {
            children.push(child_payload);
        }
        rest = next;
    }
    children
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An MP4 box: its size, its four-letter kind, its payload (also used by the container tests beside).
    pub(in crate::video) fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut bytes = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(payload);
        bytes
    }

    fn full_box(kind: &[u8; 4], fields: &[u32]) -> Vec<u8> {
        let mut payload = vec![0u8; 4];
        for field in fields {
            payload.extend_from_slice(&field.to_be_bytes());
        }
        mp4_box(kind, &payload)
    }

    /// A video track of `sizes` samples, two per chunk, at `offsets`.
    fn video_trak(sizes: &[u32], offsets: &[u32]) -> Vec<u8> {
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(b"vide");
        hdlr.extend_from_slice(&[0u8; 12]);
        let mut stsz = vec![0, sizes.len() as u32];
        stsz.extend_from_slice(sizes);
        let mut stco = vec![offsets.len() as u32];
        stco.extend_from_slice(offsets);
        let mut stbl = full_box(b"stsz", &stsz);
        stbl.extend(full_box(b"stco", &stco));
        stbl.extend(full_box(b"stsc", &[1, 1, 2, 1]));
        let mut mdia = mp4_box(b"hdlr", &hdlr);
        mdia.extend(mp4_box(b"minf", &mp4_box(b"stbl", &stbl)));
        let mut trak = full_box(b"tkhd", &[0, 0, 1]);
        trak.extend(mp4_box(b"mdia", &mdia));
        mp4_box(b"trak", &trak)
    }

    #[test]
    fn handlers_are_found_in_every_track() {
        let track = |handler: &[u8; 4]| {
            let mut hdlr = vec![0u8; 8];
            hdlr.extend_from_slice(handler);
            hdlr.extend_from_slice(&[0u8; 12]);
            mp4_box(b"trak", &mp4_box(b"mdia", &mp4_box(b"hdlr", &hdlr)))
        };
        let mut moov = track(b"soun");
        moov.extend(track(b"vide"));
        let handlers: Vec<[u8; 4]> = tracks(&moov).iter().map(|t| t.handler).collect();
        assert_eq!(handlers, vec![*b"soun", *b"vide"]);
    }

    #[test]
    fn complete_samples_are_counted_up_to_the_files_end() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut bytes = mp4_box(b"ftyp", b"isom\0\0\0\0");
        // Six samples of 100 bytes, two per chunk, the chunks back to back in one mdat after the moov.
        let moov_len = mp4_box(b"moov", &video_trak(&[100; 6], &[0, 0, 0])).len() as u32;
        let data_start = bytes.len() as u32 + moov_len + 8;
        let offsets = [data_start, data_start + 200, data_start + 400];
        bytes.extend(mp4_box(b"moov", &video_trak(&[100; 6], &offsets)));
        bytes.extend(mp4_box(b"mdat", &[0u8; 600]));
        let whole = dir.path().join("whole.mp4");
        std::fs::write(&whole, &bytes).expect("write");
        let mut file = File::open(&whole).expect("open");
        let found = layout(&mut file, bytes.len() as u64).expect("layout");
        assert!(found.truncated.is_none());
        assert_eq!(
            found.video_frames,
            Some(VideoFrames {
                declared: 6,
                complete: 6
            })
        );
        // Cut in the middle of the fourth sample: three remain whole.
        let cut_at = data_start as usize + 350;
        let cut = dir.path().join("cut.mp4");
        std::fs::write(&cut, &bytes[..cut_at]).expect("write");
        let mut file = File::open(&cut).expect("open");
        let found = layout(&mut file, cut_at as u64).expect("layout");
        assert!(found.truncated.is_some());
        assert_eq!(
            found.video_frames,
            Some(VideoFrames {
                declared: 6,
                complete: 3
            })
        );
    }
}
