//! End to end: `bakeoff reproduce` on `experiments/quick.toml` (two seeds, two held-out
//! classes) — every output, caching per seed, resuming after a kill, determinism. One fresh
//! run is shared by the tests that only compare against it.

mod common;
use common::{scratch, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ae_report::tables::deterministic_table_names;
use ae_runner::experiment::Experiment;
use ae_runner::plan::{Cache, Plan, CHECKPOINTS_DIR};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const QUICK: &str = "experiments/quick.toml";

/// Jobs in the quick profile's plan (whatever the registry holds).
fn quick_jobs() -> usize {
    let e = Experiment::load(&workspace().join(QUICK)).unwrap();
    Plan::new(&e, &e.variants).unwrap().jobs.len()
}

fn reproduce_command_with(experiment: &Path, out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
    cmd.env("RAYON_NUM_THREADS", common::SPAWNED_THREADS);
    cmd.current_dir(workspace())
        .arg("reproduce")
        .arg("--experiment")
        .arg(experiment)
        .arg("--out")
        .arg(out);
    cmd
}

fn reproduce_command(out: &Path) -> Command {
    reproduce_command_with(Path::new(QUICK), out)
}

fn reproduce(out: &Path) -> Output {
    run_ok(reproduce_command(out))
}

fn run_ok(mut command: Command) -> Output {
    let output = command.output().expect("bakeoff runs");
    assert!(
        output.status.success(),
        "reproduce failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Jobs a run reports as done, from its stderr (one line per job without a terminal).
fn jobs_done(output: &Output) -> Vec<String> {
    text(&output.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("done "))
        .map(|l| l.split(" in ").next().unwrap_or(l).to_string())
        .collect()
}

/// The job store beside the results directory `out` (the default).
fn store_of(out: &Path) -> PathBuf {
    out.parent().unwrap().join("store")
}

/// The cache of `experiment`'s plan in the store beside `out`.
fn cache_of(experiment: &Path, out: &Path) -> (Plan, Cache) {
    let e = Experiment::load(&workspace().join(experiment)).unwrap();
    let plan = Plan::new(&e, &e.variants).unwrap();
    let store = store_of(out);
    let cache = Cache::new(&store, &store.join(CHECKPOINTS_DIR), &plan);
    (plan, cache)
}

/// Where the quick study in `out` keeps `job`'s result.
fn result_file(out: &Path, job: &str) -> PathBuf {
    let (plan, cache) = cache_of(Path::new(QUICK), out);
    cache.result_path(plan.job(job).unwrap())
}

/// Where `experiment`'s study in `out` keeps the model `job` trains.
fn model_dir(experiment: &Path, out: &Path, job: &str) -> PathBuf {
    let (plan, cache) = cache_of(experiment, out);
    cache.model_dir(plan.job(job).unwrap())
}

/// One uninterrupted fresh run, shared (read only) by the tests: `reproduce-fresh/quick`, its
/// store `reproduce-fresh/store`.
fn fresh_run() -> &'static Path {
    static FRESH: OnceLock<PathBuf> = OnceLock::new();
    FRESH.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reproduce-fresh");
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("quick");
        let output = reproduce(&dir);
        assert_eq!(
            jobs_done(&output).len(),
            quick_jobs(),
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
            csv(a, &table) == csv(b, &table),
            "{table}.csv differs:\n{}\n---\n{}",
            text(&csv(a, &table)),
            text(&csv(b, &table))
        );
    }
}

/// A copy of the fresh run and its store in `dir`; returns the copy's results directory.
fn clone_fresh(dir: &Path) -> PathBuf {
    copy_dir(fresh_run().parent().unwrap(), dir);
    dir.join("quick")
}

/// Copies a run directory by hard links (the tests only replace or delete files, which
/// leaves the source intact: the program writes by rename), falling back to a copy.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() == ".bakeoff.lock" {
            // A hard-linked lock file is the same file: its OS lock would be shared by
            // every copy. Each results directory gets its own.
            continue;
        } else {
            if std::fs::hard_link(entry.path(), &target).is_err() {
                std::fs::copy(entry.path(), &target).unwrap();
            }
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
        "seeds_reconstruction.png",
        "seeds_probe.png",
        "seeds_anomaly.png",
        "leave_one_class_out.png",
        "reconstructions/vanilla.png",
        "samples/vq.png",
        "interpolation/vae.gif",
        "interpolation/vae.png",
        "tables/comparison.md",
        "tables/training_time.csv",
        "tables/reconstruction_summary.csv",
        "tables/leave_one_class_out.csv",
        "tables/leave_one_class_out_summary.csv",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert!(!out.join("samples/vanilla.png").exists());
    let e = Experiment::load(&workspace().join(QUICK)).unwrap();
    let probe = text(&csv(out, "probe"));
    let lines: Vec<&str> = probe.lines().collect();
    assert!(
        lines[0].starts_with("variant,seed,accuracy,accuracy_mean_latent,"),
        "{}",
        lines[0]
    );
    // One row per variant and seed, baselines included.
    let rows = (e.variants.len() + 2) * e.seeds.len();
    assert_eq!(lines.len(), 1 + rows);
    assert!(lines[1].starts_with(&format!("{},42,", e.variants[0])));
    assert!(lines[2].starts_with(&format!("{},43,", e.variants[0])));
    assert!(lines[rows].starts_with("supervised,43,"));
    let summary = text(&csv(out, "reconstruction_summary"));
    assert!(summary.starts_with("variant,metric,n,mean,sd,ci_low,ci_high\n"));
    let vanilla = summary
        .lines()
        .find(|l| l.starts_with("vanilla,test_bce,"))
        .unwrap();
    let cells: Vec<&str> = vanilla.split(',').collect();
    assert_eq!(cells[2], "2", "two seeds: {vanilla}");
    let (mean, lo, hi): (f64, f64, f64) = (
        cells[3].parse().unwrap(),
        cells[5].parse().unwrap(),
        cells[6].parse().unwrap(),
    );
    assert!(lo < mean && mean < hi, "{vanilla}");
    let loco = text(&csv(out, "leave_one_class_out"));
    assert!(
        loco.starts_with("variant,seed,auc_digit1,auc_digit7,mean_auc\n"),
        "{loco}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "## Which of the reference's findings hold",
        "of 2 seeds",
        "![vanilla](reconstructions/vanilla.png)",
        "(anomaly_roc.png)",
        "(seeds_probe.png)",
        "(leave_one_class_out.png)",
        "### Every held-out class",
        "Spearman correlation between the rankings",
        " ± ",
        "95% PI, one seed",
        "shallow reconstructs worst",
        "Fréchet classifier distance",
        "inner-frame confidence",
        "cargo run --release -p ae-runner -- reproduce",
        "Per-job wall times",
    ] {
        assert!(report.contains(needle), "report.md lacks {needle:?}");
    }
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    let seeds = results["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 2);
    assert_eq!(seeds[1]["seed"], 43);
    let variants = seeds[0]["variants"].as_array().unwrap();
    assert_eq!(variants.len(), e.variants.len());
    assert_eq!(variants[0]["anomaly"].as_array().unwrap().len(), 2);
    assert!(variants[0]["anomaly"][0]["roc"]["fpr"].is_array());
    // Both anomaly scores, as the report says every number is here.
    let published = variants[0]["anomaly"][0]["published_auc"].as_f64().unwrap();
    let bce_score = variants[0]["anomaly"][0]["auc"].as_f64().unwrap();
    assert!(
        published > 0.0 && published < 1.0 && published != bce_score,
        "{published}"
    );
    assert!(variants[0]["anomaly"][0]["published_roc"]["tpr"].is_array());
    assert_eq!(results["jobs"].as_array().unwrap().len(), quick_jobs());
}

#[test]
fn quick_run_measures_sample_and_interpolation_quality() {
    let out = fresh_run();
    let e = Experiment::load(&workspace().join(QUICK)).unwrap();
    for file in [
        "tables/sample_quality.csv",
        "tables/sample_quality_summary.csv",
        "tables/interpolation_quality.csv",
        "tables/interpolation_quality_summary.csv",
        "seeds_sample_quality.png",
        "seeds_interpolation_quality.png",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert!(result_file(out, "instrument/classifier").is_file());
    let classifier_dir = model_dir(Path::new(QUICK), out, "instrument/classifier");
    assert!(classifier_dir.join("model.safetensors").is_file());
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    let classifier = &results["classifier"];
    // Even the smoke profile's classifier (2,000 images, two epochs) reads most digits.
    let accuracy = classifier["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.8, "{classifier}");
    assert_eq!(classifier["test_images"], 1000);
    assert_eq!(classifier["train_images"], 2000);
    let floor = classifier["frechet_floor"].as_f64().unwrap();
    assert!(floor > 0.0, "{classifier}");
    let frames = e.evaluation.interpolation_steps as f64;
    for seed in results["seeds"].as_array().unwrap() {
        for v in seed["variants"].as_array().unwrap() {
            let name = v["variant"].as_str().unwrap();
            let samples = &v["sample_quality"];
            if ["vae", "beta_vae_strict", "beta_vae_loose", "vq"].contains(&name) {
                assert_eq!(samples["draws"], 1000, "{name}: {samples}");
                // Two-epoch models' samples are further from the test images than real
                // training images are.
                let fcd = samples["frechet_distance"].as_f64().unwrap();
                assert!(fcd > floor, "{name}: FCD {fcd} under the floor {floor}");
                // The entropy is that of the class histogram the job file keeps.
                let job = format!("seed{}/sample_quality/{name}", seed["seed"]);
                let gz = std::fs::File::open(result_file(out, &job)).unwrap();
                let cached: serde_json::Value =
                    serde_json::from_reader(flate2::read::GzDecoder::new(gz)).unwrap();
                let counts: Vec<f64> = cached["result"]["class_counts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_f64().unwrap())
                    .collect();
                assert_eq!(counts.iter().sum::<f64>(), 1000.0, "{job}");
                let entropy: f64 = counts
                    .iter()
                    .filter(|&&c| c > 0.0)
                    .map(|c| -c / 1000.0 * (c / 1000.0).ln())
                    .sum();
                let recorded = samples["class_entropy"].as_f64().unwrap();
                assert!((recorded - entropy).abs() < 1e-12, "{name}: {samples}");
                assert!(recorded.is_sign_positive(), "{name}: {samples}");
                let confidence = samples["mean_confidence"].as_f64().unwrap();
                assert!((0.1..=1.0).contains(&confidence), "{name}: {samples}");
            } else {
                assert!(samples.is_null(), "{name} cannot sample: {samples}");
            }
            let i = &v["interpolation_quality"];
            assert_eq!(i["pairs"], 10, "{name}: {i}");
            // The largest of the 129 steps is at least their mean.
            let fraction = i["max_step_fraction"].as_f64().unwrap();
            assert!(
                fraction >= 1.0 / (frames - 1.0) - 1e-12 && fraction <= 1.0,
                "{name}: {i}"
            );
            let confidence = i["mean_inner_confidence"].as_f64().unwrap();
            assert!((0.1..=1.0).contains(&confidence), "{name}: {i}");
        }
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "## Sample and interpolation quality, measured",
        "judged by an instrument, not a contestant",
        &format!("Its test accuracy is **{:.2}%**", 100.0 * accuracy),
        "(seeds_sample_quality.png)",
    ] {
        assert!(report.contains(needle), "report.md lacks {needle:?}");
    }
}

#[test]
fn a_lost_quality_result_retrains_the_classifier_and_the_model_it_reads() {
    let dir = scratch();
    let out = clone_fresh(dir.path());
    // A clone: results without checkpoints, and one sample-quality result lost.
    std::fs::remove_dir_all(store_of(&out).join(CHECKPOINTS_DIR)).unwrap();
    std::fs::remove_file(result_file(&out, "seed43/sample_quality/vq")).unwrap();
    let partial = reproduce(&out);
    assert_eq!(
        jobs_done(&partial),
        [
            "instrument/classifier",
            "seed43/train/vq_latent20",
            "seed43/sample_quality/vq"
        ]
    );
    // The same classifier and model to the bit: the same tables.
    assert_same_tables(fresh_run(), &out);
}

#[test]
fn second_run_does_nothing_and_a_deleted_result_is_recomputed_alone() {
    let dir = scratch();
    let out = clone_fresh(dir.path());
    let record =
        model_dir(Path::new(QUICK), &out, "seed42/train/vanilla_latent20").join("record.json");
    let before = std::fs::metadata(&record).unwrap().modified().unwrap();

    let again = reproduce(&out);
    let jobs = quick_jobs();
    assert!(
        text(&again.stdout).contains(&format!("every job is up to date ({jobs} jobs)")),
        "{}",
        text(&again.stdout)
    );
    assert!(text(&again.stdout).contains("report up to date"));
    assert!(jobs_done(&again).is_empty());
    assert_eq!(
        std::fs::metadata(&record).unwrap().modified().unwrap(),
        before
    );

    std::fs::remove_file(result_file(&out, "seed43/reconstruction/vae")).unwrap();
    // --no-run reports what is there and computes nothing.
    let mut look = reproduce_command(&out);
    look.arg("--no-run");
    let looked = run_ok(look);
    assert!(jobs_done(&looked).is_empty());
    assert!(
        text(&looked.stdout).contains(&format!("running nothing; 1 of {jobs} jobs have no result")),
        "{}",
        text(&looked.stdout)
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains(&format!(
            "**1 of {jobs} jobs have no result yet** (seed43/reconstruction/vae)"
        )),
        "{report}"
    );
    let partial = reproduce(&out);
    assert!(
        text(&partial.stdout).contains(&format!("1 of {jobs} jobs to run")),
        "{}",
        text(&partial.stdout)
    );
    assert_eq!(jobs_done(&partial), ["seed43/reconstruction/vae"]);
    assert!(text(&partial.stdout).contains("report written"));
    assert_same_tables(fresh_run(), &out);
}

#[test]
fn committed_results_resume_without_checkpoints() {
    let dir = scratch();
    let out = clone_fresh(dir.path());
    // What a clone of the repository holds: the results and the store without its
    // checkpoints.
    let checkpoints = store_of(&out).join(CHECKPOINTS_DIR);
    std::fs::remove_dir_all(&checkpoints).unwrap();
    let jobs = quick_jobs();
    let again = reproduce(&out);
    assert!(
        text(&again.stdout).contains(&format!("every job is up to date ({jobs} jobs)")),
        "{}",
        text(&again.stdout)
    );
    assert!(jobs_done(&again).is_empty(), "{:?}", jobs_done(&again));
    assert!(!checkpoints.join("seed42").exists(), "something trained");

    // One missing downstream result retrains the one run it reads, and nothing else.
    std::fs::remove_file(result_file(&out, "seed43/reconstruction/vae")).unwrap();
    let partial = reproduce(&out);
    assert!(
        text(&partial.stdout).contains(&format!("2 of {jobs} jobs to run")),
        "{}",
        text(&partial.stdout)
    );
    assert_eq!(
        jobs_done(&partial),
        ["seed43/train/vae_latent20", "seed43/reconstruction/vae"]
    );
    assert_same_tables(fresh_run(), &out);
}

#[test]
fn other_data_under_data_dir_retrains_and_the_same_files_do_not() {
    let dir = scratch();
    let mnist = workspace().join("data/mnist");
    let files = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];
    // A byte-for-byte copy, and a copy whose first test label is another digit.
    let (same, other) = (dir.path().join("same"), dir.path().join("other"));
    for d in [&same, &other] {
        std::fs::create_dir_all(d).unwrap();
        for f in files {
            std::fs::copy(mnist.join(f), d.join(f)).unwrap();
        }
    }
    let labels = other.join("t10k-labels-idx1-ubyte.gz");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&labels).unwrap()),
        &mut raw,
    )
    .unwrap();
    raw[8] = (raw[8] + 1) % 10;
    std::fs::remove_file(&labels).unwrap();
    std::fs::write(other.join("t10k-labels-idx1-ubyte"), raw).unwrap();

    let study = std::fs::read_to_string(workspace().join("crates/runner/tests/two_variants.toml"))
        .unwrap()
        .replace(
            "variants = [\"vanilla\", \"vae\"]",
            "variants = [\"vanilla\"]",
        );
    let with_dir = |data: Option<&Path>| {
        let path = dir.path().join("study.toml");
        let line = data.map_or(String::new(), |d| format!("data_dir = {:?}\n", d));
        std::fs::write(
            &path,
            study.replacen("seed = 42\n", &format!("seed = 42\n{line}"), 1),
        )
        .unwrap();
        path
    };
    let out = dir.path().join("out");
    let first = run_ok(reproduce_command_with(&with_dir(None), &out));
    let all = jobs_done(&first).len();
    assert!(all > 0);
    let copy = run_ok(reproduce_command_with(&with_dir(Some(&same)), &out));
    assert!(jobs_done(&copy).is_empty(), "{:?}", jobs_done(&copy));
    let changed = run_ok(reproduce_command_with(&with_dir(Some(&other)), &out));
    assert_eq!(jobs_done(&changed).len(), all, "{}", text(&changed.stdout));
}

#[test]
fn a_variant_defined_inline_runs_through_every_task_beside_the_others() {
    let dir = scratch();
    let out = clone_fresh(dir.path());
    let quick = std::fs::read_to_string(workspace().join(QUICK)).unwrap();
    let added = quick.replace(
        "    \"vq\",\n]",
        "    \"vq\",\n    { name = \"sparse_p10\", base = \"sparse\", bottleneck = { kind = \
         \"sparse\", sparsity = 0.1, beta = 1.0 } },\n]",
    );
    assert_ne!(
        added, quick,
        "quick.toml's variants list changed; update this test"
    );
    let experiment = dir.path().join("quick.toml");
    std::fs::write(&experiment, added).unwrap();

    let output = run_ok(reproduce_command_with(&experiment, &out));
    let done = jobs_done(&output);
    // Only the new variant's jobs run: two seeds of training (general + two held-out
    // classes) and every downstream task.
    assert!(done.iter().all(|j| j.contains("sparse_p10")), "{done:?}");
    for task in [
        "reconstruction",
        "interpolation",
        "latent_general",
        "linear_probe",
    ] {
        for seed in [42, 43] {
            let job = format!("seed{seed}/{task}/sparse_p10");
            assert!(done.contains(&job), "{job} missing from {done:?}");
        }
    }
    let long = text(&csv(&out, "reconstruction"));
    assert!(
        long.lines().any(|l| l.starts_with("sparse_p10,42,")),
        "{long}"
    );
    // The nine are unchanged.
    let fresh = text(&csv(fresh_run(), "reconstruction"));
    for line in fresh.lines().skip(1) {
        assert!(long.contains(line), "{line} changed");
    }
}

#[test]
fn adding_a_seed_runs_only_that_seeds_jobs() {
    let dir = scratch();
    let out = clone_fresh(dir.path());
    let quick = std::fs::read_to_string(workspace().join(QUICK)).unwrap();
    let three = quick.replace("seeds = [42, 43]", "seeds = [42, 43, 44]");
    assert_ne!(
        three, quick,
        "quick.toml's seeds line changed; update this test"
    );
    let experiment = dir.path().join("quick.toml");
    std::fs::write(&experiment, three).unwrap();

    let output = run_ok(reproduce_command_with(&experiment, &out));
    let done = jobs_done(&output);
    assert_eq!(done.len(), quick_jobs() / 2, "{done:?}");
    assert!(done.iter().all(|j| j.starts_with("seed44/")), "{done:?}");
    let summary = text(&csv(&out, "reconstruction_summary"));
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("vanilla,test_bce,3,")),
        "{summary}"
    );
    // The first two seeds' values are unchanged.
    let long = text(&csv(&out, "reconstruction"));
    let fresh = text(&csv(fresh_run(), "reconstruction"));
    for line in fresh.lines().skip(1) {
        assert!(long.contains(line), "{line} changed");
    }
}

/// Also the check that a second fresh run gives the same bytes: after the kill, every job but
/// the first training is computed anew and compared with the shared fresh run.
#[test]
fn killed_run_resumes_to_the_same_tables() {
    let dir = scratch();
    let out = dir.path().join("quick");
    let mut child = reproduce_command(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let shallow = model_dir(Path::new(QUICK), &out, "seed42/train/shallow_latent20");
    let first = shallow.join("record.json");
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
    let checkpoint = shallow.join("model.safetensors");
    let checkpoint_before = std::fs::read(&checkpoint).unwrap();
    assert!(
        !out.join("report.md").exists(),
        "the run finished before the kill"
    );

    // Whatever was written is complete: every cached result decompresses and parses.
    for file in files_under(&store_of(&out).join("jobs")) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json.gz") && !name.starts_with('.') {
            let gz = std::fs::File::open(&file).unwrap();
            serde_json::from_reader::<_, serde_json::Value>(flate2::read::GzDecoder::new(gz))
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
    let leftovers: Vec<PathBuf> = files_under(dir.path())
        .into_iter()
        .filter(|f| {
            f.strip_prefix(dir.path())
                .unwrap()
                .to_string_lossy()
                .contains(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    assert_same_tables(fresh_run(), &out);
}

/// The families' variants, read off the registry (a family added later is tested too).
fn family_variants() -> Vec<String> {
    ae_models::variants::all()
        .into_iter()
        .filter(|v| v.family.is_some())
        .map(|v| v.name)
        .collect()
}

#[test]
fn every_family_runs_through_every_task_in_the_autograd_backend() {
    let families = family_variants();
    assert!(families.len() >= 4, "{families:?}");
    let dir = scratch();
    let quick = std::fs::read_to_string(workspace().join(QUICK)).unwrap();
    let start = quick.find("variants = [").unwrap();
    let end = start + quick[start..].find(']').unwrap() + 1;
    let listed = families
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let experiment_text = format!("{}variants = [{listed}]{}", &quick[..start], &quick[end..])
        .replace("seeds = [42, 43]", "seeds = [42]")
        .replace("digits = [1, 7]", "digits = [1]");
    let experiment = dir.path().join("families.toml");
    std::fs::write(&experiment, experiment_text).unwrap();
    let out = dir.path().join("families");

    let done = jobs_done(&run_ok(reproduce_command_with(&experiment, &out)));
    for family in &families {
        let variant = ae_models::variants::by_name(family).unwrap();
        for task in ae_runner::task_table::DOWNSTREAM.iter() {
            let applies = (task.applies)(&variant.capabilities());
            let job = format!("seed42/{}", task.name(family, 1));
            assert_eq!(done.contains(&job), applies, "{job} in {done:?}");
        }
        for run in ["latent20", "latent2_without1"] {
            let job = format!("seed42/train/{family}_{run}");
            let record = model_dir(&experiment, &out, &job).join("record.json");
            let record = std::fs::read_to_string(&record).unwrap();
            assert!(record.contains("\"autograd\""), "{record}");
        }
    }
    // Every family has a finite row in each per-variant table.
    for table in ["reconstruction", "anomaly", "probe", "clustering"] {
        let rows = text(&csv(&out, table));
        for family in &families {
            let row = rows
                .lines()
                .find(|l| l.starts_with(&format!("{family},42,")))
                .unwrap_or_else(|| panic!("{family} missing from {table}.csv:\n{rows}"));
            let first: f64 = row.split(',').nth(2).unwrap().parse().unwrap();
            assert!(first.is_finite(), "{table}: {row}");
        }
    }
}
