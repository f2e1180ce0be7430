//! `bakeoff reproduce`: run every job of an experiment that is not up to date (here, or
//! submitted to Slurm), then write the tables, figures, `results.json` and `report.md` from
//! the cached results.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ae_report::metadata::RunMetadata;
use ae_results::job_result::FORMAT_VERSION;
use ae_results::study_results::StudyResults;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use super::{StudyDirArgs, StudyDirs};
use crate::executor::local::{self, LocalOptions};
use crate::executor::slurm::{self, SlurmOptions, StudyPaths};
use crate::executor::Study;
use crate::experiment::Experiment;
use crate::loader;
use crate::lock::StudyLock;
use crate::plan::Plan;

/// Arguments of `bakeoff reproduce`.
#[derive(clap::Args, Debug)]
pub struct ReproduceArgs {
    /// Experiment file (TOML; see experiments/).
    #[arg(long, default_value = "experiments/mnist.toml")]
    pub experiment: PathBuf,
    #[command(flatten)]
    pub dirs: StudyDirArgs,
    /// Run the jobs of these variants only (the report still shows every cached result).
    #[arg(long, num_args = 1.., value_name = "VARIANT")]
    pub only: Vec<String>,
    /// Recompute every job, ignoring cached results and finished training runs.
    #[arg(long)]
    pub retrain: bool,
    /// Run up to N independent jobs at once (local executor), each with cores / N threads;
    /// the results are the same whatever N is.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Where the jobs run: here, or as Slurm job arrays (one per level and kind of job) on a
    /// cluster sharing the results directory; a Slurm submission returns at once and a last
    /// Slurm job renders the report.
    #[arg(long, value_enum, default_value_t = ExecutorKind::Local)]
    pub executor: ExecutorKind,
    /// Slurm partition of the submitted jobs.
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm time limit of each submitted job or array element (e.g. `30`, `2:00:00`).
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs of each submitted Slurm job or array element (the engine uses that many threads).
    #[arg(long)]
    pub cpus_per_task: Option<usize>,
    /// Memory of each submitted Slurm job or array element, in Slurm's format (e.g. `4G`; a whole seed of the
    /// study, run in one process, peaked at 699 MB).
    #[arg(long)]
    pub mem: Option<String>,
    /// Print the Slurm scripts instead of submitting them.
    #[arg(long)]
    pub dry_run: bool,
    /// Run nothing: write the tables, figures and report anew from the results recorded so
    /// far (a study still under way; the report lists the jobs without a result).
    #[arg(long, conflicts_with_all = ["retrain", "dry_run"])]
    pub no_run: bool,
    /// Wait up to this many seconds for another process's lock on the results directory
    /// (default: fail at once, naming the holder).
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    pub lock_wait: u64,
}

/// Where `reproduce` runs the jobs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorKind {
    /// In this process.
    Local,
    /// As Slurm job arrays, one per level and kind of job.
    Slurm,
}

/// File in the results directory holding the key of the last rendered report.
const REPORT_KEY_FILE: &str = "report.key";

/// Runs `bakeoff reproduce`.
pub fn run(args: &ReproduceArgs) -> Result<()> {
    let start = Instant::now();
    // Everything is validated before anything is written.
    let experiment = Experiment::load(&args.experiment)?;
    let selected = experiment.restrict_to(&args.only)?;
    let plan = Plan::new(&experiment, &selected)?;
    let full_plan = Plan::new(&experiment, &experiment.variants)?;
    let dirs = args.dirs.resolve(&experiment);
    let out = dirs.out.clone();
    let cache = dirs.cache(&plan);
    let study = Study {
        experiment: &experiment,
        plan: &plan,
        cache: &cache,
    };
    let slurm_options = SlurmOptions {
        partition: args.partition.clone(),
        time: args.time.clone(),
        cpus_per_task: args.cpus_per_task,
        mem: args.mem.clone(),
        dry_run: args.dry_run,
    };
    let slurm_flag = (args.partition.is_some() || args.time.is_some() || args.mem.is_some())
        || (args.cpus_per_task.is_some() || args.dry_run);
    if args.executor == ExecutorKind::Local && slurm_flag {
        bail!("--partition, --time, --cpus-per-task, --mem and --dry-run need --executor slurm");
    }
    if args.executor == ExecutorKind::Slurm {
        if args.retrain || args.jobs != 1 {
            bail!("--retrain and --jobs apply to the local executor only");
        }
        if args.dry_run {
            // Prints the scripts; writes nothing.
            slurm::submit(study, &slurm_paths(args, &dirs)?, &slurm_options)?;
            return Ok(());
        }
    }

    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let _lock = StudyLock::acquire(&out, Duration::from_secs(args.lock_wait))?;
    write_if_changed(
        &out.join("experiment.toml"),
        experiment.to_toml()?.as_bytes(),
    )?;

    let mut failures = Vec::new();
    let mut jobs_run = 0;
    if args.no_run {
        let missing = plan.jobs.iter().filter(|j| !cache.has_result(j)).count();
        println!(
            "running nothing; {missing} of {} jobs have no result",
            plan.jobs.len()
        );
    } else if args.executor == ExecutorKind::Slurm {
        let paths = slurm_paths(args, &dirs)?;
        let submission = slurm::submit(study, &paths, &slurm_options)?;
        if !submission.render_here {
            println!(
                "submitted {} jobs in {} Slurm submissions ({} jobs already queued or \
                 running, {} Slurm jobs cancelled); follow them with `bakeoff status \
                 --experiment {} --out {}`",
                submission.jobs,
                submission.submissions,
                submission.in_flight,
                submission.cancelled,
                paths.experiment.display(),
                paths.out.display()
            );
            return Ok(());
        }
        println!("every job is up to date ({} jobs)", plan.jobs.len());
    } else {
        // A local run beside running Slurm jobs would do their work twice and sweep away
        // their half-written files. (A Slurm study's last job runs this once they ended.)
        let live = slurm::live_elements(&out)?;
        if !live.is_empty() {
            let ids: Vec<String> = live.iter().map(slurm::SlurmId::to_string).collect();
            bail!(
                "{} Slurm jobs of this study are queued or running ({}); wait for them \
                 (`bakeoff status`) or cancel them (`scancel`) before running it here",
                live.len(),
                ids.join(",")
            );
        }
        cache.remove_stale_temporaries(&plan);
        let pending = plan.pending(&cache);
        let todo: Vec<usize> = (0..plan.jobs.len())
            .filter(|&i| args.retrain || pending[i])
            .collect();
        if todo.is_empty() {
            println!("every job is up to date ({} jobs)", plan.jobs.len());
        } else {
            println!(
                "{} of {} jobs to run ({} up to date)",
                todo.len(),
                plan.jobs.len(),
                plan.jobs.len() - todo.len()
            );
            let options = LocalOptions {
                jobs: usize::from(args.jobs),
                retrain: args.retrain,
            };
            let outcome = local::run(study, &todo, options)?;
            jobs_run = outcome.ran;
            failures = outcome.failures;
            println!(
                "ran {jobs_run} jobs in {:.1}s",
                start.elapsed().as_secs_f64()
            );
        }
    }

    let results = loader::load(&experiment, &full_plan, &cache)?;
    let report_key = report_key(&full_plan, &results);
    let key_path = out.join(REPORT_KEY_FILE);
    let report_current = std::fs::read_to_string(&key_path).is_ok_and(|k| k == report_key)
        && out.join("report.md").is_file()
        && out.join("results.json").is_file();
    // Rerendering after any job ran, even one whose key did not change, keeps the report
    // honest when a result was recomputed by hand (deleted) or after a code change.
    if report_current && jobs_run == 0 && !args.retrain && !args.no_run {
        println!("report up to date: {}", out.join("report.md").display());
    } else {
        let metadata = RunMetadata::collect(
            start.elapsed().as_secs_f64(),
            jobs_run,
            results.total_job_seconds(),
        );
        ae_report::write_outputs(&results, &experiment, &metadata, &args.experiment, &out)?;
        ae_data::fs::write_atomic(&key_path, report_key.as_bytes())
            .with_context(|| format!("writing {}", key_path.display()))?;
        println!("report written: {}", out.join("report.md").display());
    }
    if !failures.is_empty() {
        bail!("{} jobs failed: {}", failures.len(), failures.join(", "));
    }
    Ok(())
}

/// The absolute paths a Slurm job needs (the nodes may start anywhere).
fn slurm_paths(args: &ReproduceArgs, dirs: &StudyDirs) -> Result<StudyPaths> {
    let absolute =
        |p: &Path| std::path::absolute(p).with_context(|| format!("resolving {}", p.display()));
    Ok(StudyPaths {
        bakeoff: std::env::current_exe().context("locating the bakeoff binary")?,
        experiment: absolute(&args.experiment)?,
        out: absolute(&dirs.out)?,
        store: absolute(&dirs.store)?,
        checkpoints: absolute(&dirs.checkpoints)?,
        workdir: std::env::current_dir().context("reading the working directory")?,
        only: args.only.clone(),
    })
}

/// What the report shows: which jobs have results, under which keys, and the differences text.
fn report_key(plan: &Plan, results: &StudyResults) -> String {
    let mut hasher = Sha256::new();
    hasher.update(FORMAT_VERSION.to_le_bytes());
    // The hand-written explanation of the differences is part of the report too.
    hasher.update(ae_report::reference::DIFFERENCES.as_bytes());
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
