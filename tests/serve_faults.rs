//! `runform serve` under load and faults, on 127.0.0.1: 20 clips uploaded at once by 5 users, a `kill -9`
//! mid-analysis, the disk filling during an upload, and a read-only database.
//!
//! The disk and read-only cases run the server in its own mount namespace (`unshare -m`, util-linux) on a small
//! tmpfs or a read-only bind mount, so that the fault is real (ENOSPC, EROFS) even for root, and nothing outside
//! the test's temporary folder is touched. Tests run as root in CI, as on the developers' machines.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::server::{Browser, Server, add_user, location_id, runform, small_clip};

const PASSWORD: &str = "correct horse battery";

fn files_in(folder: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(folder)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default()
}

#[test]
fn twenty_clips_uploaded_at_once_by_five_users_are_all_analysed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let users: Vec<String> = (1..=5).map(|n| format!("pt{n}")).collect();
    for user in &users {
        add_user(&data, user, PASSWORD, false);
    }
    let server = Server::start(&data, &["--jobs", "2"]);
    let clip = small_clip(dir.path(), "run.mp4", 1.0);
    let first = Browser::login(&server.base, &users[0], PASSWORD);
    let athlete = first.add_athlete("Load");
    let sessions: Vec<i64> = std::thread::scope(|scope| {
        let uploads: Vec<_> = users
            .iter()
            .flat_map(|user| {
                let browser = std::sync::Arc::new(Browser::login(&server.base, user, PASSWORD));
                (0..4).map(move |n| (std::sync::Arc::clone(&browser), n))
            })
            .map(|(browser, n)| {
                let clip = &clip;
                scope.spawn(move || {
                    let date = format!("2026-03-{:02}", n + 1);
                    let response = browser.upload(
                        athlete,
                        clip,
                        &[("session_date", date.as_str()), ("model", "heavy")],
                        true,
                    );
                    assert_eq!(response.status(), 303, "upload refused: {:?}", response.text());
                    location_id(&response, "/sessions/")
                })
            })
            .collect();
        uploads
            .into_iter()
            .map(|upload| upload.join().expect("upload thread"))
            .collect()
    });
    assert_eq!(sessions.len(), 20);
    let mut unique = sessions.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 20, "every upload is its own session");
    for session in &sessions {
        let status = first.wait_done(*session, Duration::from_secs(600));
        assert_eq!(status["state"], "done", "session {session}: {status}");
        assert_eq!(status["report_ready"], true);
    }
    assert_eq!(files_in(&data.join("clips")).len(), 20);
    assert!(files_in(&data.join("uploads")).is_empty());
    let page = first.get(&format!("/athletes/{athlete}")).text().expect("page");
    assert_eq!(page.matches("href=\"/sessions/").count(), 20);
    // Nothing the server said was about the database (it reports every failed query on standard error).
    let said = server.stderr();
    assert!(!said.contains("locked") && !said.contains("database error"), "{said}");
}

#[test]
fn a_server_killed_mid_analysis_finishes_the_job_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    add_user(&data, "pt", PASSWORD, false);
    let mut server = Server::start(&data, &["--jobs", "1"]);
    let browser = Browser::login(&server.base, "pt", PASSWORD);
    let athlete = browser.add_athlete("Crash");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.mp4");
    let response = browser.upload(athlete, &demo, &[("session_date", "2026-04-01")], true);
    assert_eq!(response.status(), 303);
    let session = location_id(&response, "/sessions/");
    let started = Instant::now();
    loop {
        let status = browser.status(session);
        if status["state"] == "running" && status["frames_done"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        assert_ne!(
            status["state"], "done",
            "the analysis ended before the kill; use a longer clip"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the analysis never started: {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server.kill_hard();
    let server = Server::start(&data, &["--jobs", "1"]);
    let said = server.stdout_with("queued again");
    assert!(
        said.contains("1 analysis(es) interrupted by the last stop are queued again"),
        "{said}"
    );
    // The cookie survives the restart (sessions live in the database).
    let browser = Browser {
        base: server.base.clone(),
        ..browser
    };
    let status = browser.wait_done(session, Duration::from_secs(600));
    assert_eq!(status["state"], "done", "{status}");
    let page = browser.get(&format!("/sessions/{session}")).text().expect("page");
    assert!(page.contains("id=\"report\""), "the session page shows its report");
    assert_eq!(
        browser.get(&format!("/sessions/{session}/files/report.json")).status(),
        200
    );
    // Nothing of the interrupted run is left beside the finished outputs.
    let outputs = files_in(&data.join("outputs").join(session.to_string()));
    assert_eq!(outputs.len(), 1, "one analysis folder: {outputs:?}");
    assert!(
        files_in(&outputs[0])
            .iter()
            .all(|file| !file.to_string_lossy().contains("partial")),
        "{outputs:?}"
    );
}

/// `unshare -m sh -c SCRIPT sh ARGS…`: the script runs in a private mount namespace and ends by exec-ing the
/// server, so the child's pid is the server's and its mounts vanish with it.
fn in_mount_namespace(script: &str, args: &[&Path]) -> Command {
    let mut command = Command::new("unshare");
    command.args(["-m", "sh", "-c", script, "sh"]).args(args);
    command
}

#[test]
fn the_disk_filling_during_an_upload_is_a_clear_error_and_nothing_is_half_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    add_user(&data, "pt", PASSWORD, false);
    let mount = dir.path().join("small-disk");
    std::fs::create_dir(&mount).expect("mkdir");
    let script = "mount -t tmpfs -o size=6m tmpfs \"$1\" && cp -a \"$2\" \"$1/data\" && \
                  exec \"$3\" serve --data \"$1/data\" --bind 127.0.0.1:0 --jobs 1";
    let server = Server::spawn(in_mount_namespace(script, &[&mount, &data, &runform()]));
    let browser = Browser::login(&server.base, "pt", PASSWORD);
    let athlete = browser.add_athlete("Full disk");
    // Within the upload limit, larger than the disk.
    let too_big = dir.path().join("long.mp4");
    std::fs::write(&too_big, vec![1u8; 8_000_000]).expect("write");
    let response = browser.upload(athlete, &too_big, &[("session_date", "2026-05-01")], true);
    assert_eq!(response.status(), 507);
    let page = response.text().expect("page");
    assert!(page.contains("disk is full: the clip was not stored"), "{page}");
    // Seen from inside the server's namespace: no half upload, no clip, no session.
    let inside = PathBuf::from(format!("/proc/{}/root{}/data", server.child.id(), mount.display()));
    assert!(
        inside.join("runform.sqlite3").is_file(),
        "cannot see the server's disk at {inside:?}"
    );
    assert!(
        files_in(&inside.join("uploads")).is_empty(),
        "{:?}",
        files_in(&inside.join("uploads"))
    );
    assert!(files_in(&inside.join("clips")).is_empty());
    assert!(
        browser
            .get(&format!("/athletes/{athlete}"))
            .text()
            .expect("page")
            .contains("No sessions yet.")
    );
    // The space came back: a clip that fits is taken.
    let clip = small_clip(dir.path(), "run.mp4", 0.5);
    let response = browser.upload(
        athlete,
        &clip,
        &[("session_date", "2026-05-02"), ("model", "heavy")],
        true,
    );
    assert_eq!(response.status(), 303, "{:?}", response.text());
}

#[test]
fn a_read_only_database_or_data_folder_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    add_user(&data, "pt", PASSWORD, false);
    let database = data.join("runform.sqlite3");
    for (script, target, words) in [
        (
            "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && exec \"$2\" serve --data \"$3\" --bind 127.0.0.1:0",
            &database,
            "the database cannot be written",
        ),
        (
            "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && exec \"$2\" serve --data \"$3\" --bind 127.0.0.1:0",
            &data,
            "the data folder cannot be used",
        ),
    ] {
        let output = in_mount_namespace(script, &[target, &runform(), &data])
            .output()
            .expect("unshare runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(30), "{stderr}");
        assert!(stderr.contains(words), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one sentence: {stderr}");
        assert!(
            output.stdout.is_empty(),
            "it must not claim to listen: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}
