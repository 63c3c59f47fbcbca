//! Splitting a batch across the tasks of a scheduler (Slurm job arrays, Kubernetes Indexed Jobs): which clips
//! shard K of N scores, and the `batch-shard-K-of-N.json` file each shard leaves in the shared output folder.
//!
//! Shards never talk to each other; the output folder is their only meeting point. Each task lists the clips
//! itself, so the partition must come out the same in every task: it is a function of the clips' keys (their
//! paths relative to the batch folder) and sizes alone, never of the listing order, the machine or the clock.
//! Within that, it balances the shards by bytes of video (the cost of a clip grows with its length and size) with
//! the longest-processing-time rule: the largest clips first, each to the shard with the fewest bytes so far,
//! which keeps the heaviest shard within 4/3 of the best possible (Graham 1969, "Bounds on multiprocessing timing
//! anomalies", SIAM J. Appl. Math. 17(2)).
//!
//! Clips whose outputs would land in the same folder (`run.mp4` and `run.mov`) go to the same shard, so two shards
//! never write the same file.

use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::batch::{BatchSummary, ClipEntry};
use crate::output::{self, OutputError};

/// Prefix of the shard files in the output folder: `batch-shard-K-of-N.json`.
pub const SHARD_FILE_PREFIX: &str = "batch-shard-";

/// One share of a batch: shard `index` of `count`, counted from 0 as Slurm array indices and Kubernetes
/// completion indices are, so either can be passed straight through (`--shard $SLURM_ARRAY_TASK_ID/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// K: which share, from 0 to `count - 1`.
    pub index: usize,
    /// N: how many shares the clips are split into.
    pub count: usize,
}

impl Shard {
    /// The shard's own file in the output folder, `batch-shard-K-of-N.json`.
    pub fn file_name(&self) -> String {
        format!("{SHARD_FILE_PREFIX}{}-of-{}.json", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `K/N`, as `--shard` takes it.
    fn from_str(text: &str) -> Result<Shard, String> {
        let usage = || format!("'{text}' is not K/N (shard K of N, K counting from 0, e.g. 0/8 to 7/8)");
        let (index, count) = text.trim().split_once('/').ok_or_else(usage)?;
        let index: usize = index.trim().parse().map_err(|_| usage())?;
        let count: usize = count.trim().parse().map_err(|_| usage())?;
        if count == 0 {
            return Err(format!("'{text}': N must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "'{text}': K counts from 0 and must be below N (0/{count} to {}/{count})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

/// The shard of each clip, in the order of `clips`, for a batch split into `count` shards (see the module
/// documentation for the rule). A `count` of 0 is taken as 1.
pub fn assign_shards(clips: &[ClipEntry], count: usize) -> Vec<usize> {
    let count = count.max(1);
    // Work units: the clips that share an output folder, with their bytes. A BTreeMap orders them by folder,
    // which breaks ties between equal sizes the same way on every machine.
    let mut units: BTreeMap<PathBuf, (u64, Vec<usize>)> = BTreeMap::new();
    for (position, clip) in clips.iter().enumerate() {
        let unit = units.entry(clip.output_key()).or_default();
        // One byte more per clip so that empty files spread over the shards too.
        unit.0 = unit.0.saturating_add(clip.size_byte.saturating_add(1));
        unit.1.push(position);
    }
    let mut units: Vec<(u64, PathBuf, Vec<usize>)> = units
        .into_iter()
        .map(|(key, (bytes, positions))| (bytes, key, positions))
        .collect();
    // Largest first; equal sizes in folder order (the sort is stable).
    units.sort_by_key(|unit| std::cmp::Reverse(unit.0));

    // Min-heap of (bytes so far, shard): the lightest shard, and among equals the lowest index.
    let mut loads: BinaryHeap<std::cmp::Reverse<(u64, usize)>> =
        (0..count).map(|shard| std::cmp::Reverse((0, shard))).collect();
    let mut shard_of_clip = vec![0; clips.len()];
    for (bytes, _, positions) in units {
        let Some(std::cmp::Reverse((load, shard))) = loads.pop() else {
            break; // unreachable: the heap always holds `count` >= 1 entries
        };
        for position in positions {
            if let Some(slot) = shard_of_clip.get_mut(position) {
                *slot = shard;
            }
        }
        loads.push(std::cmp::Reverse((load.saturating_add(bytes), shard)));
    }
    shard_of_clip
}

/// The clips of one shard, in the order of `clips`.
pub fn clips_of_shard(clips: &[ClipEntry], shard: Shard) -> Vec<ClipEntry> {
    clips
        .iter()
        .zip(assign_shards(clips, shard.count))
        .filter(|(_, index)| *index == shard.index)
        .map(|(clip, _)| clip.clone())
        .collect()
}

/// What a shard saw when it listed the clips, so that `--summarize` can tell when shards split different lists
/// (the folder changed while the array ran).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingFingerprint {
    /// Clips in the whole batch (all shards).
    pub clips: usize,
    /// SHA-256 of the sorted lines `key<TAB>size_byte`, lowercase hex.
    pub sha256: String,
}

impl ListingFingerprint {
    /// The fingerprint of a batch's clip list (order does not matter).
    pub fn of(clips: &[ClipEntry]) -> ListingFingerprint {
        let mut lines: Vec<String> = clips
            .iter()
            .map(|clip| format!("{}\t{}\n", clip.key.to_string_lossy(), clip.size_byte))
            .collect();
        lines.sort();
        let mut hasher = Sha256::new();
        for line in &lines {
            hasher.update(line.as_bytes());
        }
        let sha256 = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
        ListingFingerprint {
            clips: clips.len(),
            sha256,
        }
    }
}

/// Whether a shard file is from a shard still running (or one killed before it finished) or a finished one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardState {
    /// Written when the shard started: its clips, none finished. A shard cancelled or killed midway leaves this.
    Running,
    /// Written when the shard ended: what happened to each of its clips.
    Finished,
}

/// The contents of `batch-shard-K-of-N.json`, written by shard K alone: once when it starts and once when it ends.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardRecord {
    /// Which shard.
    pub shard: Shard,
    /// Running or finished.
    pub state: ShardState,
    /// The machine the shard ran on.
    pub host: String,
    /// When the shard started, seconds since 1970-01-01 UTC: the newest record of a clip wins in `--summarize`.
    pub started_unix_s: u64,
    /// The whole batch's clip list as this shard saw it.
    pub listing: ListingFingerprint,
    /// The shard's own clips: their statuses (all `pending` while running), counts and times.
    pub summary: BatchSummary,
}

impl ShardRecord {
    /// Writes the record into `out/batch-shard-K-of-N.json`, atomically.
    pub fn write(&self, out: &Path) -> Result<(), OutputError> {
        let path = out.join(self.shard.file_name());
        let json = serde_json::to_vec_pretty(self).map_err(|e| OutputError {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        output::write_atomically(&path, &json)
    }
}

/// A shard file that could not be read back, with why.
#[derive(Clone, Debug)]
pub struct UnreadableShardFile {
    /// The file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// Every shard file directly in `out`, oldest start first, and those that could not be read.
pub fn read_shard_records(out: &Path) -> (Vec<ShardRecord>, Vec<UnreadableShardFile>) {
    let mut records = Vec::new();
    let mut unreadable = Vec::new();
    let Ok(entries) = std::fs::read_dir(out) else {
        return (records, unreadable);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(SHARD_FILE_PREFIX) && name.ends_with(".json")) {
            continue;
        }
        let path = entry.path();
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice::<ShardRecord>(&bytes).map_err(|e| e.to_string()));
        match parsed {
            Ok(record) => records.push(record),
            Err(reason) => unreadable.push(UnreadableShardFile { path, reason }),
        }
    }
    records.sort_by_key(|record| (record.started_unix_s, record.shard.count, record.shard.index));
    (records, unreadable)
}

/// This machine's name, for the shard file (empty where the system does not say).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(key: &str, size_byte: u64) -> ClipEntry {
        ClipEntry::clip(Path::new("/clips").join(key), PathBuf::from(key), size_byte)
    }

    /// A deterministic spread of clip sizes from 1 kB to about 100 MB (a linear congruential generator).
    fn study(count: usize) -> Vec<ClipEntry> {
        let mut state: u64 = 12345;
        (0..count)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                clip(&format!("site{}/subject{i:05}.mp4", i % 7), 1_000 + (state >> 37))
            })
            .collect()
    }

    #[test]
    fn shard_text_is_k_of_n_counting_from_zero() {
        assert_eq!("3/8".parse::<Shard>(), Ok(Shard { index: 3, count: 8 }));
        assert_eq!(" 0/1 ".parse::<Shard>(), Ok(Shard { index: 0, count: 1 }));
        assert_eq!(Shard { index: 3, count: 8 }.to_string(), "3/8");
        assert_eq!(Shard { index: 3, count: 8 }.file_name(), "batch-shard-3-of-8.json");
        for bad in ["8/8", "1/0", "a/2", "3", "-1/4", "1/2/3", ""] {
            let error = bad.parse::<Shard>().expect_err(bad);
            assert!(error.contains(&format!("'{bad}'")), "{error}");
        }
        assert!("4/4".parse::<Shard>().expect_err("K = N").contains("0/4 to 3/4"));
    }

    #[test]
    fn every_clip_falls_in_exactly_one_shard_whatever_the_listing_order() {
        let clips = study(1000);
        let shards = assign_shards(&clips, 7);
        let mut reversed = clips.clone();
        reversed.reverse();
        let mut rotated = clips.clone();
        rotated.rotate_left(333);
        for other in [reversed, rotated] {
            let other_shards = assign_shards(&other, 7);
            for (clip, shard) in other.iter().zip(other_shards) {
                let position = clips.iter().position(|c| c.key == clip.key).expect("same clips");
                assert_eq!(shards[position], shard, "{} moved", clip.key.display());
            }
        }
        let mut union: Vec<PathBuf> = (0..7)
            .flat_map(|index| clips_of_shard(&clips, Shard { index, count: 7 }))
            .map(|clip| clip.key)
            .collect();
        assert_eq!(union.len(), clips.len(), "no clip in two shards");
        union.sort();
        union.dedup();
        assert_eq!(union.len(), clips.len(), "every clip in a shard");
    }

    #[test]
    fn shards_are_balanced_by_bytes() {
        let clips = study(2000);
        let shards = assign_shards(&clips, 16);
        let mut bytes = [0u64; 16];
        for (clip, shard) in clips.iter().zip(&shards) {
            bytes[*shard] += clip.size_byte;
        }
        let heaviest = *bytes.iter().max().expect("16 shards") as f64;
        let lightest = *bytes.iter().min().expect("16 shards") as f64;
        assert!(heaviest / lightest < 1.01, "bytes per shard {bytes:?}");

        // Round-robin over the sorted names would pair the extremes badly; the rule keeps one huge clip alone.
        let mut skewed = vec![clip("huge.mp4", 1_000_000)];
        skewed.extend((0..10).map(|i| clip(&format!("small{i}.mp4"), 100_000)));
        let shards = assign_shards(&skewed, 2);
        assert!(shards[1..].iter().all(|&s| s != shards[0]), "{shards:?}");
    }

    #[test]
    fn clips_sharing_an_output_folder_share_a_shard() {
        let clips: Vec<ClipEntry> = (0..50)
            .flat_map(|i| {
                [
                    clip(&format!("run{i}.mp4"), 10 + i),
                    clip(&format!("run{i}.mov"), 1000 - i),
                ]
            })
            .collect();
        let shards = assign_shards(&clips, 4);
        for pair in shards.chunks(2) {
            assert_eq!(pair[0], pair[1]);
        }
    }

    #[test]
    fn more_shards_than_clips_leaves_some_empty() {
        let clips = study(3);
        let shards = assign_shards(&clips, 8);
        let mut used = shards.clone();
        used.sort();
        used.dedup();
        assert_eq!(used.len(), 3, "{shards:?}");
        assert!(assign_shards(&[], 4).is_empty());
    }

    #[test]
    fn the_listing_fingerprint_ignores_order_and_sees_sizes() {
        let clips = study(20);
        let mut shuffled = clips.clone();
        shuffled.rotate_left(7);
        assert_eq!(ListingFingerprint::of(&clips), ListingFingerprint::of(&shuffled));
        let mut grown = clips.clone();
        grown[3].size_byte += 1;
        assert_ne!(
            ListingFingerprint::of(&clips).sha256,
            ListingFingerprint::of(&grown).sha256
        );
    }
}
