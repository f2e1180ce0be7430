//! End to end: `bakeoff reproduce` on `experiments/quick.toml` — caching, resuming after a
//! kill, determinism. One fresh run is shared by the tests that only compare against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ae_runner::tables::deterministic_table_names;

const QUICK_JOBS: usize = 78;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn reproduce_command(out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
    cmd.current_dir(workspace())
        .arg("reproduce")
        .arg("--experiment")
        .arg("experiments/quick.toml")
        .arg("--out")
        .arg(out);
    cmd
}

fn reproduce(out: &Path) -> Output {
    let output = reproduce_command(out).output().expect("bakeoff runs");
    assert!(
        output.status.success(),
        "reproduce failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Jobs a run reports as done, from its stderr (one line per job without a terminal).
fn jobs_done(output: &Output) -> Vec<String> {
    text(&output.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("done "))
        .map(|l| l.split(" in ").next().unwrap_or(l).to_string())
        .collect()
}

/// One uninterrupted fresh run, shared (read only) by the tests.
fn fresh_run() -> &'static Path {
    static FRESH: OnceLock<PathBuf> = OnceLock::new();
    FRESH.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reproduce-fresh");
        let _ = std::fs::remove_dir_all(&dir);
        let output = reproduce(&dir);
        assert_eq!(
            jobs_done(&output).len(),
            QUICK_JOBS,
            "{}",
            text(&output.stderr)
        );
        dir
    })
}

fn csv(out: &Path, table: &str) -> Vec<u8> {
    std::fs::read(out.join("tables").join(format!("{table}.csv")))
        .unwrap_or_else(|e| panic!("{table}.csv in {}: {e}", out.display()))
}

fn assert_same_tables(a: &Path, b: &Path) {
    for table in deterministic_table_names() {
        assert!(
            csv(a, table) == csv(b, table),
            "{table}.csv differs:\n{}\n---\n{}",
            text(&csv(a, table)),
            text(&csv(b, table))
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn quick_run_writes_every_output() {
    let out = fresh_run();
    for file in [
        "experiment.toml",
        "report.md",
        "results.json",
        "latent_general.png",
        "latent_anomaly.png",
        "anomaly_roc.png",
        "reconstructions/vanilla.png",
        "samples/vq.png",
        "interpolation/vae.gif",
        "interpolation/vae.png",
        "tables/comparison.md",
        "tables/training_time.csv",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert!(!out.join("samples/vanilla.png").exists());
    let probe = text(&csv(out, "probe"));
    let lines: Vec<&str> = probe.lines().collect();
    assert_eq!(lines[0], "variant,accuracy,accuracy_mean_latent,best_epoch");
    assert_eq!(lines.len(), 1 + 9 + 2);
    assert!(lines[10].starts_with("random_encoder,") && lines[11].starts_with("supervised,"));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "![vanilla](reconstructions/vanilla.png)",
        "(anomaly_roc.png)",
        "shallow reconstructs worst",
        "see images",
        "cargo run --release -p ae-runner -- reproduce",
        "Per-job wall times",
    ] {
        assert!(report.contains(needle), "report.md lacks {needle:?}");
    }
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["variants"].as_array().unwrap().len(), 9);
    assert!(results["variants"][0]["anomaly"]["roc"]["fpr"].is_array());
    assert_eq!(results["jobs"].as_array().unwrap().len(), QUICK_JOBS);
}

#[test]
fn second_run_does_nothing_and_a_deleted_result_is_recomputed_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("quick");
    copy_dir(fresh_run(), &out);
    let record = out.join("checkpoints/vanilla_latent20/record.json");
    let before = std::fs::metadata(&record).unwrap().modified().unwrap();

    let again = reproduce(&out);
    assert!(
        text(&again.stdout).contains(&format!("every job is up to date ({QUICK_JOBS} jobs)")),
        "{}",
        text(&again.stdout)
    );
    assert!(text(&again.stdout).contains("report up to date"));
    assert!(jobs_done(&again).is_empty());
    assert_eq!(
        std::fs::metadata(&record).unwrap().modified().unwrap(),
        before
    );

    std::fs::remove_file(out.join("checkpoints/jobs/reconstruction/vae.json")).unwrap();
    let partial = reproduce(&out);
    assert!(
        text(&partial.stdout).contains(&format!("1 of {QUICK_JOBS} jobs to run")),
        "{}",
        text(&partial.stdout)
    );
    assert_eq!(jobs_done(&partial), ["reconstruction/vae"]);
    assert!(text(&partial.stdout).contains("report written"));
    assert_same_tables(fresh_run(), &out);
}

#[test]
fn killed_run_resumes_to_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("quick");
    let mut child = reproduce_command(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = out.join("checkpoints/shallow_latent20/record.json");
    let deadline = Instant::now() + Duration::from_secs(300);
    while !first.is_file() {
        assert!(Instant::now() < deadline, "first training never finished");
        assert!(child.try_wait().unwrap().is_none(), "run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    // The finished run's record (which holds its wall time, so a second training would write
    // different bytes) and checkpoint.
    let record_before = std::fs::read(&first).unwrap();
    let checkpoint = out.join("checkpoints/shallow_latent20/model.safetensors");
    let checkpoint_before = std::fs::read(&checkpoint).unwrap();
    assert!(
        !out.join("report.md").exists(),
        "the run finished before the kill"
    );

    // Whatever was written is complete: every cached result parses.
    for file in files_under(&out.join("checkpoints/jobs")) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.starts_with('.') {
            let bytes = std::fs::read(&file).unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{} is corrupt: {e}", file.display()));
        }
    }

    let resumed = reproduce(&out);
    // The kill may land between the run's record and the job's cached result; the job then
    // runs again (so every job may be listed as done) but must reuse the finished run instead
    // of training it a second time.
    assert_eq!(
        std::fs::read(&first).unwrap(),
        record_before,
        "a finished training ran again: {:?}",
        jobs_done(&resumed)
    );
    assert_eq!(std::fs::read(&checkpoint).unwrap(), checkpoint_before);
    let leftovers: Vec<PathBuf> = files_under(&out)
        .into_iter()
        .filter(|f| {
            f.strip_prefix(&out)
                .unwrap()
                .to_string_lossy()
                .contains(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    assert_same_tables(fresh_run(), &out);
}

#[test]
fn fresh_runs_with_the_same_seed_give_identical_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("quick");
    reproduce(&out);
    assert_same_tables(fresh_run(), &out);
}
