//! `runform batch --shard` on a real Slurm cluster: a one-node cluster on this machine (munged, slurmctld and
//! slurmd from Debian's slurm-wlm, started by scripts/slurm-local under a temporary folder) runs
//! scripts/slurm-batch.sbatch as a 4-task array over real clips. One task is cancelled midway with scancel; the
//! merged summary names its unfinished clips and the shard to re-submit; re-submitting that shard alone finishes
//! the batch, and the reports equal those of one `runform batch` on one machine.
//!
//! Skips, saying why, where ../shared/videos is absent or the Slurm daemons cannot start here. The shard split
//! and the merge are also tested without Slurm in tests/batch_shards.rs.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Exit status of scripts/slurm-local when the daemons cannot start.
const CLUSTER_CANNOT_START: i32 = 77;
/// Shards in the array.
const SHARDS: usize = 4;
/// Longest wait for the cluster, an array or one batch.
const PATIENCE: Duration = Duration::from_secs(600);

/// The fixture clips scored: the short ones whole, and two-second cuts of longer ones.
const WHOLE_CLIPS: [&str; 5] = [
    "overground_side_run_sports2d_demo3.mp4",
    "overground_side_openpose_overlay_radluy.mp4",
    "rear_overground_openpose_overlay_radluy.mp4",
    "overground_side_tracking_vertical.mp4",
    "walk_rear_forest_pexels.mp4",
];
const CUT_CLIPS: [&str; 3] = [
    "walk_side_sports2d_demo.mp4",
    "walk_side_indoor_sports2d_demo4.mp4",
    "treadmill_oblique_tiktok.mp4",
];

/// A running one-node cluster; dropping it closes scripts/slurm-local's standard input, which tears the cluster
/// down (jobs cancelled, daemons stopped) however the test ends.
struct LocalCluster {
    script: Child,
    dir: PathBuf,
}

impl LocalCluster {
    /// Starts the cluster under `dir`, or says why it cannot start here and returns `None`.
    fn start(dir: &Path) -> Option<LocalCluster> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm-local");
        let mut child = Command::new(&script)
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scripts/slurm-local runs");
        let deadline = Instant::now() + PATIENCE;
        while !dir.join("ready").exists() {
            if let Some(status) = child.try_wait().expect("wait") {
                let mut why = String::new();
                let _ = child.stderr.take().expect("stderr").read_to_string(&mut why);
                assert_eq!(
                    status.code(),
                    Some(CLUSTER_CANNOT_START),
                    "scripts/slurm-local failed: {why}"
                );
                eprintln!("skipped: the Slurm daemons cannot start on this machine:\n{why}");
                return None;
            }
            assert!(Instant::now() < deadline, "the cluster was not ready in time");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(LocalCluster {
            script: child,
            dir: dir.to_path_buf(),
        })
    }

    /// A Slurm command aimed at this cluster.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("SLURM_CONF", self.dir.join("slurm.conf"));
        command
    }

    /// Runs a Slurm command and returns its standard output; panics with its error output if it fails.
    fn run(&self, program: &str, args: &[&str]) -> String {
        let output = self.command(program).args(args).output().expect("Slurm command runs");
        assert!(
            output.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Submits scripts/slurm-batch.sbatch as the array `indices` and returns the job id.
    fn submit(&self, indices: &str, clips: &Path, out: &Path, logs: &Path) -> String {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm-batch.sbatch");
        let output = self
            .command("sbatch")
            .env("RUNFORM", env!("CARGO_BIN_EXE_runform"))
            .arg("--parsable")
            .arg(format!("--array={indices}"))
            // Two tasks at a time on this 2-core machine: one core each.
            .args(["--cpus-per-task=1", "--mem-per-cpu=400M"])
            .arg(format!("--output={}/%A_%a.log", logs.display()))
            .arg(&script)
            .arg(SHARDS.to_string())
            .arg(clips)
            .arg(out)
            .output()
            .expect("sbatch runs");
        assert!(
            output.status.success(),
            "sbatch: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .split(';')
            .next()
            .expect("job id")
            .to_owned()
    }

    /// Whether any task of `job` is still pending, running or completing.
    fn is_active(&self, job: &str) -> bool {
        let output = self
            .command("squeue")
            .args([
                "--noheader",
                "--jobs",
                job,
                "--states=PENDING,RUNNING,COMPLETING,CONFIGURING",
            ])
            .output()
            .expect("squeue runs");
        !String::from_utf8_lossy(&output.stdout).trim().is_empty()
    }

    fn wait_for(&self, job: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.is_active(job) {
            assert!(Instant::now() < deadline, "job {job} did not finish in time");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for log in ["slurmctld.log", "slurmd.log"] {
                let text = std::fs::read_to_string(self.dir.join(log)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                eprintln!("--- last lines of {log}:");
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
        drop(self.script.stdin.take());
        let _ = self.script.wait();
    }
}

/// The fixture clips in a fresh folder: some whole, some cut to two seconds.
fn study_clips(videos: &Path, clips: &Path) {
    std::fs::create_dir_all(clips.join("cuts")).expect("mkdir");
    for name in WHOLE_CLIPS {
        std::fs::copy(videos.join(name), clips.join(name)).expect("copy fixture");
    }
    for name in CUT_CLIPS {
        let source = videos.join(name);
        let cut = clips.join("cuts").join(name);
        common::ffmpeg(&[
            "-i",
            source.to_str().expect("utf-8"),
            "-t",
            "2",
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            cut.to_str().expect("utf-8"),
        ]);
    }
}

fn runform(args: &[&str], folder: &Path, out: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_runform"))
        .arg("batch")
        .arg(folder)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("runform runs");
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).expect("JSON")
}

fn shard_file(out: &Path, index: usize) -> PathBuf {
    out.join(format!("batch-shard-{index}-of-{SHARDS}.json"))
}

/// The clips (keys) a shard file lists.
fn clips_of(record: &serde_json::Value) -> Vec<String> {
    record["summary"]["clips"]
        .as_array()
        .expect("clips")
        .iter()
        .map(|c| c["clip"].as_str().expect("key").to_owned())
        .collect()
}

fn report_of(out: &Path, key: &str) -> PathBuf {
    out.join(Path::new(key).with_extension("")).join("report.json")
}

/// A task that has finished some of its clips but not all, from the shard files it wrote when it started.
fn shard_cut_midway(out: &Path) -> Option<usize> {
    (0..SHARDS).find(|&index| {
        let Ok(bytes) = std::fs::read(shard_file(out, index)) else {
            return false;
        };
        let Ok(record) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return false;
        };
        let keys = clips_of(&record);
        let done = keys.iter().filter(|key| report_of(out, key).is_file()).count();
        record["state"] == "running" && done >= 1 && done < keys.len()
    })
}

#[test]
fn a_slurm_array_with_a_cancelled_task_resubmitted_ends_with_the_reports_of_one_batch() {
    let Some(videos) = common::shared_videos() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().join("clips");
    study_clips(&videos, &clips);
    let clip_count = WHOLE_CLIPS.len() + CUT_CLIPS.len();

    let Some(cluster) = LocalCluster::start(&dir.path().join("cluster")) else {
        return;
    };
    let out = dir.path().join("scored");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let task_logs = || {
        let mut text = String::new();
        for entry in std::fs::read_dir(&logs).expect("logs").flatten() {
            text.push_str(&format!(
                "--- {}\n{}",
                entry.path().display(),
                std::fs::read_to_string(entry.path()).unwrap_or_default()
            ));
        }
        text
    };

    let array_started = Instant::now();
    let job = cluster.submit(&format!("0-{}", SHARDS - 1), &clips, &out, &logs);
    // Cancel the first task seen with some of its clips finished and some not.
    let deadline = Instant::now() + PATIENCE;
    let cancelled = loop {
        if let Some(index) = shard_cut_midway(&out) {
            cluster.run("scancel", &[&format!("{job}_{index}")]);
            break index;
        }
        assert!(
            cluster.is_active(&job) && Instant::now() < deadline,
            "no task was seen midway (each has one clip?):\n{}",
            task_logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    cluster.wait_for(&job);
    let array_s = array_started.elapsed().as_secs_f64();
    let state = cluster.run("scontrol", &["show", "job", &format!("{job}_{cancelled}")]);
    assert!(state.contains("JobState=CANCELLED"), "{state}");
    let record = json(&shard_file(&out, cancelled));
    assert_eq!(
        record["state"], "running",
        "the cancelled task never finished its shard"
    );
    let unfinished: BTreeSet<String> = clips_of(&record)
        .into_iter()
        .filter(|key| !report_of(&out, key).is_file())
        .collect();
    assert!(!unfinished.is_empty(), "the task was cancelled before its last clip");

    // The merge names exactly the cancelled task's unfinished clips, and its shard as the one to re-submit.
    let (code, text) = runform(&["--summarize"], &clips, &out);
    assert_eq!(code, 40, "clips are missing: {text}");
    let summary = json(&out.join("batch-summary.json"));
    assert_eq!(summary["clips_found"], clip_count);
    assert_eq!(summary["failed"], 0, "{text}\n{}", task_logs());
    let pending: BTreeSet<String> = summary["clips"]
        .as_array()
        .expect("clips")
        .iter()
        .filter(|c| c["status"] == "pending")
        .map(|c| c["clip"].as_str().expect("key").to_owned())
        .collect();
    assert_eq!(pending, unfinished, "{text}");
    assert_eq!(summary["merged"]["unfinished_shards"], serde_json::json!([cancelled]));
    assert!(text.contains(&format!("--array={cancelled} ")), "{text}");

    // Re-submitting that shard alone finishes the batch; what the cancelled task finished is not redone.
    let finished_before = clips_of(&record).len() - unfinished.len();
    let resubmitted = cluster.submit(&cancelled.to_string(), &clips, &out, &logs);
    cluster.wait_for(&resubmitted);
    let record = json(&shard_file(&out, cancelled));
    assert_eq!(record["state"], "finished", "{}", task_logs());
    assert_eq!(record["summary"]["up_to_date"], finished_before);
    assert_eq!(record["summary"]["scored"], unfinished.len());

    let (code, text) = runform(&["--summarize"], &clips, &out);
    assert_eq!(code, 0, "{text}\n{}", task_logs());
    let summary = json(&out.join("batch-summary.json"));
    assert_eq!(summary["pending"], 0);
    assert_eq!(summary["failed"], 0);
    drop(cluster);

    // Every clip in exactly one shard, and nothing half-written.
    let mut seen: Vec<String> = (0..SHARDS)
        .flat_map(|index| clips_of(&json(&shard_file(&out, index))))
        .collect();
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!((before, seen.len()), (clip_count, clip_count), "{seen:?}");
    let mut folders = vec![out.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("list").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !name.ends_with(".partial"),
                "temporary file left: {}",
                entry.path().display()
            );
            if entry.path().is_dir() {
                folders.push(entry.path());
            }
        }
    }

    // The same reports and summary rows as one batch on one machine.
    let single = dir.path().join("single");
    let single_started = Instant::now();
    let (code, text) = runform(&["--jobs", "2", "--quiet"], &clips, &single);
    assert_eq!(code, 0, "{text}");
    let single_s = single_started.elapsed().as_secs_f64();
    let array_reports = common::reports_below(&out);
    assert_eq!(array_reports.len(), clip_count);
    assert_eq!(array_reports, common::reports_below(&single));
    assert_eq!(common::summary_rows(&out), common::summary_rows(&single));
    eprintln!(
        "{clip_count} clips: the array, one task cancelled, ran {array_s:.1} s until its last task ended; one batch \
         of the same clips took {single_s:.1} s (scripts/bench-scale-out measures throughput)"
    );
}
