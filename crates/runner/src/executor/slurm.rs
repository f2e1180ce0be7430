//! The Slurm executor: the plan's unfinished jobs become a handful of Slurm job arrays, each
//! element running `bakeoff run-job` for one job against the shared results directory, and
//! a last job renders the tables and report once every element has succeeded.
//!
//! The jobs are grouped into *waves* ([`waves`]): a job's level is 0 when nothing it reads is
//! submitted with it, else one more than the highest level among those; the jobs of one
//! level and one kind (`train`, `reconstruction`, ...) form one array (split at
//! [`MAX_ARRAY_SIZE`]), which starts `afterany` of the earlier arrays holding what it reads
//! and of the Slurm elements already queued for it. An element whose inputs failed finds
//! them missing and fails at once, so one failed training costs only the jobs that read
//! it; the rendering job starts `afterok` of everything, so it runs only on a complete
//! study. A five-seed study is about a dozen submissions instead of one per job (clusters
//! cap how many jobs a user may submit).
//!
//! What was submitted is kept in a ledger (`<out>/slurm/submitted.json`: Slurm job id, array
//! index, job name and key). Submitting again compares the ledger with the cache and with
//! `squeue`: finished jobs and jobs still queued or running are not submitted again; jobs
//! whose Slurm element ended without a result (failed, cancelled, timed out) are, together
//! with whatever waits on them (whose old elements are cancelled).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::Study;
use crate::plan::Plan;

/// Subdirectory of the results directory with the ledger and the Slurm jobs' logs.
pub const SLURM_DIR: &str = "slurm";
/// The ledger's file name inside [`SLURM_DIR`].
pub const LEDGER_FILE: &str = "submitted.json";

/// The most elements one submitted array holds (Slurm's default `MaxArraySize` is 1001, so
/// indices 0-1000 are accepted everywhere that keeps the default).
pub const MAX_ARRAY_SIZE: usize = 1000;

/// A Slurm job, or one element (task) of a Slurm job array: `123` or `123_4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlurmId {
    /// The job id (an array's base id for its elements).
    pub job: u64,
    /// The array index, for an array element.
    pub task: Option<u32>,
}

impl SlurmId {
    /// A plain (non-array) job.
    pub fn job(job: u64) -> Self {
        Self { job, task: None }
    }

    /// Parses `123` or `123_4` (the way `squeue`, `sacct` and `scancel` write ids).
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once('_') {
            Some((job, task)) => Some(Self {
                job: job.parse().ok()?,
                task: Some(task.parse().ok()?),
            }),
            None => Some(Self::job(text.parse().ok()?)),
        }
    }
}

impl fmt::Display for SlurmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.task {
            Some(task) => write!(f, "{}_{task}", self.job),
            None => write!(f, "{}", self.job),
        }
    }
}

/// Options of the submitted jobs.
#[derive(Clone, Debug, Default)]
pub struct SlurmOptions {
    /// `--partition`, if given.
    pub partition: Option<String>,
    /// `--time` (Slurm's formats, e.g. `30`, `1:00:00`), if given.
    pub time: Option<String>,
    /// `--cpus-per-task`, if given; each job's engine uses that many threads (1 otherwise).
    pub cpus_per_task: Option<usize>,
    /// `--mem` (Slurm's format, e.g. `4G`), if given.
    pub mem: Option<String>,
    /// Print the scripts instead of submitting them (nothing is cancelled either).
    pub dry_run: bool,
}

/// Absolute paths the submitted scripts use: the nodes see the same shared file system.
#[derive(Clone, Debug)]
pub struct StudyPaths {
    /// The `bakeoff` binary.
    pub bakeoff: PathBuf,
    /// The experiment file.
    pub experiment: PathBuf,
    /// The results directory.
    pub out: PathBuf,
    /// The job store.
    pub store: PathBuf,
    /// The checkpoints directory.
    pub checkpoints: PathBuf,
    /// Working directory of the jobs (where the submission ran, so relative paths inside
    /// the experiment file mean the same thing).
    pub workdir: PathBuf,
    /// Variants the submission was restricted to (`--only`), passed on to the final job.
    pub only: Vec<String>,
}

impl StudyPaths {
    /// Checks that every path is absolute and free of whitespace (which `#SBATCH` lines
    /// cannot carry), naming the one that is not.
    pub fn validate(&self) -> Result<()> {
        for (what, path) in [
            ("bakeoff binary", &self.bakeoff),
            ("experiment file", &self.experiment),
            ("results directory", &self.out),
            ("store", &self.store),
            ("checkpoints directory", &self.checkpoints),
            ("working directory", &self.workdir),
        ] {
            let text = path
                .to_str()
                .with_context(|| format!("{what} {} is not valid UTF-8", path.display()))?;
            if !path.is_absolute() {
                bail!("{what} {text}: Slurm jobs need an absolute path");
            }
            if text.chars().any(|c| c.is_whitespace() || c == '\'') {
                bail!(
                    "{what} {text:?}: Slurm scripts cannot carry paths with whitespace or quotes"
                );
            }
        }
        Ok(())
    }
}

/// What one ledger entry runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Element {
    /// One job of the plan, submitted under this key.
    Job {
        /// The job's name.
        name: String,
        /// Its key when it was submitted.
        key: String,
    },
    /// The final job that renders tables, figures and the report.
    Render,
}

/// One submitted Slurm job or array element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// Slurm's job id (the array's, for an element).
    pub slurm_id: u64,
    /// The element's index in its array (absent for a plain job, and in ledgers written
    /// before arrays, whose entries are all plain jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<u32>,
    /// What it runs.
    pub element: Element,
}

impl Submitted {
    /// The Slurm id of this job or element.
    pub fn id(&self) -> SlurmId {
        SlurmId {
            job: self.slurm_id,
            task: self.task,
        }
    }
}

/// Every Slurm job submitted for a results directory and possibly still in the queue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// In submission order.
    pub entries: Vec<Submitted>,
}

impl Ledger {
    /// The ledger's path for the results directory `out`.
    pub fn path(out: &Path) -> PathBuf {
        out.join(SLURM_DIR).join(LEDGER_FILE)
    }

    /// The ledger of `out` (empty if nothing was ever submitted from there).
    pub fn load(out: &Path) -> Result<Self> {
        let path = Self::path(out);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!("parsing the Slurm ledger {} (delete it if no Slurm job of this study is queued)", path.display())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the ledger atomically.
    pub fn save(&self, out: &Path) -> Result<()> {
        let path = Self::path(out);
        let bytes = serde_json::to_vec_pretty(self)?;
        ae_data::fs::write_atomic(&path, &bytes)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// The newest entry for job `name`, if any.
    pub fn latest(&self, name: &str) -> Option<&Submitted> {
        self.entries
            .iter()
            .rev()
            .find(|e| matches!(&e.element, Element::Job { name: n, .. } if n == name))
    }
}

/// A job in Slurm's queue, as `squeue` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    /// Slurm's state (`PENDING`, `RUNNING`, ...).
    pub state: String,
    /// Why it waits (`Dependency`, `Resources`, `DependencyNeverSatisfied`, `None`, ...).
    pub reason: String,
}

impl Queued {
    /// Whether the job may still run or is running (not ending or ended).
    pub fn is_live(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "COMPLETED"
                | "COMPLETING"
                | "CANCELLED"
                | "FAILED"
                | "TIMEOUT"
                | "NODE_FAIL"
                | "PREEMPTED"
                | "BOOT_FAIL"
                | "DEADLINE"
                | "OUT_OF_MEMORY"
                | "SPECIAL_EXIT"
        )
    }

    fn is_pending(&self) -> bool {
        self.state == "PENDING"
    }
}

/// The current user's jobs and array elements in Slurm's queue, by id
/// (`squeue --me --array`: one line per element, pending ones included).
pub fn queue() -> Result<HashMap<SlurmId, Queued>> {
    let output = Command::new("squeue")
        .args(["--me", "--array", "--noheader", "--format=%i|%T|%r"])
        .output()
        .context("running squeue (is this a Slurm login node?)")?;
    if !output.status.success() {
        bail!(
            "squeue failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(parse_squeue(&String::from_utf8_lossy(&output.stdout)))
}

/// Parses `squeue --array --format=%i|%T|%r` lines (`123|RUNNING|None`,
/// `124_7|PENDING|Dependency`); lines with an id of another form (a range of elements) are
/// left out.
pub fn parse_squeue(text: &str) -> HashMap<SlurmId, Queued> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.trim().splitn(3, '|');
            let id = SlurmId::parse(fields.next()?)?;
            let state = fields.next()?.to_string();
            let reason = fields.next().unwrap_or("").to_string();
            Some((id, Queued { state, reason }))
        })
        .collect()
}

/// Slurm ids of this results directory's job elements (not its rendering job) that are still
/// queued or running; empty when nothing was submitted or no Slurm answers here.
pub fn live_elements(out: &Path) -> Result<Vec<SlurmId>> {
    let ledger = Ledger::load(out)?;
    if ledger.entries.is_empty() {
        return Ok(Vec::new());
    }
    let Ok(queue) = queue() else {
        return Ok(Vec::new());
    };
    Ok(ledger
        .entries
        .iter()
        .filter(|e| matches!(e.element, Element::Job { .. }))
        .filter(|e| queue.get(&e.id()).is_some_and(Queued::is_live))
        .map(Submitted::id)
        .collect())
}

/// Where each job of a plan stands, for `bakeoff status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    /// A result under the current key is in the cache.
    Done,
    /// In Slurm's queue (pending or running).
    Queued {
        /// Slurm's id of its element.
        slurm_id: SlurmId,
        /// Its state and reason.
        queued: Queued,
    },
    /// Its Slurm job left the queue without storing a result.
    Failed {
        /// Slurm's id of its element.
        slurm_id: SlurmId,
    },
    /// Not done and not submitted.
    Missing,
}

/// The state of every job of `plan` (in plan order), given which have a current result.
pub fn survey(
    plan: &Plan,
    fresh: &[bool],
    ledger: &Ledger,
    queue: &HashMap<SlurmId, Queued>,
) -> Vec<JobState> {
    plan.jobs
        .iter()
        .zip(fresh)
        .map(|(job, &fresh)| {
            if fresh {
                return JobState::Done;
            }
            match ledger.latest(&job.name) {
                Some(entry) if matches!(&entry.element, Element::Job { key, .. } if *key == job.key) => {
                    match queue.get(&entry.id()).filter(|q| q.is_live()) {
                        Some(queued) => JobState::Queued {
                            slurm_id: entry.id(),
                            queued: queued.clone(),
                        },
                        None => JobState::Failed {
                            slurm_id: entry.id(),
                        },
                    }
                }
                _ => JobState::Missing,
            }
        })
        .collect()
}

/// What a submission has to do, decided from the plan, the cache, the ledger and the queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Queued Slurm jobs to cancel: they can never start (a job they wait on failed), or
    /// they run a job under an old key, or another Slurm job already runs the same job.
    pub cancel: Vec<SlurmId>,
    /// Indices (in the plan) of the jobs to submit, in plan order.
    pub submit: Vec<usize>,
    /// Jobs already queued or running, by index in the plan: their Slurm ids.
    pub in_flight: HashMap<usize, SlurmId>,
    /// The final rendering job.
    pub render: Render,
}

/// What to do about the final rendering job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Render {
    /// Nothing is left to run or render in Slurm: render here, now.
    #[default]
    Here,
    /// Submit one, after every submitted and queued job.
    Submit,
    /// The one already queued (this Slurm id) will do.
    Queued(SlurmId),
}

/// Decides a submission. `fresh[i]` says whether job `i` has a current result. A queued job
/// is kept when it runs the job's current key and, if it is still pending, every job it waits
/// for is done or itself kept (plan order puts dependencies first, so this carries along
/// chains); otherwise it is cancelled and its job submitted again.
pub fn decide(
    plan: &Plan,
    fresh: &[bool],
    ledger: &Ledger,
    queue: &HashMap<SlurmId, Queued>,
) -> Decision {
    let live = |id: SlurmId| queue.get(&id).filter(|q| q.is_live());
    let mut decision = Decision::default();
    for (i, job) in plan.jobs.iter().enumerate() {
        // Newest first: the newest usable Slurm job is kept, every other live one cancelled.
        let mut kept = None;
        for entry in ledger.entries.iter().rev() {
            let Element::Job { name, key } = &entry.element else {
                continue;
            };
            let Some(queued) = (name == &job.name).then(|| live(entry.id())).flatten() else {
                continue;
            };
            let deps_met = job
                .deps
                .iter()
                .all(|d| fresh[*d] || decision.in_flight.contains_key(d));
            let stuck =
                queued.is_pending() && (queued.reason == "DependencyNeverSatisfied" || !deps_met);
            if fresh[i] {
                // Done already; a rerun still queued is harmless unless it can never start.
                if stuck {
                    decision.cancel.push(entry.id());
                }
            } else if kept.is_none() && key == &job.key && !stuck {
                kept = Some(entry.id());
            } else {
                decision.cancel.push(entry.id());
            }
        }
        match kept {
            Some(id) => {
                decision.in_flight.insert(i, id);
            }
            None if !fresh[i] => decision.submit.push(i),
            None => {}
        }
    }
    let mut renders = ledger
        .entries
        .iter()
        .rev()
        .filter(|e| e.element == Element::Render)
        .filter_map(|e| live(e.id()).map(|q| (e.id(), q)));
    decision.render = if decision.submit.is_empty() {
        // Nothing new: a queued rendering job still waits on exactly what is in flight.
        match renders.next() {
            Some((id, _)) => {
                decision
                    .cancel
                    .extend(renders.filter(|(_, q)| q.is_pending()).map(|(id, _)| id));
                Render::Queued(id)
            }
            None if decision.in_flight.is_empty() => Render::Here,
            None => Render::Submit,
        }
    } else {
        // A pending rendering job does not wait for the new jobs; a running one may finish.
        decision
            .cancel
            .extend(renders.filter(|(_, q)| q.is_pending()).map(|(id, _)| id));
        Render::Submit
    };
    decision
}

/// What a submission did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// Jobs of the plan submitted (array elements).
    pub jobs: usize,
    /// `sbatch` calls made: one per array, and the rendering job if it was submitted.
    pub submissions: usize,
    /// Jobs of the plan already queued or running, left as they were.
    pub in_flight: usize,
    /// Slurm jobs and elements cancelled.
    pub cancelled: usize,
    /// Whether the report is to be rendered here and now (nothing is left for Slurm).
    pub render_here: bool,
}

/// One array of a submission: the jobs of one level and one kind (see the module
/// documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wave {
    /// `<level>-<kind>` (`0-train`, `1-reconstruction`), with `.<part>` when a group is split
    /// at [`MAX_ARRAY_SIZE`]: the Slurm job name (after `bakeoff.`) and the logs' prefix.
    pub label: String,
    /// Indices (in the plan) of its jobs, in plan order: element `t` runs `jobs[t]`.
    pub jobs: Vec<usize>,
    /// Earlier waves (indices into the list of waves) holding jobs that these jobs read.
    pub after: Vec<usize>,
    /// Elements queued by an earlier submission for jobs that these jobs read.
    pub after_in_flight: Vec<SlurmId>,
}

/// Groups a decision's jobs to submit into waves, dependencies first.
pub fn waves(plan: &Plan, fresh: &[bool], decision: &Decision) -> Vec<Wave> {
    waves_of_at_most(plan, fresh, decision, MAX_ARRAY_SIZE)
}

fn waves_of_at_most(
    plan: &Plan,
    fresh: &[bool],
    decision: &Decision,
    max_size: usize,
) -> Vec<Wave> {
    let mut level: HashMap<usize, usize> = HashMap::new();
    let mut groups: Vec<((usize, &str), Vec<usize>)> = Vec::new();
    for &i in &decision.submit {
        let job = &plan.jobs[i];
        let l = job
            .deps
            .iter()
            .filter_map(|d| level.get(d))
            .map(|l| l + 1)
            .max()
            .unwrap_or(0);
        level.insert(i, l);
        let kind = job.task_name.split('/').next().unwrap_or_default();
        match groups.iter_mut().find(|(group, _)| *group == (l, kind)) {
            Some((_, jobs)) => jobs.push(i),
            None => groups.push(((l, kind), vec![i])),
        }
    }
    // Stable: within a level, kinds keep the order in which the plan first names them.
    groups.sort_by_key(|((l, _), _)| *l);
    let mut waves: Vec<Wave> = Vec::new();
    let mut wave_of: HashMap<usize, usize> = HashMap::new();
    for ((l, kind), jobs) in groups {
        let parts = jobs.len().div_ceil(max_size);
        for (part, chunk) in jobs.chunks(max_size).enumerate() {
            let mut after = BTreeSet::new();
            let mut after_in_flight = BTreeSet::new();
            for d in chunk.iter().flat_map(|&i| &plan.jobs[i].deps) {
                if let Some(&w) = wave_of.get(d) {
                    after.insert(w);
                } else if let Some(&id) = decision.in_flight.get(d) {
                    after_in_flight.insert(id);
                }
            }
            debug_assert!(chunk
                .iter()
                .flat_map(|&i| &plan.jobs[i].deps)
                .all(|d| fresh[*d]
                    || wave_of.contains_key(d)
                    || decision.in_flight.contains_key(d)));
            for &i in chunk {
                wave_of.insert(i, waves.len());
            }
            waves.push(Wave {
                label: if parts == 1 {
                    format!("{l}-{kind}")
                } else {
                    format!("{l}-{kind}.{part}")
                },
                jobs: chunk.to_vec(),
                after: after.into_iter().collect(),
                after_in_flight: after_in_flight.into_iter().collect(),
            });
        }
    }
    waves
}

/// Submits the unfinished jobs of `study` (see the module documentation) and records them
/// in the ledger. With `options.dry_run`, prints the scripts instead.
pub fn submit(study: Study<'_>, paths: &StudyPaths, options: &SlurmOptions) -> Result<Submission> {
    paths.validate()?;
    let plan = study.plan;
    let fresh: Vec<bool> = plan.pending(study.cache).iter().map(|p| !p).collect();
    let mut ledger = Ledger::load(&paths.out)?;
    let queue = match queue() {
        Ok(queue) => queue,
        // Printing the scripts needs no cluster.
        Err(e) if options.dry_run => {
            eprintln!("note: {e:#}; treating the queue as empty");
            HashMap::new()
        }
        Err(e) => return Err(e),
    };
    let decision = decide(plan, &fresh, &ledger, &queue);
    let waves = waves(plan, &fresh, &decision);
    let render_here = decision.render == Render::Here;
    let mut submission = Submission {
        jobs: 0,
        submissions: 0,
        in_flight: decision.in_flight.len(),
        cancelled: decision.cancel.len(),
        render_here,
    };
    if options.dry_run {
        print_dry_run(plan, &waves, &decision, paths, options);
        return Ok(submission);
    }
    if decision.submit.is_empty() && decision.cancel.is_empty() && decision.render != Render::Submit
    {
        // Nothing changes in Slurm: the ledger stays as it is, byte for byte.
        return Ok(submission);
    }
    if !decision.cancel.is_empty() {
        scancel(&decision.cancel)?;
    }
    std::fs::create_dir_all(paths.out.join(SLURM_DIR).join("logs"))
        .with_context(|| format!("creating {}", paths.out.join(SLURM_DIR).display()))?;
    // Only what is still queued stays in the ledger, so it does not grow without end.
    ledger.entries.retain(|e| {
        queue.get(&e.id()).is_some_and(Queued::is_live) && !decision.cancel.contains(&e.id())
    });
    let mut array_ids: Vec<u64> = Vec::new();
    let result = (|| -> Result<()> {
        for wave in &waves {
            let deps: Vec<String> = wave
                .after
                .iter()
                .map(|&w| array_ids[w].to_string())
                .chain(wave.after_in_flight.iter().map(SlurmId::to_string))
                .collect();
            let id = sbatch(&array_script(plan, wave, &deps, paths, options))
                .with_context(|| format!("submitting the array {}", wave.label))?;
            array_ids.push(id);
            for (task, &i) in (0u32..).zip(&wave.jobs) {
                let job = &plan.jobs[i];
                ledger.entries.push(Submitted {
                    slurm_id: id,
                    task: Some(task),
                    element: Element::Job {
                        name: job.name.clone(),
                        key: job.key.clone(),
                    },
                });
            }
            submission.jobs += wave.jobs.len();
            submission.submissions += 1;
        }
        if decision.render == Render::Submit {
            let mut in_flight: Vec<SlurmId> = decision.in_flight.values().copied().collect();
            in_flight.sort_unstable();
            let deps: Vec<String> = array_ids
                .iter()
                .map(u64::to_string)
                .chain(in_flight.iter().map(SlurmId::to_string))
                .collect();
            let id = sbatch(&render_script(&deps, paths, options))
                .context("submitting the rendering job")?;
            ledger.entries.push(Submitted {
                slurm_id: id,
                task: None,
                element: Element::Render,
            });
            submission.submissions += 1;
        }
        Ok(())
    })();
    // Whatever was submitted is recorded, even when a later submission failed.
    ledger.save(&paths.out)?;
    result?;
    Ok(submission)
}

fn print_dry_run(
    plan: &Plan,
    waves: &[Wave],
    decision: &Decision,
    paths: &StudyPaths,
    options: &SlurmOptions,
) {
    let cancel: Vec<String> = decision.cancel.iter().map(SlurmId::to_string).collect();
    println!(
        "# dry run: {} jobs to submit in {} job arrays, {} queued or running, {} Slurm jobs to \
         cancel{}",
        decision.submit.len(),
        waves.len(),
        decision.in_flight.len(),
        cancel.len(),
        if cancel.is_empty() {
            String::new()
        } else {
            format!(" ({})", cancel.join(","))
        }
    );
    println!("# {{label}} stands for the Slurm job id of array `label`, known once submitted.");
    for wave in waves {
        let deps: Vec<String> = wave
            .after
            .iter()
            .map(|&w| format!("{{{}}}", waves[w].label))
            .chain(wave.after_in_flight.iter().map(SlurmId::to_string))
            .collect();
        println!("\n# --- {} ({} jobs) ---", wave.label, wave.jobs.len());
        print!("{}", array_script(plan, wave, &deps, paths, options));
    }
    if decision.render == Render::Submit {
        let mut in_flight: Vec<SlurmId> = decision.in_flight.values().copied().collect();
        in_flight.sort_unstable();
        let deps: Vec<String> = waves
            .iter()
            .map(|w| format!("{{{}}}", w.label))
            .chain(in_flight.iter().map(SlurmId::to_string))
            .collect();
        println!("\n# --- render ---");
        print!("{}", render_script(&deps, paths, options));
    }
}

/// How a submitted job waits for the ones named in its dependency.
#[derive(Clone, Copy, Debug)]
enum After {
    /// Until they ended, however they ended (an element whose inputs failed fails itself).
    Any,
    /// Until they all succeeded.
    Ok,
}

fn header(
    label: &str,
    array: Option<usize>,
    after: After,
    deps: &[String],
    paths: &StudyPaths,
    options: &SlurmOptions,
) -> String {
    let log = match array {
        Some(_) => format!("{label}.%A_%a.log"),
        None => format!("{label}.%j.log"),
    };
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!("#SBATCH --job-name=bakeoff.{label}"),
        format!(
            "#SBATCH --output={}/{SLURM_DIR}/logs/{log}",
            paths.out.display()
        ),
        format!("#SBATCH --chdir={}", paths.workdir.display()),
        "#SBATCH --kill-on-invalid-dep=yes".to_string(),
    ];
    if let Some(size) = array {
        lines.push(format!("#SBATCH --array=0-{}", size - 1));
    }
    if let Some(partition) = &options.partition {
        lines.push(format!("#SBATCH --partition={partition}"));
    }
    if let Some(time) = &options.time {
        lines.push(format!("#SBATCH --time={time}"));
    }
    if let Some(cpus) = options.cpus_per_task {
        lines.push(format!("#SBATCH --cpus-per-task={cpus}"));
    }
    if let Some(mem) = &options.mem {
        lines.push(format!("#SBATCH --mem={mem}"));
    }
    if !deps.is_empty() {
        let kind = match after {
            After::Any => "afterany",
            After::Ok => "afterok",
        };
        lines.push(format!("#SBATCH --dependency={kind}:{}", deps.join(":")));
    }
    // One engine thread per allocated CPU (Slurm may not confine the process to them).
    lines.push("export RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"".to_string());
    lines.join("\n") + "\n"
}

fn study_arguments(paths: &StudyPaths) -> String {
    format!(
        "--experiment '{}' --out '{}' --store '{}' --checkpoints '{}'",
        paths.experiment.display(),
        paths.out.display(),
        paths.store.display(),
        paths.checkpoints.display()
    )
}

/// The script of one wave's array: element `$SLURM_ARRAY_TASK_ID` runs `bakeoff run-job`
/// for the wave's job at that index, by name and key, once the arrays it reads have ended.
pub fn array_script(
    plan: &Plan,
    wave: &Wave,
    deps: &[String],
    paths: &StudyPaths,
    options: &SlurmOptions,
) -> String {
    let mut script = header(
        &wave.label,
        Some(wave.jobs.len()),
        After::Any,
        deps,
        paths,
        options,
    );
    script.push_str("# Element t runs the job on line t: its name, then its key.\njobs=(\n");
    for &i in &wave.jobs {
        let job = &plan.jobs[i];
        script.push_str(&format!("  '{}' {}\n", job.name, job.key));
    }
    script.push_str(")\n");
    script.push_str("job=${jobs[2 * SLURM_ARRAY_TASK_ID]}\n");
    script.push_str("key=${jobs[2 * SLURM_ARRAY_TASK_ID + 1]}\n");
    script.push_str("echo \"bakeoff job $job (key $key)\"\n");
    script.push_str(&format!(
        "exec '{}' run-job {} --job \"$job\" --key \"$key\"\n",
        paths.bakeoff.display(),
        study_arguments(paths),
    ));
    script
}

/// The script of the final job: `bakeoff reproduce` with nothing left to run renders the
/// tables, figures and report (waiting for the study lock if a submission holds it).
pub fn render_script(deps: &[String], paths: &StudyPaths, options: &SlurmOptions) -> String {
    let only = if paths.only.is_empty() {
        String::new()
    } else {
        format!(" --only {}", paths.only.join(" "))
    };
    format!(
        "{}exec '{}' reproduce {} --executor local --lock-wait 600{only}\n",
        header("render", None, After::Ok, deps, paths, options),
        paths.bakeoff.display(),
        study_arguments(paths),
    )
}

/// Submits `script` on standard input; returns the Slurm job id.
fn sbatch(script: &str) -> Result<u64> {
    let mut child = Command::new("sbatch")
        .arg("--parsable")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running sbatch (is this a Slurm login node?)")?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(script.as_bytes())
        .context("writing the script to sbatch")?;
    let output = child.wait_with_output().context("waiting for sbatch")?;
    if !output.status.success() {
        bail!(
            "sbatch failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    // `--parsable` prints `id` or `id;cluster`.
    let text = String::from_utf8_lossy(&output.stdout);
    let id = text.trim().split(';').next().unwrap_or("");
    id.parse()
        .with_context(|| format!("sbatch printed {:?}, not a job id", text.trim()))
}

fn scancel(ids: &[SlurmId]) -> Result<()> {
    let output = Command::new("scancel")
        .args(ids.iter().map(SlurmId::to_string))
        .output()
        .context("running scancel")?;
    if !output.status.success() {
        bail!(
            "scancel failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Slurm's final state of ended jobs and elements (`sacct`), where accounting is enabled;
/// empty otherwise.
pub fn final_states(ids: &[SlurmId]) -> HashMap<SlurmId, String> {
    if ids.is_empty() {
        return HashMap::new();
    }
    let list: Vec<String> = ids.iter().map(SlurmId::to_string).collect();
    let Ok(output) = Command::new("sacct")
        .args([
            "--noheader",
            "--parsable2",
            "--format=JobID,State",
            "--jobs",
        ])
        .arg(list.join(","))
        .output()
    else {
        return HashMap::new();
    };
    if !output.status.success() {
        return HashMap::new();
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (id, state) = line.split_once('|')?;
            Some((SlurmId::parse(id)?, state.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Experiment;

    fn plan() -> Plan {
        crate::plan::test_plan(&["vanilla"])
    }

    fn index(plan: &Plan, name: &str) -> usize {
        plan.jobs.iter().position(|j| j.name == name).unwrap()
    }

    fn entry(plan: &Plan, name: &str, id: u64) -> Submitted {
        Submitted {
            slurm_id: id,
            task: None,
            element: Element::Job {
                name: name.into(),
                key: plan.job(name).unwrap().key.clone(),
            },
        }
    }

    fn queued(state: &str, reason: &str) -> Queued {
        Queued {
            state: state.into(),
            reason: reason.into(),
        }
    }

    fn id(job: u64) -> SlurmId {
        SlurmId::job(job)
    }

    #[test]
    fn squeue_lines_are_parsed_with_array_elements_and_ranges_left_out() {
        let q = parse_squeue(
            "12|RUNNING|None\n13|PENDING|Dependency\n14_2|PENDING|Priority\n15_[3-5]|PENDING|x\n\n",
        );
        assert_eq!(q.len(), 3);
        assert_eq!(q[&id(12)], queued("RUNNING", "None"));
        assert_eq!(q[&id(13)], queued("PENDING", "Dependency"));
        let element = SlurmId {
            job: 14,
            task: Some(2),
        };
        assert_eq!(q[&element], queued("PENDING", "Priority"));
        assert_eq!(element.to_string(), "14_2");
        assert_eq!(SlurmId::parse("14_2"), Some(element));
        assert_eq!(SlurmId::parse("14_x"), None);
        assert!(!queued("COMPLETING", "None").is_live() && queued("PENDING", "x").is_live());
    }

    #[test]
    fn ledgers_written_before_arrays_still_load_as_plain_jobs() {
        let old = r#"{"entries":[{"slurm_id":5,"element":{"kind":"job","name":"a","key":"k"}},{"slurm_id":6,"element":{"kind":"render"}}]}"#;
        let ledger: Ledger = serde_json::from_str(old).unwrap();
        assert_eq!(ledger.entries[0].id(), id(5));
        assert_eq!(ledger.entries[1].element, Element::Render);
        let element = Submitted {
            slurm_id: 7,
            task: Some(3),
            element: Element::Render,
        };
        let text = serde_json::to_string(&element).unwrap();
        assert!(text.contains("\"task\":3"), "{text}");
        assert!(!serde_json::to_string(&ledger.entries[0])
            .unwrap()
            .contains("task"));
    }

    #[test]
    fn a_fresh_study_is_one_array_per_level_and_kind_each_after_what_it_reads() {
        let e = Experiment::from_toml(
            "dataset = \"mnist\"\nseeds = [42, 43]\nvariants = [\"vanilla\", \"vae\", \"sparse\"]\n\
             [training]\nepochs = 1\n",
            "t",
        )
        .unwrap();
        let plan = Plan::new(&e, &e.variants).unwrap();
        let fresh = vec![false; plan.jobs.len()];
        let d = decide(&plan, &fresh, &Ledger::default(), &HashMap::new());
        let waves = waves(&plan, &fresh, &d);
        // Every job in exactly one array, and far fewer arrays than jobs.
        let mut all: Vec<usize> = waves.iter().flat_map(|w| w.jobs.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..plan.jobs.len()).collect::<Vec<_>>());
        assert!(waves.len() * 4 < plan.jobs.len(), "{waves:?}");
        assert!(waves
            .iter()
            .any(|w| w.label == "0-train" && w.jobs.len() == 12));
        assert!(waves[0].after.is_empty());
        let wave_of = |job: usize| waves.iter().position(|w| w.jobs.contains(&job)).unwrap();
        for (w, wave) in waves.iter().enumerate() {
            let kinds: BTreeSet<&str> = wave
                .jobs
                .iter()
                .map(|&i| plan.jobs[i].task_name.split('/').next().unwrap())
                .collect();
            assert_eq!(kinds.len(), 1, "{wave:?}");
            // It waits for exactly the earlier arrays that hold what its jobs read.
            let reads: BTreeSet<usize> = wave
                .jobs
                .iter()
                .flat_map(|&i| plan.jobs[i].deps.iter().map(|&d| wave_of(d)))
                .collect();
            assert!(reads.iter().all(|&r| r < w), "{wave:?}");
            assert_eq!(wave.after, reads.into_iter().collect::<Vec<_>>());
            assert!(wave.after_in_flight.is_empty());
        }
        // A group larger than the array limit is split into parts.
        let small = waves_of_at_most(&plan, &fresh, &d, 5);
        assert!(small
            .iter()
            .any(|w| w.label == "0-train.2" && w.jobs.len() == 2));
        assert!(small.iter().all(|w| w.jobs.len() <= 5));
        assert_eq!(
            small.iter().map(|w| w.jobs.len()).sum::<usize>(),
            plan.jobs.len()
        );
    }

    #[test]
    fn resubmitted_jobs_wait_for_the_elements_still_in_flight() {
        let plan = plan();
        let train = index(&plan, "seed42/train/vanilla_latent20");
        let recon = index(&plan, "seed42/reconstruction/vanilla");
        let mut fresh = vec![true; plan.jobs.len()];
        fresh[train] = false;
        fresh[recon] = false;
        let element = SlurmId {
            job: 30,
            task: Some(4),
        };
        let ledger = Ledger {
            entries: vec![Submitted {
                slurm_id: 30,
                task: Some(4),
                element: Element::Job {
                    name: plan.jobs[train].name.clone(),
                    key: plan.jobs[train].key.clone(),
                },
            }],
        };
        let queue: HashMap<SlurmId, Queued> = [(element, queued("RUNNING", "None"))].into();
        let d = decide(&plan, &fresh, &ledger, &queue);
        assert_eq!(
            (d.submit.clone(), d.in_flight.clone()),
            (vec![recon], [(train, element)].into())
        );
        let waves = waves(&plan, &fresh, &d);
        assert_eq!(waves.len(), 1);
        assert_eq!(waves[0].label, "0-reconstruction");
        assert_eq!(waves[0].after_in_flight, [element]);
    }

    #[test]
    fn fresh_study_submits_every_job_and_a_render_after_them() {
        let plan = plan();
        let fresh = vec![false; plan.jobs.len()];
        let d = decide(&plan, &fresh, &Ledger::default(), &HashMap::new());
        assert_eq!(d.submit, (0..plan.jobs.len()).collect::<Vec<_>>());
        assert!(d.cancel.is_empty() && d.in_flight.is_empty());
        assert_eq!(d.render, Render::Submit);
    }

    #[test]
    fn finished_study_submits_nothing_and_renders_here() {
        let plan = plan();
        let fresh = vec![true; plan.jobs.len()];
        let ledger = Ledger {
            entries: vec![entry(&plan, "seed42/train/vanilla_latent20", 5)],
        };
        let d = decide(&plan, &fresh, &ledger, &HashMap::new());
        assert_eq!(d, Decision::default());
        assert_eq!(d.render, Render::Here);
    }

    #[test]
    fn queued_jobs_are_kept_and_a_second_submission_submits_nothing() {
        let plan = plan();
        let fresh = vec![false; plan.jobs.len()];
        let mut ledger = Ledger::default();
        let mut queue = HashMap::new();
        for (n, job) in plan.jobs.iter().enumerate() {
            let id = SlurmId {
                job: 100,
                task: Some(n as u32),
            };
            ledger.entries.push(Submitted {
                slurm_id: 100,
                task: Some(n as u32),
                element: Element::Job {
                    name: job.name.clone(),
                    key: job.key.clone(),
                },
            });
            let state = if job.deps.is_empty() {
                queued("RUNNING", "None")
            } else {
                queued("PENDING", "Dependency")
            };
            queue.insert(id, state);
        }
        ledger.entries.push(Submitted {
            slurm_id: 999,
            task: None,
            element: Element::Render,
        });
        queue.insert(id(999), queued("PENDING", "Dependency"));
        let d = decide(&plan, &fresh, &ledger, &queue);
        assert!(d.submit.is_empty() && d.cancel.is_empty(), "{d:?}");
        assert_eq!(d.in_flight.len(), plan.jobs.len());
        assert_eq!(d.render, Render::Queued(id(999)));
    }

    #[test]
    fn a_cancelled_training_is_resubmitted_with_what_waits_on_it() {
        let plan = plan();
        let train = index(&plan, "seed42/train/vanilla_latent20");
        let recon = index(&plan, "seed42/reconstruction/vanilla");
        let roc = index(&plan, "seed42/anomaly_roc/vanilla_digit1");
        let mut fresh = vec![true; plan.jobs.len()];
        fresh[train] = false;
        fresh[recon] = false;
        fresh[roc] = false;
        let ledger = Ledger {
            entries: vec![
                entry(&plan, "seed42/train/vanilla_latent20", 1),
                entry(&plan, "seed42/reconstruction/vanilla", 2),
                entry(&plan, "seed42/anomaly_roc/vanilla_digit1", 3),
                Submitted {
                    slurm_id: 4,
                    task: None,
                    element: Element::Render,
                },
            ],
        };
        // Job 1 was cancelled: it left the queue. Slurm has not yet noticed that job 2 can
        // never start (its reason still says Dependency); job 3 waits on a finished training.
        let queue: HashMap<SlurmId, Queued> = [
            (id(2), queued("PENDING", "Dependency")),
            (id(3), queued("PENDING", "Dependency")),
            (id(4), queued("PENDING", "Dependency")),
        ]
        .into();
        let d = decide(&plan, &fresh, &ledger, &queue);
        assert_eq!(d.submit, [train, recon]);
        assert_eq!(d.in_flight, [(roc, id(3))].into());
        assert_eq!(d.cancel, [id(2), id(4)]);
        assert_eq!(d.render, Render::Submit);
    }

    #[test]
    fn a_job_queued_under_an_old_key_is_cancelled_and_resubmitted() {
        let plan = plan();
        let train = index(&plan, "seed42/train/vanilla_latent2_without1");
        let mut fresh = vec![true; plan.jobs.len()];
        fresh[train] = false;
        let ledger = Ledger {
            entries: vec![Submitted {
                slurm_id: 7,
                task: None,
                element: Element::Job {
                    name: "seed42/train/vanilla_latent2_without1".into(),
                    key: "an old key".into(),
                },
            }],
        };
        let queue: HashMap<SlurmId, Queued> = [(id(7), queued("RUNNING", "None"))].into();
        let d = decide(&plan, &fresh, &ledger, &queue);
        assert_eq!((d.submit, d.cancel), (vec![train], vec![id(7)]));
        let states = survey(&plan, &fresh, &ledger, &queue);
        assert_eq!(states[train], JobState::Missing);
    }

    #[test]
    fn survey_tells_done_queued_failed_and_missing_apart() {
        let plan = plan();
        let mut fresh = vec![false; plan.jobs.len()];
        fresh[0] = true;
        let ledger = Ledger {
            entries: vec![
                entry(&plan, &plan.jobs[1].name, 11),
                entry(&plan, &plan.jobs[2].name, 12),
            ],
        };
        let queue: HashMap<SlurmId, Queued> = [(id(11), queued("RUNNING", "None"))].into();
        let states = survey(&plan, &fresh, &ledger, &queue);
        assert_eq!(states[0], JobState::Done);
        assert_eq!(
            states[1],
            JobState::Queued {
                slurm_id: id(11),
                queued: queued("RUNNING", "None")
            }
        );
        assert_eq!(states[2], JobState::Failed { slurm_id: id(12) });
        assert_eq!(states[3], JobState::Missing);
    }

    #[test]
    fn array_scripts_run_each_job_by_name_and_key_after_their_dependencies() {
        let plan = plan();
        let recon = index(&plan, "seed42/reconstruction/vanilla");
        let other = index(&plan, "seed42/train/vanilla_latent20");
        let wave = Wave {
            label: "1-reconstruction".into(),
            jobs: vec![other, recon],
            after: vec![0],
            after_in_flight: vec![],
        };
        let paths = StudyPaths {
            bakeoff: "/opt/bin/bakeoff".into(),
            experiment: "/shared/exp.toml".into(),
            out: "/shared/results/quick".into(),
            store: "/shared/results/store".into(),
            checkpoints: "/shared/results/store/checkpoints".into(),
            workdir: "/shared".into(),
            only: vec![],
        };
        paths.validate().unwrap();
        let options = SlurmOptions {
            partition: Some("cpu".into()),
            time: Some("1:00:00".into()),
            cpus_per_task: Some(8),
            mem: Some("4G".into()),
            dry_run: false,
        };
        let script = array_script(
            &plan,
            &wave,
            &["41".into(), "42_3".into()],
            &paths,
            &options,
        );
        let job = &plan.jobs[recon];
        for line in [
            "#SBATCH --array=0-1",
            "#SBATCH --dependency=afterany:41:42_3",
            "#SBATCH --partition=cpu",
            "#SBATCH --time=1:00:00",
            "#SBATCH --cpus-per-task=8",
            "#SBATCH --mem=4G",
            "#SBATCH --job-name=bakeoff.1-reconstruction",
            "#SBATCH --output=/shared/results/quick/slurm/logs/1-reconstruction.%A_%a.log",
            &format!("  'seed42/reconstruction/vanilla' {}", job.key),
            "exec '/opt/bin/bakeoff' run-job --experiment '/shared/exp.toml' --out '/shared/results/quick' --store '/shared/results/store' --checkpoints '/shared/results/store/checkpoints' --job \"$job\" --key \"$key\"",
        ] {
            assert!(script.lines().any(|l| l == line), "{line:?} not in\n{script}");
        }
        // Element 1 runs the second job: bash picks its name and key.
        let shown = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "SLURM_ARRAY_TASK_ID=1\n{}\necho \"$job $key\"",
                script
                    .lines()
                    .filter(|l| !l.starts_with("exec") && !l.starts_with("echo"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&shown.stdout).trim(),
            format!("seed42/reconstruction/vanilla {}", job.key)
        );
        let render = render_script(&["7".into()], &paths, &SlurmOptions::default());
        assert!(render.contains("#SBATCH --dependency=afterok:7"));
        assert!(!render.contains("--array") && !render.contains("--partition"));
        assert!(render.contains("reproduce --experiment '/shared/exp.toml'"));
        let relative = StudyPaths {
            out: "results/quick".into(),
            ..paths.clone()
        };
        assert!(format!("{:#}", relative.validate().unwrap_err()).contains("results/quick"));
    }
}
