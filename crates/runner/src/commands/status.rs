//! `bakeoff status`: which jobs of a study are done, queued or running in Slurm (`squeue`),
//! failed (their Slurm job ended without a result; `sacct`'s state where accounting is on),
//! or missing.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;

use super::StudyDirArgs;
use crate::executor::slurm::{self, JobState, Ledger};
use crate::experiment::Experiment;
use crate::plan::Plan;

/// Arguments of `bakeoff status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Experiment file (TOML; see experiments/).
    #[arg(long, default_value = "experiments/mnist.toml")]
    pub experiment: PathBuf,
    #[command(flatten)]
    pub dirs: StudyDirArgs,
    /// Show the jobs of these variants only.
    #[arg(long, num_args = 1.., value_name = "VARIANT")]
    pub only: Vec<String>,
    /// List only the jobs that are not done.
    #[arg(long)]
    pub pending_only: bool,
}

/// Runs `bakeoff status`: one line per job, then the counts.
pub fn run(args: &StatusArgs) -> Result<()> {
    let experiment = Experiment::load(&args.experiment)?;
    let selected = experiment.restrict_to(&args.only)?;
    let plan = Plan::new(&experiment, &selected)?;
    let dirs = args.dirs.resolve(&experiment);
    let out = dirs.out.clone();
    let cache = dirs.cache(&plan);
    let fresh: Vec<bool> = plan.pending(&cache).iter().map(|p| !p).collect();
    let ledger = Ledger::load(&out)?;
    let queue = if ledger.entries.is_empty() {
        HashMap::new()
    } else {
        slurm::queue().unwrap_or_else(|e| {
            eprintln!("note: {e:#}; Slurm jobs are shown as failed");
            HashMap::new()
        })
    };
    let states = slurm::survey(&plan, &fresh, &ledger, &queue);
    let ended: Vec<slurm::SlurmId> = states
        .iter()
        .filter_map(|s| match s {
            JobState::Failed { slurm_id } => Some(*slurm_id),
            _ => None,
        })
        .collect();
    let final_states = slurm::final_states(&ended);
    let width = plan.jobs.iter().map(|j| j.name.len()).max().unwrap_or(0);
    let mut counts: [usize; 5] = [0; 5];
    for (job, state) in plan.jobs.iter().zip(&states) {
        let (slot, text) = match state {
            JobState::Done => (0, "done".to_string()),
            JobState::Queued { slurm_id, queued } if queued.state == "RUNNING" => {
                (1, format!("running (Slurm job {slurm_id})"))
            }
            JobState::Queued { slurm_id, queued } => (
                2,
                format!(
                    "{} (Slurm job {slurm_id}: {})",
                    queued.state.to_lowercase(),
                    queued.reason
                ),
            ),
            JobState::Failed { slurm_id } => (
                3,
                match final_states.get(slurm_id) {
                    Some(state) => format!("failed (Slurm job {slurm_id}: {state})"),
                    None => format!("failed (Slurm job {slurm_id} ended without a result)"),
                },
            ),
            JobState::Missing => (4, "missing".to_string()),
        };
        counts[slot] += 1;
        if !(args.pending_only && slot == 0) {
            println!("{:<width$}  {text}", job.name);
        }
    }
    println!(
        "{} jobs: {} done, {} running, {} queued, {} failed, {} missing",
        plan.jobs.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4]
    );
    if counts[3] + counts[4] > 0 {
        println!(
            "run the same `bakeoff reproduce` command again to submit what is failed or missing"
        );
    }
    Ok(())
}
