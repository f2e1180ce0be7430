//! Executing a study's jobs. [`local`] runs them in this process, up to N at once;
//! [`slurm`] submits them to a Slurm cluster as a job graph whose elements each run one job
//! with `bakeoff run-job`. Either way a job's result reaches the cache through [`execute`],
//! one atomic write per job, so results never depend on where or beside what a job ran.

pub mod local;
pub mod slurm;

use std::time::Instant;

use ae_models::TrainingObserver;
use anyhow::Result;

use crate::experiment::Experiment;
use crate::jobs::{run_job, JobContext};
use crate::plan::{Cache, Job, Plan};

/// What an executor works on: the experiment, its plan and the cache of results.
#[derive(Clone, Copy)]
pub struct Study<'a> {
    /// The experiment.
    pub experiment: &'a Experiment,
    /// Its jobs (possibly restricted to some variants).
    pub plan: &'a Plan,
    /// Where results are stored.
    pub cache: &'a Cache,
}

/// Runs `job` and stores its result with its wall time; returns the wall time in seconds.
pub fn execute(
    job: &Job,
    ctx: &JobContext<'_>,
    observer: &mut dyn TrainingObserver,
) -> Result<f64> {
    let start = Instant::now();
    let value = run_job(job, ctx, observer)?;
    let seconds = start.elapsed().as_secs_f64();
    ctx.cache.store(job, seconds, &value)?;
    Ok(seconds)
}
