//! End to end: the executors and the study lock, on the small study `two_variants.toml`.
//! `--jobs 2` gives the same CSVs as `--jobs 1`; a second `reproduce` on a locked results
//! directory fails naming the holder, and a killed holder's lock is free at once; and, where a
//! Slurm cluster answers (an ignored test: `scripts/slurm-localhost.sh` starts a cluster on
//! this machine; `.ci/run` does so in CI and runs the ignored tests), the Slurm backend gives
//! the same tables as a local run, a second submission submits nothing, a local run refuses to
//! run beside queued Slurm jobs, and a cancelled element is completed by resubmitting.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;

use ae_report::tables::deterministic_table_names;
use ae_runner::lock::{StudyLock, LOCK_FILE};

const EXPERIMENT: &str = "crates/runner/tests/two_variants.toml";
/// The classifier, 2 variants x (2 trainings + 6 downstream jobs + interpolation quality +
/// dead units),
/// the VAE's samples and sample quality, 2 baselines.
const JOBS: usize = 25;

fn workspace() -> PathBuf {
    std::path::absolute(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap()
}

fn bakeoff(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
    cmd.env("RAYON_NUM_THREADS", common::SPAWNED_THREADS);
    cmd.current_dir(workspace()).args(args);
    cmd
}

fn reproduce(out: &Path, extra: &[&str]) -> Command {
    let mut cmd = bakeoff(&["reproduce", "--experiment", EXPERIMENT, "--out"]);
    cmd.arg(out).args(extra);
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeed(cmd: &mut Command) -> Output {
    let output = cmd.output().expect("bakeoff runs");
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    output
}

/// A fresh results directory `executors/<name>/study`, with a store of its own beside it.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("executors")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("study")
}

/// One local run with `--jobs 1`, shared (read only) by the tests.
fn local_run() -> &'static Path {
    static LOCAL: OnceLock<PathBuf> = OnceLock::new();
    LOCAL.get_or_init(|| {
        let out = scratch("local");
        let output = succeed(&mut reproduce(&out, &["--jobs", "1"]));
        let done = text(&output.stderr)
            .lines()
            .filter(|l| l.starts_with("done "))
            .count();
        assert_eq!(done, JOBS, "{}", text(&output.stderr));
        out
    })
}

fn assert_same_tables(a: &Path, b: &Path) {
    for table in deterministic_table_names() {
        let read = |dir: &Path| {
            let path = dir.join("tables").join(format!("{table}.csv"));
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        assert!(
            read(a) == read(b),
            "{table}.csv differs:\n{}\n---\n{}",
            text(&read(a)),
            text(&read(b))
        );
    }
}

#[test]
fn two_jobs_at_once_give_the_same_csvs_as_one() {
    let out = scratch("jobs2");
    let output = succeed(&mut reproduce(&out, &["--jobs", "2"]));
    assert!(text(&output.stdout).contains(&format!("ran {JOBS} jobs")));
    assert_same_tables(local_run(), &out);
}

#[test]
fn a_locked_results_directory_is_refused_naming_the_holder() {
    let out = scratch("locked");
    let mut first = reproduce(&out, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = out.join(LOCK_FILE);
    // The file exists a moment before it is locked; its holder writes its pid once it is.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&lock).is_ok_and(|s| s.contains("\"pid\"")) {
        assert!(
            Instant::now() < deadline,
            "the first run never took the lock"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended early"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = reproduce(&out, &[]).output().unwrap();
    let message = text(&second.stderr);
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(!second.status.success());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(
        message.contains(&format!(
            "locked by another bakeoff process (pid {} on host {}",
            first.id(),
            host.trim()
        )),
        "{message}"
    );
    // The killed run (SIGKILL) could not clear its lock file, but the kernel released the
    // lock itself: the next run proceeds at once (no `--lock-wait`) and completes.
    assert!(lock.is_file());
    let resumed = succeed(&mut reproduce(&out, &[]));
    assert!(text(&resumed.stdout).contains("report written"));
    assert!(
        StudyLock::acquire(&out, Duration::ZERO).is_ok(),
        "the lock outlived its run"
    );
    assert_same_tables(local_run(), &out);
}

#[test]
fn slurm_dry_run_prints_the_scripts_and_writes_nothing() {
    let out = scratch("dry-run");
    let output = succeed(&mut reproduce(
        &out,
        &["--executor", "slurm", "--dry-run", "--partition", "cpu"],
    ));
    let stdout = text(&output.stdout);
    // A handful of arrays (one per level and kind of job) and the rendering job.
    let arrays: Vec<usize> = stdout
        .lines()
        .filter_map(|l| {
            let count = l.strip_prefix("# --- ")?.split_once(" (")?.1;
            count.strip_suffix(" jobs) ---")?.parse().ok()
        })
        .collect();
    assert_eq!(arrays.iter().sum::<usize>(), JOBS, "{stdout}");
    assert!(arrays.len() < JOBS, "{stdout}");
    assert!(stdout.contains("# --- 0-train (4 jobs) ---"), "{stdout}");
    assert_eq!(stdout.matches("#!/bin/bash").count(), arrays.len() + 1);
    assert_eq!(stdout.matches("#SBATCH --array=0-").count(), arrays.len());
    assert!(stdout.contains("run-job --experiment"));
    assert!(stdout.contains("\n  'seed42/reconstruction/vae' "));
    assert!(stdout.contains("#SBATCH --dependency=afterany:{0-train}"));
    assert!(stdout.contains("#SBATCH --dependency=afterok:{0-instrument}:{0-train}:"));
    assert!(stdout.contains("#SBATCH --partition=cpu"));
    assert!(!out.exists(), "a dry run wrote {}", out.display());
}

// ---- Slurm --------------------------------------------------------------------------------

/// Whether a Slurm cluster answers with a node able to run jobs.
fn slurm_is_running() -> bool {
    Command::new("sinfo")
        .args(["--noheader", "--format=%T"])
        .output()
        .is_ok_and(|o| {
            o.status.success()
                && text(&o.stdout).lines().any(|s| {
                    s.starts_with("idle") || s.starts_with("mix") || s.starts_with("alloc")
                })
        })
}

/// Our Slurm jobs and array elements in the queue: (id such as `12` or `12_3`, state, name).
fn squeue() -> Vec<(String, String, String)> {
    let output = Command::new("squeue")
        .args(["--me", "--array", "--noheader", "--format=%i|%T|%j"])
        .output()
        .unwrap();
    text(&output.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.trim().splitn(3, '|');
            Some((f.next()?.into(), f.next()?.into(), f.next()?.into()))
        })
        .collect()
}

/// The results directory's ledger: (Slurm id such as `12` or `12_3`, job name or `render`).
fn ledger(out: &Path) -> Vec<(String, String)> {
    let bytes = std::fs::read(out.join("slurm/submitted.json")).unwrap();
    let ledger: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let id = e["slurm_id"].as_u64().unwrap();
            let id = match e["task"].as_u64() {
                Some(task) => format!("{id}_{task}"),
                None => id.to_string(),
            };
            (id, e["element"]["name"].as_str().unwrap_or("render").into())
        })
        .collect()
}

/// Waits until none of the ledger's Slurm jobs is in the queue any more.
fn wait_for_queue_to_drain(out: &Path) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let ids: Vec<String> = ledger(out).into_iter().map(|(id, _)| id).collect();
        if !squeue().iter().any(|(id, _, _)| ids.contains(id)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Slurm jobs still queued after 10 minutes: {:?}",
            squeue()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Whether `bakeoff status` reports `job` of the study in `out` done.
fn is_done(out: &Path, job: &str) -> bool {
    let status = succeed(bakeoff(&["status", "--experiment", EXPERIMENT, "--out"]).arg(out));
    text(&status.stdout).lines().any(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some(job) && words.next() == Some("done")
    })
}

/// (Jobs submitted, Slurm submissions made) from `submitted N jobs in M Slurm submissions`.
fn submitted(output: &Output) -> (usize, usize) {
    let stdout = text(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("submitted "))
        .unwrap_or_else(|| panic!("no submission in:\n{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[1].parse().unwrap(), words[4].parse().unwrap())
}

#[test]
#[ignore = "needs a running Slurm (scripts/slurm-localhost.sh; .ci/run starts one and runs the ignored tests)"]
fn slurm_backend_gives_the_local_tables_and_completes_after_a_cancel() {
    assert!(
        slurm_is_running(),
        "no Slurm cluster answers (`sinfo`); start one on this machine with `sudo bash \
         scripts/slurm-localhost.sh`"
    );
    let out = scratch("slurm");
    let slurm = ["--executor", "slurm", "--cpus-per-task", "1"];
    let first = succeed(&mut reproduce(&out, &slurm));
    let (jobs, submissions) = submitted(&first);
    assert_eq!(jobs, JOBS, "{}", text(&first.stdout));
    // Job arrays: a handful of submissions, not one per job.
    assert!(submissions < JOBS, "{}", text(&first.stdout));
    assert!(
        squeue().iter().any(|(id, _, _)| id.contains('_')),
        "no array element queued: {:?}",
        squeue()
    );

    // Submitting again while the jobs are queued submits nothing.
    let again = succeed(&mut reproduce(&out, &slurm));
    assert_eq!(submitted(&again), (0, 0), "{}", text(&again.stdout));
    // ... and a local run refuses to work beside them.
    let local = reproduce(&out, &[]).output().unwrap();
    assert!(!local.status.success());
    assert!(
        text(&local.stderr).contains("Slurm jobs of this study are queued or running"),
        "{}",
        text(&local.stderr)
    );

    // Cancel a training element while it runs: the trainings' array is `bakeoff.0-train`. A
    // quick-profile training can finish between `squeue` seeing it run and `scancel` reaching
    // it; then another running element is cancelled.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut finished_first: Vec<String> = Vec::new();
    let job = loop {
        let ours = ledger(&out);
        let running = squeue().into_iter().find_map(|(id, state, name)| {
            let (_, job) = ours.iter().find(|(ours, _)| *ours == id)?;
            let untried = !finished_first.contains(job);
            (state == "RUNNING" && name == "bakeoff.0-train" && untried).then(|| (id, job.clone()))
        });
        if let Some((id, job)) = running {
            assert!(Command::new("scancel").arg(&id).status().unwrap().success());
            while squeue().iter().any(|(queued, _, _)| *queued == id) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if !is_done(&out, &job) {
                break job;
            }
            finished_first.push(job);
        }
        let trainings_left = squeue()
            .iter()
            .any(|(_, _, name)| name == "bakeoff.0-train");
        assert!(
            Instant::now() < deadline && (trainings_left || finished_first.is_empty()),
            "no training element was cancelled while it ran (finished first: {finished_first:?}): {:?}",
            squeue()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    wait_for_queue_to_drain(&out);
    let status = succeed(bakeoff(&["status", "--experiment", EXPERIMENT, "--out"]).arg(&out));
    let status = text(&status.stdout);
    assert!(
        status
            .lines()
            .any(|l| l.split_whitespace().next() == Some(job.as_str())
                && l.contains("failed (Slurm job")),
        "{job} not failed in:\n{status}"
    );
    assert!(!out.join("report.md").exists(), "rendered without {job}");

    // Resubmitting runs the cancelled job and what needs it, then renders.
    let resubmitted = succeed(&mut reproduce(&out, &slurm));
    let (count, _) = submitted(&resubmitted);
    assert!((3..JOBS).contains(&count), "{}", text(&resubmitted.stdout));
    wait_for_queue_to_drain(&out);
    assert!(
        out.join("report.md").is_file(),
        "the rendering job did not run"
    );
    assert_same_tables(local_run(), &out);
    let status = succeed(bakeoff(&["status", "--experiment", EXPERIMENT, "--out"]).arg(&out));
    assert!(
        text(&status.stdout).contains(&format!("{JOBS} jobs: {JOBS} done")),
        "{}",
        text(&status.stdout)
    );

    // Once everything is done, submitting again submits nothing.
    let ledger = std::fs::read(out.join("slurm/submitted.json")).unwrap();
    let last = succeed(&mut reproduce(&out, &slurm));
    assert!(
        text(&last.stdout).contains(&format!("every job is up to date ({JOBS} jobs)")),
        "{}",
        text(&last.stdout)
    );
    assert!(!text(&last.stdout).contains("submitted"));
    assert_eq!(
        std::fs::read(out.join("slurm/submitted.json")).unwrap(),
        ledger
    );
}
