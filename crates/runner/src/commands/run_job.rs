//! `bakeoff run-job`: run one job of a study by name and store its result, as each element
//! of a Slurm submission does. It takes no study lock: elements run side by side by design,
//! each writing only its own files, atomically.

use std::path::PathBuf;

use ae_models::training::Silent;
use anyhow::{bail, Context, Result};

use super::StudyDirArgs;
use crate::executor::execute;
use crate::experiment::Experiment;
use crate::jobs::{EvalData, JobContext};
use crate::plan::{Plan, Task};
use crate::progress::TrainingBar;

/// Arguments of `bakeoff run-job`.
#[derive(clap::Args, Debug)]
pub struct RunJobArgs {
    /// Experiment file (TOML; see experiments/).
    #[arg(long)]
    pub experiment: PathBuf,
    #[command(flatten)]
    pub dirs: StudyDirArgs,
    /// The job's name, as in the plan (`train/vae_latent20`, `reconstruction/vae`, ...).
    #[arg(long)]
    pub job: String,
    /// Refuse to run unless the job's key is this one (the key it was submitted under), so
    /// an element never computes something the experiment file no longer asks for.
    #[arg(long)]
    pub key: Option<String>,
}

/// Runs `bakeoff run-job`: nothing to do if the job's result is current; an error if a job
/// it reads has no current result.
pub fn run(args: &RunJobArgs) -> Result<()> {
    let experiment = Experiment::load(&args.experiment)?;
    let plan = Plan::new(&experiment, &experiment.variants)?;
    let cache = args.dirs.resolve(&experiment).cache(&plan);
    let job = plan.job(&args.job).with_context(|| {
        format!(
            "{} has no job named `{}`",
            args.experiment.display(),
            args.job
        )
    })?;
    if let Some(key) = &args.key {
        if *key != job.key {
            bail!(
                "job {} was submitted under key {key}, but {} now gives it key {}: the \
                 experiment or the program changed since; submit the study again",
                job.name,
                args.experiment.display(),
                job.key
            );
        }
    }
    let index = plan
        .jobs
        .iter()
        .position(|j| j.name == job.name)
        .expect("the job is in the plan");
    if !plan.pending(&cache)[index] {
        println!("{} is up to date", job.name);
        return Ok(());
    }
    if let Some(&d) = job.deps.iter().find(|&&d| !cache.is_fresh(&plan.jobs[d])) {
        bail!(
            "job {} needs the result of {}, which is missing or out of date",
            job.name,
            plan.jobs[d].name
        );
    }
    let data = EvalData::load(&experiment)?;
    let ctx = JobContext {
        experiment: &experiment,
        plan: &plan,
        cache: &cache,
        data: &data,
        retrain: false,
    };
    let seconds = if let Task::Train { run } = &job.task {
        let rows = crate::run::training_rows(run, &data.dataset);
        let batch = run.training.batch_size;
        // Without a terminal (a Slurm log) the bar stays hidden and each epoch is logged.
        let mut bar = TrainingBar::new(
            &job.name,
            run.training.epochs,
            rows.div_ceil(batch),
            batch,
            true,
        );
        let seconds = execute(job, &ctx, &mut bar);
        bar.finish();
        seconds
    } else {
        execute(job, &ctx, &mut Silent)
    };
    let seconds = seconds.with_context(|| format!("job {}", job.name))?;
    println!("done {} in {seconds:.2}s", job.name);
    Ok(())
}
