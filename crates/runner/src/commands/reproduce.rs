//! `bakeoff reproduce`: run every job of an experiment that is not up to date, then write
//! the tables, figures, `results.json` and `report.md` from the cached results.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ae_models::training::Silent;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::experiment::Experiment;
use crate::jobs::{run_job, EvalData, JobContext};
use crate::metadata::RunMetadata;
use crate::plan::{Cache, Plan, Task, FORMAT_VERSION, JOBS_DIR};
use crate::progress::JobProgress;
use crate::results::StudyResults;
use crate::{figures, findings, report, results, tables};

/// Arguments of `bakeoff reproduce`.
#[derive(clap::Args, Debug)]
pub struct ReproduceArgs {
    /// Experiment file (TOML; see experiments/).
    #[arg(long, default_value = "experiments/mnist.toml")]
    pub experiment: PathBuf,
    /// Output directory [default: results/<experiment name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run the jobs of these variants only (the report still shows every cached result).
    #[arg(long, num_args = 1.., value_name = "VARIANT")]
    pub only: Vec<String>,
    /// Recompute every job, ignoring cached results and finished training runs.
    #[arg(long)]
    pub retrain: bool,
    /// Trained runs and cached job results [default: <out>/checkpoints].
    #[arg(long)]
    pub checkpoints: Option<PathBuf>,
}

/// File in the jobs directory holding the key of the last rendered report.
const REPORT_KEY_FILE: &str = "report.key";

/// Runs `bakeoff reproduce`.
pub fn run(args: &ReproduceArgs) -> Result<()> {
    let start = Instant::now();
    // Everything is validated before anything is written.
    let experiment = Experiment::load(&args.experiment)?;
    let selected = experiment.restrict_to(&args.only)?;
    let plan = Plan::new(&experiment, &selected)?;
    let full_plan = Plan::new(&experiment, &experiment.variants)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&experiment.name));
    let checkpoints = args
        .checkpoints
        .clone()
        .unwrap_or_else(|| out.join("checkpoints"));
    let cache = Cache::new(&checkpoints);

    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    write_if_changed(
        &out.join("experiment.toml"),
        experiment.to_toml()?.as_bytes(),
    )?;
    cache.remove_stale_temporaries();

    let todo: Vec<usize> = (0..plan.jobs.len())
        .filter(|&i| args.retrain || !cache.is_fresh(&plan.jobs[i]))
        .collect();
    let mut failures = Vec::new();
    let mut jobs_run = 0;
    if todo.is_empty() {
        println!("every job is up to date ({} jobs)", plan.jobs.len());
    } else {
        println!(
            "{} of {} jobs to run ({} up to date)",
            todo.len(),
            plan.jobs.len(),
            plan.jobs.len() - todo.len()
        );
        let data = EvalData::load(&experiment)?;
        let ctx = JobContext {
            experiment: &experiment,
            plan: &plan,
            cache: &cache,
            data: &data,
            retrain: args.retrain,
        };
        let progress = JobProgress::new(todo.len());
        let mut failed = Vec::new();
        for &i in &todo {
            let job = &plan.jobs[i];
            if let Some(&d) = job.deps.iter().find(|d| failed.contains(*d)) {
                failed.push(i);
                progress.line(&format!(
                    "skipped {}: {} failed",
                    job.name, plan.jobs[d].name
                ));
                failures.push(format!("{} (skipped)", job.name));
                continue;
            }
            progress.start(&job.name);
            let t0 = Instant::now();
            let result = if let Task::Train { run } = &job.task {
                let rows = crate::run::training_rows(run, &data.dataset);
                let batch = run.training.batch_size;
                let mut bar = progress.training_bar(
                    &job.name,
                    run.training.epochs,
                    rows.div_ceil(batch),
                    batch,
                );
                let result = run_job(job, &ctx, &mut bar);
                bar.finish();
                result
            } else {
                let spinner = progress.spinner(&job.name);
                let result = run_job(job, &ctx, &mut Silent);
                spinner.finish_and_clear();
                result
            };
            let seconds = t0.elapsed().as_secs_f64();
            match result.and_then(|value| cache.store(job, seconds, &value)) {
                Ok(()) => {
                    jobs_run += 1;
                    progress.finish(&job.name, seconds);
                }
                Err(e) => {
                    failed.push(i);
                    progress.line(&format!("FAILED {}: {e:#}", job.name));
                    failures.push(job.name.clone());
                }
            }
        }
        progress.clear();
        println!(
            "ran {jobs_run} jobs in {:.1}s",
            start.elapsed().as_secs_f64()
        );
    }

    let results = StudyResults::load(&experiment, &full_plan, &cache)?;
    let report_key = report_key(&full_plan, &results);
    let key_path = checkpoints.join(JOBS_DIR).join(REPORT_KEY_FILE);
    let report_current = std::fs::read_to_string(&key_path).is_ok_and(|k| k == report_key)
        && out.join("report.md").is_file()
        && out.join("results.json").is_file();
    // Rerendering after any job ran, even one whose key did not change, keeps the report
    // honest when a result was recomputed by hand (deleted) or after a code change.
    if report_current && jobs_run == 0 && !args.retrain {
        println!("report up to date: {}", out.join("report.md").display());
    } else {
        let metadata = RunMetadata::collect(
            start.elapsed().as_secs_f64(),
            jobs_run,
            results.total_job_seconds(),
        );
        write_outputs(&results, &metadata, &args.experiment, &out)?;
        ae_data::fs::write_atomic(&key_path, report_key.as_bytes())
            .with_context(|| format!("writing {}", key_path.display()))?;
        println!("report written: {}", out.join("report.md").display());
    }
    if !failures.is_empty() {
        bail!("{} jobs failed: {}", failures.len(), failures.join(", "));
    }
    Ok(())
}

/// Tables, figures, `results.json` and `report.md`, all from the cached results.
fn write_outputs(
    results: &StudyResults,
    metadata: &RunMetadata,
    experiment_file: &Path,
    out: &Path,
) -> Result<()> {
    let tables = tables::metric_tables(results);
    for table in &tables {
        table.write(out)?;
    }
    let comparison = tables::comparison(results);
    comparison.write(out)?;
    let probe_ranking = tables::probe_ranking(results);
    probe_ranking.write(out)?;
    figures::draw_all(results, out)?;
    let findings = findings::check(results);
    results::write_results_json(results, metadata, &findings, out)?;
    report::write(
        &report::ReportInput {
            results,
            tables: &tables,
            comparison: &comparison,
            probe_ranking: &probe_ranking,
            findings: &findings,
            metadata,
            experiment_file: &experiment_file.display().to_string(),
        },
        out,
    )
}

/// What the report shows: which jobs have results, under which keys, and the differences text.
fn report_key(plan: &Plan, results: &StudyResults) -> String {
    let mut hasher = Sha256::new();
    hasher.update(FORMAT_VERSION.to_le_bytes());
    // The hand-written explanation of the differences is part of the report too.
    hasher.update(crate::reference::DIFFERENCES.as_bytes());
    for timing in &results.jobs {
        hasher.update(timing.job.as_bytes());
        match (plan.job(&timing.job), timing.seconds) {
            (Some(job), Some(_)) => hasher.update(job.key.as_bytes()),
            _ => hasher.update(b"missing"),
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    ae_data::fs::write_atomic(path, bytes).with_context(|| format!("writing {}", path.display()))
}
