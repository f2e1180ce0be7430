//! The local executor: runs a study's jobs in this process, up to N at once in dependency
//! order. Each of the N workers runs its jobs inside its own rayon pool of `cores / N`
//! threads, so concurrent jobs share the cores instead of fighting over one pool. Every job's
//! randomness comes from its name and the engine's sums do not depend on the thread count,
//! so the results are the same bytes whatever N is.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex};

use ae_models::training::Silent;
use anyhow::{Context, Result};

use super::{execute, Study};
use crate::jobs::{EvalData, JobContext};
use crate::plan::{Job, Plan, Task};
use crate::progress::JobProgress;

/// How the local executor runs.
#[derive(Clone, Copy, Debug)]
pub struct LocalOptions {
    /// Jobs run at once (at least 1).
    pub jobs: usize,
    /// Train again even where a finished run with the same settings exists.
    pub retrain: bool,
}

/// What a local execution did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Jobs that ran and stored their result.
    pub ran: usize,
    /// Jobs that failed, and those skipped because a job they need failed (`name (skipped)`).
    pub failures: Vec<String>,
}

/// Runs the jobs of `study.plan` at the indices `todo` (in plan order); a job runs once
/// every job it depends on has either a result from before (it is not in `todo`) or has just
/// stored one. Jobs that need a failed job are skipped. Fails only if the evaluation data
/// cannot be loaded or a thread pool cannot be built.
pub fn run(study: Study<'_>, todo: &[usize], options: LocalOptions) -> Result<Outcome> {
    if todo.is_empty() {
        return Ok(Outcome::default());
    }
    let data = EvalData::load(study.experiment)?;
    let ctx = JobContext {
        experiment: study.experiment,
        plan: study.plan,
        cache: study.cache,
        data: &data,
        retrain: options.retrain,
    };
    let progress = JobProgress::new(todo.len());
    let board = Board::new(study.plan, todo);
    let workers = options.jobs.clamp(1, todo.len());
    if workers == 1 {
        // Today's behaviour: this thread, in the global pool (which it belongs to).
        work(&board, &ctx, &progress);
    } else {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (cores / workers).max(1);
        std::thread::scope(|scope| -> Result<()> {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| -> Result<()> {
                        // The worker thread joins its own pool, so the engine's parallel
                        // sections run on it directly (as the main thread does in the
                        // global pool); the pool must be dropped on this thread.
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(threads)
                            .use_current_thread()
                            .build()
                            .context("building a job's thread pool")?;
                        pool.install(|| work(&board, &ctx, &progress));
                        Ok(())
                    })
                })
                .collect();
            let mut result = Ok(());
            for handle in handles {
                let joined = handle.join().expect("job worker panicked");
                if joined.is_err() {
                    // Let the other workers finish what is left before reporting.
                    board.abandon();
                    result = result.and(joined);
                }
            }
            result
        })?;
    }
    progress.clear();
    Ok(board.into_outcome())
}

/// Takes jobs from the board until none is left.
fn work(board: &Board, ctx: &JobContext<'_>, progress: &JobProgress) {
    while let Some(i) = board.next(progress) {
        let job = &ctx.plan.jobs[i];
        progress.start(&job.name);
        let result = run_with_progress(job, ctx, progress);
        match &result {
            Ok(seconds) => progress.finish(&job.name, *seconds),
            Err(e) => progress.line(&format!("FAILED {}: {e:#}", job.name)),
        }
        board.done(i, result.is_ok());
    }
}

fn run_with_progress(job: &Job, ctx: &JobContext<'_>, progress: &JobProgress) -> Result<f64> {
    if let Task::Train { run } = &job.task {
        let rows = crate::run::training_rows(run, &ctx.data.dataset);
        let batch = run.training.batch_size;
        let mut bar =
            progress.training_bar(&job.name, run.training.epochs, rows.div_ceil(batch), batch);
        let result = execute(job, ctx, &mut bar);
        bar.finish();
        result
    } else {
        let spinner = progress.spinner(&job.name);
        let result = execute(job, ctx, &mut Silent);
        spinner.finish_and_clear();
        result
    }
}

/// The jobs still to run, running, finished and failed, shared by the workers.
struct Board<'a> {
    plan: &'a Plan,
    state: Mutex<BoardState>,
    changed: Condvar,
}

#[derive(Default)]
struct BoardState {
    /// Not yet started, in plan order.
    waiting: Vec<usize>,
    /// Every job of this execution.
    todo: HashSet<usize>,
    running: usize,
    succeeded: HashSet<usize>,
    failed: HashSet<usize>,
    outcome: Outcome,
}

impl<'a> Board<'a> {
    fn new(plan: &'a Plan, todo: &[usize]) -> Self {
        let mut waiting = todo.to_vec();
        waiting.sort_unstable();
        Self {
            plan,
            state: Mutex::new(BoardState {
                waiting,
                todo: todo.iter().copied().collect(),
                ..BoardState::default()
            }),
            changed: Condvar::new(),
        }
    }

    /// The first waiting job whose dependencies are all met, a job that trains nothing
    /// before one that trains, blocking while only running jobs could unblock one; `None`
    /// when nothing is left. Jobs that need a failed job are taken off the board as skipped.
    ///
    /// Downstream jobs go first because they are short and because, once a trained model's
    /// downstream results are stored, the model's checkpoint is no longer needed: a long
    /// study interrupted and resumed from the committed results on another machine (without
    /// the checkpoints) then retrains only the models it had not finished using.
    fn next(&self, progress: &JobProgress) -> Option<usize> {
        let mut state = self.state.lock().expect("board lock");
        loop {
            let mut pos = 0;
            while pos < state.waiting.len() {
                let i = state.waiting[pos];
                let deps = &self.plan.jobs[i].deps;
                if let Some(&d) = deps.iter().find(|d| state.failed.contains(*d)) {
                    state.waiting.remove(pos);
                    state.failed.insert(i);
                    let name = &self.plan.jobs[i].name;
                    progress.line(&format!(
                        "skipped {name}: {} failed",
                        self.plan.jobs[d].name
                    ));
                    state.outcome.failures.push(format!("{name} (skipped)"));
                    continue;
                }
                pos += 1;
            }
            let ready = |i: &usize| {
                self.plan.jobs[*i]
                    .deps
                    .iter()
                    .all(|d| !state.todo.contains(d) || state.succeeded.contains(d))
            };
            let trains = |i: &usize| self.plan.jobs[*i].is_training();
            let pick = (state.waiting.iter())
                .position(|i| ready(i) && !trains(i))
                .or_else(|| state.waiting.iter().position(ready));
            if let Some(pos) = pick {
                let i = state.waiting.remove(pos);
                state.running += 1;
                return Some(i);
            }
            if state.running == 0 {
                // Whatever still waits needs a job that will never run here.
                for i in std::mem::take(&mut state.waiting) {
                    state
                        .outcome
                        .failures
                        .push(format!("{} (skipped)", self.plan.jobs[i].name));
                }
                return None;
            }
            state = self.changed.wait(state).expect("board lock");
        }
    }

    /// Records that job `i` finished, successfully or not.
    fn done(&self, i: usize, ok: bool) {
        let mut state = self.state.lock().expect("board lock");
        state.running -= 1;
        if ok {
            state.succeeded.insert(i);
            state.outcome.ran += 1;
        } else {
            state.failed.insert(i);
            state.outcome.failures.push(self.plan.jobs[i].name.clone());
        }
        self.changed.notify_all();
    }

    /// Drops every waiting job (a worker could not start); they are reported as skipped.
    fn abandon(&self) {
        let mut state = self.state.lock().expect("board lock");
        for i in std::mem::take(&mut state.waiting) {
            let name = format!("{} (skipped)", self.plan.jobs[i].name);
            state.outcome.failures.push(name);
        }
        self.changed.notify_all();
    }

    fn into_outcome(self) -> Outcome {
        self.state.into_inner().expect("board lock").outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        crate::plan::test_plan(&["vanilla", "vae"])
    }

    fn index(plan: &Plan, name: &str) -> usize {
        plan.jobs.iter().position(|j| j.name == name).unwrap()
    }

    #[test]
    fn board_hands_out_jobs_only_after_their_dependencies() {
        let plan = plan();
        let progress = JobProgress::new(0);
        let todo: Vec<usize> = (0..plan.jobs.len()).collect();
        let board = Board::new(&plan, &todo);
        // The baselines (ready, training nothing), then the classifier and the training
        // jobs; nothing downstream is ready.
        let mut started = Vec::new();
        for _ in 0..7 {
            started.push(board.next(&progress).unwrap());
        }
        let names: Vec<&str> = started
            .iter()
            .map(|&i| plan.jobs[i].name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "seed42/baseline/random_encoder",
                "seed42/baseline/supervised",
                "instrument/classifier",
                "seed42/train/vanilla_latent20",
                "seed42/train/vanilla_latent2_without1",
                "seed42/train/vae_latent20",
                "seed42/train/vae_latent2_without1",
            ]
        );
        board.done(index(&plan, "seed42/train/vanilla_latent20"), true);
        let next = board.next(&progress).unwrap();
        assert_eq!(plan.jobs[next].name, "seed42/reconstruction/vanilla");
    }

    #[test]
    fn board_finishes_a_trained_models_jobs_before_the_next_training() {
        let plan = plan();
        let progress = JobProgress::new(0);
        let vanilla = index(&plan, "seed42/train/vanilla_latent20");
        let vae = index(&plan, "seed42/train/vae_latent20");
        let recon = index(&plan, "seed42/reconstruction/vanilla");
        let board = Board::new(&plan, &[vanilla, vae, recon]);
        assert_eq!(board.next(&progress), Some(vanilla));
        board.done(vanilla, true);
        // The VAE's training comes first in plan order, but vanilla's reconstruction is
        // ready and trains nothing.
        assert_eq!(board.next(&progress), Some(recon));
        assert_eq!(board.next(&progress), Some(vae));
    }

    #[test]
    fn board_skips_what_needs_a_failed_job_and_ends() {
        let plan = plan();
        let progress = JobProgress::new(0);
        let todo = vec![
            index(&plan, "seed42/train/vae_latent2_without1"),
            index(&plan, "seed42/anomaly_roc/vae_digit1"),
            index(&plan, "seed42/latent_anomaly/vae"),
            // Its dependency is not in this execution: it has a result already.
            index(&plan, "seed42/reconstruction/vanilla"),
        ];
        let board = Board::new(&plan, &todo);
        // The reconstruction is ready and trains nothing: it goes first.
        let first = board.next(&progress).unwrap();
        assert_eq!(plan.jobs[first].name, "seed42/reconstruction/vanilla");
        let second = board.next(&progress).unwrap();
        assert_eq!(plan.jobs[second].name, "seed42/train/vae_latent2_without1");
        board.done(first, true);
        board.done(second, false);
        assert_eq!(board.next(&progress), None);
        let outcome = board.into_outcome();
        assert_eq!(outcome.ran, 1);
        assert_eq!(
            outcome.failures,
            [
                "seed42/train/vae_latent2_without1",
                "seed42/latent_anomaly/vae (skipped)",
                "seed42/anomaly_roc/vae_digit1 (skipped)"
            ]
        );
    }

    #[test]
    fn board_blocks_a_worker_until_a_running_dependency_finishes() {
        let plan = plan();
        let progress = JobProgress::new(0);
        let train = index(&plan, "seed42/train/vae_latent20");
        let probe = index(&plan, "seed42/linear_probe/vae");
        let board = Board::new(&plan, &[train, probe]);
        assert_eq!(board.next(&progress), Some(train));
        std::thread::scope(|s| {
            let waiter = s.spawn(|| board.next(&progress));
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert!(
                !waiter.is_finished(),
                "handed out a job before its dependency"
            );
            board.done(train, true);
            assert_eq!(waiter.join().unwrap(), Some(probe));
        });
    }
}
