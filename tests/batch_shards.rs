//! `runform batch --shard K/N` and `--summarize` through the binary, without a scheduler: shards run one after
//! another give the reports and summary of one batch; the merge names what is missing and the shards to re-run;
//! a shard touches only its own files; and the Slurm script and the Kubernetes manifest run the shards as
//! documented. (tests/slurm.rs runs the same on a real Slurm cluster.)

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn runform(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_runform"))
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

fn batch(clips: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "batch",
        clips.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--jobs",
        "1",
    ];
    args.extend(extra);
    runform(&args)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).expect("JSON")
}

/// The clips a shard file lists, by key.
fn clips_of(record: &serde_json::Value) -> BTreeSet<String> {
    record["summary"]["clips"]
        .as_array()
        .expect("clips")
        .iter()
        .map(|c| c["clip"].as_str().expect("key").to_owned())
        .collect()
}

/// The summary's clips with `status`, by key.
fn with_status(summary: &serde_json::Value, status: &str) -> BTreeSet<String> {
    summary["clips"]
        .as_array()
        .expect("clips")
        .iter()
        .filter(|c| c["status"] == status)
        .map(|c| c["clip"].as_str().expect("key").to_owned())
        .collect()
}

/// Seven small clips of different sizes in two folders (two with the same name), and one that is not a video.
fn clip_folder(dir: &Path) -> PathBuf {
    let clips = dir.join("clips");
    std::fs::create_dir_all(clips.join("tuesday")).expect("mkdir");
    for (name, frames) in [("a.mp4", 12), ("b.mp4", 30), ("c.mp4", 18), ("d.mp4", 24)] {
        common::make_clip(&clips, name, 160, 120, frames);
    }
    for (name, frames) in [("a.mp4", 15), ("e.mp4", 21), ("f.mp4", 9)] {
        common::make_clip(&clips.join("tuesday"), name, 160, 120, frames);
    }
    std::fs::write(clips.join("notes.mp4"), "not a video\n".repeat(20)).expect("write");
    clips
}

#[test]
fn shards_run_one_after_another_give_the_reports_and_summary_of_one_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = clip_folder(dir.path());
    let out = dir.path().join("sharded");
    let mut codes = Vec::new();
    for index in 0..3 {
        let (code, text) = batch(&clips, &out, &["--shard", &format!("{index}/3")]);
        assert!(text.starts_with(&format!("shard {index}/3: ")), "{text}");
        codes.push(code);
    }
    assert!(
        !out.join("batch-summary.json").exists(),
        "a shard never writes the batch summary"
    );

    // Each clip in exactly one shard; the bad clip's shard alone exits 40.
    let records: Vec<serde_json::Value> = (0..3)
        .map(|index| json(&out.join(format!("batch-shard-{index}-of-3.json"))))
        .collect();
    let mut keys: Vec<String> = records.iter().flat_map(clips_of).collect();
    keys.sort();
    let listed = keys.len();
    keys.dedup();
    assert_eq!((listed, keys.len()), (8, 8), "{keys:?}");
    for (record, code) in records.iter().zip(&codes) {
        assert_eq!(record["state"], "finished");
        let failing = clips_of(record).contains("notes.mp4");
        assert_eq!(*code, if failing { 40 } else { 0 }, "{record}");
    }

    let (code, text) = batch(&clips, &out, &["--summarize"]);
    assert_eq!(code, 40, "the bad clip failed: {text}");
    let summary = json(&out.join("batch-summary.json"));
    assert_eq!(summary["clips_found"], 8);
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["pending"], 0);
    let failed = summary["clips"]
        .as_array()
        .expect("clips")
        .iter()
        .find(|c| c["status"] == "failed")
        .expect("a failed clip");
    assert_eq!(failed["clip"], "notes.mp4");
    assert!(
        failed["reason"].as_str().expect("reason").contains("notes.mp4"),
        "{failed}"
    );
    assert!(text.contains("failed: ") && text.contains("notes.mp4"), "{text}");
    assert_eq!(summary["merged"]["shards"].as_array().expect("shards").len(), 3);

    let single = dir.path().join("single");
    assert_eq!(batch(&clips, &single, &[]).0, 40);
    assert_eq!(common::reports_below(&out), common::reports_below(&single));
    assert_eq!(common::reports_below(&out).len(), 7);
    assert_eq!(common::summary_rows(&out), common::summary_rows(&single));
}

#[test]
fn summarize_names_the_clips_not_finished_and_the_shards_to_run_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = clip_folder(dir.path());
    std::fs::remove_file(clips.join("notes.mp4")).expect("remove");
    let out = dir.path().join("out");

    // Nothing run yet: every clip is pending, and without shard files no shard can be named.
    let (code, text) = batch(&clips, &out, &["--summarize"]);
    assert_eq!(code, 40, "{text}");
    assert!(text.contains("7 not finished yet"), "{text}");
    assert!(text.contains("no shard has finished it yet"), "{text}");

    assert_eq!(batch(&clips, &out, &["--shard", "0/2"]).0, 0);
    let first = clips_of(&json(&out.join("batch-shard-0-of-2.json")));
    let (code, text) = batch(&clips, &out, &["--summarize"]);
    assert_eq!(code, 40, "{text}");
    let summary = json(&out.join("batch-summary.json"));
    let all: BTreeSet<String> = with_status(&summary, "scored")
        .union(&with_status(&summary, "pending"))
        .cloned()
        .collect();
    assert_eq!(with_status(&summary, "scored"), first);
    assert_eq!(all.len(), 7);
    assert_eq!(summary["merged"]["unfinished_shards"], serde_json::json!([1]));
    assert!(
        text.contains("resubmit shard(s) 1 of 2 (Slurm: sbatch --array=1 ...)"),
        "{text}"
    );
    let csv = std::fs::read_to_string(out.join("batch-summary.csv")).expect("csv");
    assert_eq!(csv.matches(",pending,").count(), 7 - first.len(), "{csv}");

    // A shard that started and never finished (killed) is named as such.
    let running = serde_json::json!({
        "shard": {"index": 1, "count": 2}, "state": "running", "host": "node-17", "started_unix_s": 1,
        "listing": {"clips": 7, "sha256": "another listing"},
        "summary": {"root": "clips", "clips_found": 0, "scored": 0, "up_to_date": 0, "failed": 0, "elapsed_s": 0.0,
                    "clips": []}
    });
    std::fs::write(out.join("batch-shard-1-of-2.json"), running.to_string()).expect("write");
    let (_, text) = batch(&clips, &out, &["--summarize"]);
    assert!(text.contains("started on node-17 and has not finished"), "{text}");
    assert!(text.contains("shard(s) 1/2 split another list of clips"), "{text}");

    assert_eq!(batch(&clips, &out, &["--shard", "1/2"]).0, 0);
    let (code, text) = batch(&clips, &out, &["--summarize"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("7 finished, 0 failed, 0 not finished yet"), "{text}");

    // A report removed afterwards is missing again; a changed clip's report no longer counts.
    std::fs::remove_file(out.join("b/report.json")).expect("remove");
    common::make_clip(&clips, "c.mp4", 160, 120, 40);
    let (code, text) = batch(&clips, &out, &["--summarize"]);
    assert_eq!(code, 40, "{text}");
    assert!(text.contains("b.mp4: its report is gone"), "{text}");
    assert!(
        text.contains("c.mp4: its report is of another version of the file"),
        "{text}"
    );

    // Shard files of another split beside these: the newest split names the shards, and a note says so.
    let (code, text) = batch(&clips, &out, &["--shard", "0/3"]);
    assert_eq!(code, 0, "{text}");
    let (_, text) = batch(&clips, &out, &["--summarize"]);
    assert!(
        text.contains("shard files of several splits are here (N = 2, 3); shard numbers refer to N = 3"),
        "{text}"
    );
}

#[test]
fn summarize_counts_only_reports_made_with_the_settings_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).expect("mkdir");
    common::make_clip(&clips, "a.mp4", 160, 120, 12);
    let out = dir.path().join("out");
    assert_eq!(batch(&clips, &out, &["--model", "heavy"]).0, 0);
    assert_eq!(batch(&clips, &out, &["--summarize", "--model", "heavy"]).0, 0);
    let (code, text) = batch(&clips, &out, &["--summarize"]);
    assert_eq!(code, 40, "{text}");
    assert!(text.contains("made with other settings"), "{text}");
    assert!(
        text.contains("give --summarize the options the shards ran with"),
        "{text}"
    );
}

#[test]
fn summarize_names_reports_made_by_another_runform_build() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).expect("mkdir");
    common::make_clip(&clips, "a.mp4", 160, 120, 12);
    let out = dir.path().join("out");
    assert_eq!(batch(&clips, &out, &[]).0, 0);
    assert_eq!(batch(&clips, &out, &["--summarize"]).0, 0);
    // The same report, as an earlier build would have left it.
    let path = out.join("a/report.json");
    let mut report = json(&path);
    report["settings"]["runform_version"] = "0.0.9".into();
    report["settings"]["runform_build"] = "0.0.9+src.000000000000".into();
    std::fs::write(&path, serde_json::to_vec(&report).expect("JSON")).expect("write");
    let (code, text) = batch(&clips, &out, &["--summarize"]);
    assert_eq!(code, 40, "{text}");
    assert!(
        text.contains("its report was made by another runform build (0.0.9+src.000000000000)"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "1 report(s) were made by another runform build than this one ({})",
            runform::BUILD
        )),
        "{text}"
    );
    assert!(!text.contains("other settings"), "only the build differs: {text}");
}

#[test]
fn a_shard_removes_only_its_own_leftovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = clip_folder(dir.path());
    let out = dir.path().join("out");
    // Which shard each clip falls in, from a first run of both shards.
    for index in 0..2 {
        batch(&clips, &out, &["--shard", &format!("{index}/2")]);
    }
    let theirs = clips_of(&json(&out.join("batch-shard-1-of-2.json")));
    let their_clip = theirs
        .iter()
        .find(|key| *key != "notes.mp4")
        .expect("a clip of shard 1");
    let their_folder = out.join(Path::new(their_clip).with_extension(""));
    // Another shard's write in progress (a temporary file of an atomic write) must survive shard 0.
    let in_progress = their_folder.join(".report.json.4242.partial");
    std::fs::write(&in_progress, b"half").expect("write");
    batch(&clips, &out, &["--shard", "0/2"]);
    assert!(in_progress.exists(), "shard 0 removed shard 1's temporary file");
    batch(&clips, &out, &["--shard", "1/2"]);
    assert!(!in_progress.exists(), "shard 1 cleans its own leftovers");
}

#[test]
fn bad_shard_arguments_are_refused_with_the_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = dir.path().to_str().expect("utf-8");
    let (code, text) = runform(&["batch", clips, "--shard", "4/4"]);
    assert_eq!(code, 2);
    assert!(
        text.contains("K counts from 0 and must be below N (0/4 to 3/4)"),
        "{text}"
    );
    let (code, text) = runform(&["batch", clips, "--shard", "two/4"]);
    assert_eq!(code, 2);
    assert!(text.contains("is not K/N"), "{text}");
    let (code, text) = runform(&["batch", clips, "--shard", "0/2", "--summarize"]);
    assert_eq!(code, 2);
    assert!(text.contains("cannot be used with"), "{text}");
}

/// The Slurm array script, run as Slurm would run each task (SLURM_ARRAY_TASK_ID set), without Slurm.
#[test]
fn the_slurm_script_runs_the_shard_of_its_array_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clips = clip_folder(dir.path());
    std::fs::remove_file(clips.join("notes.mp4")).expect("remove");
    let out = dir.path().join("out");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm-batch.sbatch");
    let task = |index: &str, shards: &str| {
        let output = Command::new("bash")
            .arg(&script)
            .args([
                shards,
                clips.to_str().expect("utf-8"),
                out.to_str().expect("utf-8"),
                "--model",
                "heavy",
            ])
            .env("SLURM_ARRAY_TASK_ID", index)
            .env("SLURM_CPUS_PER_TASK", "1")
            .env("RUNFORM", env!("CARGO_BIN_EXE_runform"))
            .output()
            .expect("bash runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, text) = task("3", "3");
    assert_eq!(code, 2);
    assert!(text.contains("array index 3 is not a shard of 3"), "{text}");
    for index in ["0", "1", "2"] {
        let (code, text) = task(index, "3");
        assert_eq!(code, 0, "task {index}: {text}");
    }
    let (code, text) = batch(&clips, &out, &["--summarize", "--model", "heavy"]);
    assert_eq!(code, 0, "{text}");
    for index in 0..3 {
        let record = json(&out.join(format!("batch-shard-{index}-of-3.json")));
        assert_eq!(record["summary"]["jobs"], 1, "--jobs comes from SLURM_CPUS_PER_TASK");
    }
}

/// The manifest as JSON, through Python's YAML parser: the first Python with one, of the one on the PATH and
/// Debian's (scripts/setup installs python3-yaml for it).
fn manifest() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/k8s-batch-job.yaml");
    let mut errors = String::new();
    for python in ["python3", "/usr/bin/python3"] {
        let output = Command::new(python)
            .args([
                "-c",
                "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
            ])
            .arg(&path)
            .output();
        match output {
            Ok(output) if output.status.success() => {
                return serde_json::from_slice(&output.stdout).expect("JSON");
            }
            Ok(output) => errors.push_str(&String::from_utf8_lossy(&output.stderr)),
            Err(error) => errors.push_str(&format!("{python}: {error}\n")),
        }
    }
    panic!("no Python could read the manifest (scripts/setup installs python3-yaml): {errors}");
}

/// The Kubernetes Indexed Job's container command, run once per completion index as Kubernetes would run it
/// (JOB_COMPLETION_INDEX set, the manifest's environment), with the paths pointed at a temporary folder.
#[test]
fn the_kubernetes_job_runs_one_shard_per_completion_index() {
    let job = manifest();
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let container = &spec["template"]["spec"]["containers"][0];
    let env: Vec<(String, String)> = container["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|v| {
            (
                v["name"].as_str().expect("name").to_owned(),
                v["value"].as_str().expect("value").to_owned(),
            )
        })
        .collect();
    let value = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).expect(name);
    let completions = spec["completions"].as_u64().expect("completions");
    assert_eq!(value("SHARDS"), completions.to_string(), "SHARDS is N = completions");
    assert_eq!(
        spec["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"],
        serde_json::json!([40]),
        "a shard with bad clips is not retried"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let clips = clip_folder(dir.path());
    std::fs::remove_file(clips.join("notes.mp4")).expect("remove");
    let out = dir.path().join("scored");
    let program: Vec<String> = container["command"]
        .as_array()
        .expect("command")
        .iter()
        .chain(container["args"].as_array().expect("args"))
        .map(|part| part.as_str().expect("text").to_owned())
        .collect();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_runform")).parent().expect("bin dir");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let pod = |index: u64, shard_list: &str| {
        let mut command = Command::new(&program[0]);
        command.args(&program[1..]);
        for (name, value) in &env {
            command.env(name, value);
        }
        let output = command
            .env("CLIPS", &clips)
            .env("OUT", &out)
            .env("JOBS", "1")
            .env("RUNFORM_OPTIONS", "--model heavy --quiet")
            .env("SHARD_LIST", shard_list)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("PATH", &path)
            .output()
            .expect("the container command runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    for index in 0..completions {
        let (code, text) = pod(index, "");
        assert_eq!(code, 0, "pod {index}: {text}");
    }
    let shards: Vec<PathBuf> = (0..completions)
        .map(|index| out.join(format!("batch-shard-{index}-of-{completions}.json")))
        .collect();
    assert!(shards.iter().all(|file| file.is_file()), "one shard file per index");
    let (code, text) = batch(&clips, &out, &["--summarize", "--model", "heavy"]);
    assert_eq!(code, 0, "{text}");

    // Re-running some shards only: SHARD_LIST maps completion index i to its i-th entry.
    std::fs::remove_file(&shards[2]).expect("remove");
    std::fs::remove_file(&shards[5]).expect("remove");
    assert_eq!(pod(0, "5 2").0, 0);
    assert_eq!(pod(1, "5 2").0, 0);
    assert!(shards[2].is_file() && shards[5].is_file());
    let (code, text) = pod(2, "5 2");
    assert_eq!(code, 2);
    assert!(text.contains("no entry in SHARD_LIST"), "{text}");
}
