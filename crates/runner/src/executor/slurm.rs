//! The Slurm executor: the plan's unfinished jobs become Slurm jobs, one `sbatch` per job
//! with `--dependency=afterok:` on the Slurm jobs of the jobs it reads, each running
//! `bakeoff run-job` against the shared results directory, and a last job that renders the
//! tables and report once every other one has succeeded.
//!
//! What was submitted is kept in a ledger (`<out>/slurm/submitted.json`: Slurm job id, job
//! name and key). Submitting again compares the ledger with the cache and with `squeue`:
//! finished jobs and jobs still queued or running are not submitted again; jobs whose Slurm
//! job ended without a result (failed, cancelled, timed out) are, together with whatever
//! waits on them (whose old Slurm jobs can never start and are cancelled).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::Study;
use crate::plan::{Job, Plan};

/// Subdirectory of the results directory with the ledger and the Slurm jobs' logs.
pub const SLURM_DIR: &str = "slurm";
/// The ledger's file name inside [`SLURM_DIR`].
pub const LEDGER_FILE: &str = "submitted.json";

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

/// One submitted Slurm job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// Slurm's job id.
    pub slurm_id: u64,
    /// What it runs.
    pub element: Element,
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

/// The current user's jobs in Slurm's queue, by id (`squeue --me`).
pub fn queue() -> Result<HashMap<u64, Queued>> {
    let output = Command::new("squeue")
        .args(["--me", "--noheader", "--format=%i|%T|%r"])
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

/// Parses `squeue --format=%i|%T|%r` lines; array elements (`123_4`) are not ours and are
/// left out.
pub fn parse_squeue(text: &str) -> HashMap<u64, Queued> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.trim().splitn(3, '|');
            let id = fields.next()?.parse().ok()?;
            let state = fields.next()?.to_string();
            let reason = fields.next().unwrap_or("").to_string();
            Some((id, Queued { state, reason }))
        })
        .collect()
}

/// Slurm ids of this results directory's job elements (not its rendering job) that are still
/// queued or running; empty when nothing was submitted or no Slurm answers here.
pub fn live_elements(out: &Path) -> Result<Vec<u64>> {
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
        .filter(|e| queue.get(&e.slurm_id).is_some_and(Queued::is_live))
        .map(|e| e.slurm_id)
        .collect())
}

/// Where each job of a plan stands, for `bakeoff status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    /// A result under the current key is in the cache.
    Done,
    /// In Slurm's queue (pending or running).
    Queued {
        /// Slurm's job id.
        slurm_id: u64,
        /// Its state and reason.
        queued: Queued,
    },
    /// Its Slurm job left the queue without storing a result.
    Failed {
        /// Slurm's job id.
        slurm_id: u64,
    },
    /// Not done and not submitted.
    Missing,
}

/// The state of every job of `plan` (in plan order), given which have a current result.
pub fn survey(
    plan: &Plan,
    fresh: &[bool],
    ledger: &Ledger,
    queue: &HashMap<u64, Queued>,
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
                    match queue.get(&entry.slurm_id).filter(|q| q.is_live()) {
                        Some(queued) => JobState::Queued {
                            slurm_id: entry.slurm_id,
                            queued: queued.clone(),
                        },
                        None => JobState::Failed {
                            slurm_id: entry.slurm_id,
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
    pub cancel: Vec<u64>,
    /// Indices (in the plan) of the jobs to submit, in plan order.
    pub submit: Vec<usize>,
    /// Jobs already queued or running, by index in the plan: their Slurm ids.
    pub in_flight: HashMap<usize, u64>,
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
    Queued(u64),
}

/// Decides a submission. `fresh[i]` says whether job `i` has a current result. A queued job
/// is kept when it runs the job's current key and, if it is still pending, every job it waits
/// for is done or itself kept (plan order puts dependencies first, so this carries along
/// chains); otherwise it is cancelled and its job submitted again.
pub fn decide(
    plan: &Plan,
    fresh: &[bool],
    ledger: &Ledger,
    queue: &HashMap<u64, Queued>,
) -> Decision {
    let live = |id: u64| queue.get(&id).filter(|q| q.is_live());
    let mut decision = Decision::default();
    for (i, job) in plan.jobs.iter().enumerate() {
        // Newest first: the newest usable Slurm job is kept, every other live one cancelled.
        let mut kept = None;
        for entry in ledger.entries.iter().rev() {
            let Element::Job { name, key } = &entry.element else {
                continue;
            };
            let Some(queued) = (name == &job.name).then(|| live(entry.slurm_id)).flatten() else {
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
                    decision.cancel.push(entry.slurm_id);
                }
            } else if kept.is_none() && key == &job.key && !stuck {
                kept = Some(entry.slurm_id);
            } else {
                decision.cancel.push(entry.slurm_id);
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
        .filter_map(|e| live(e.slurm_id).map(|q| (e.slurm_id, q)));
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
    /// Slurm jobs submitted (the rendering job included).
    pub submitted: usize,
    /// Jobs of the plan already queued or running, left as they were.
    pub in_flight: usize,
    /// Slurm jobs cancelled.
    pub cancelled: usize,
    /// Whether the report is to be rendered here and now (nothing is left for Slurm).
    pub render_here: bool,
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
    let render_here = decision.render == Render::Here;
    let mut submission = Submission {
        submitted: 0,
        in_flight: decision.in_flight.len(),
        cancelled: decision.cancel.len(),
        render_here,
    };
    if options.dry_run {
        print_dry_run(plan, &fresh, &decision, paths, options);
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
        queue.get(&e.slurm_id).is_some_and(Queued::is_live)
            && !decision.cancel.contains(&e.slurm_id)
    });
    let mut ids: HashMap<usize, u64> = decision.in_flight.clone();
    let result = (|| -> Result<()> {
        for &i in &decision.submit {
            let job = &plan.jobs[i];
            let deps: Vec<String> = job
                .deps
                .iter()
                .filter(|d| !fresh[**d])
                .map(|d| ids[d].to_string())
                .collect();
            let id = sbatch(&job_script(job, &deps, paths, options))
                .with_context(|| format!("submitting {}", job.name))?;
            ids.insert(i, id);
            ledger.entries.push(Submitted {
                slurm_id: id,
                element: Element::Job {
                    name: job.name.clone(),
                    key: job.key.clone(),
                },
            });
            submission.submitted += 1;
        }
        if decision.render == Render::Submit {
            let mut deps: Vec<u64> = ids.values().copied().collect();
            deps.sort_unstable();
            let deps: Vec<String> = deps.iter().map(u64::to_string).collect();
            let id = sbatch(&render_script(&deps, paths, options))
                .context("submitting the rendering job")?;
            ledger.entries.push(Submitted {
                slurm_id: id,
                element: Element::Render,
            });
            submission.submitted += 1;
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
    fresh: &[bool],
    decision: &Decision,
    paths: &StudyPaths,
    options: &SlurmOptions,
) {
    println!(
        "# dry run: {} jobs to submit, {} queued or running, {} Slurm jobs to cancel{}",
        decision.submit.len(),
        decision.in_flight.len(),
        decision.cancel.len(),
        if decision.cancel.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                decision
                    .cancel
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
    );
    println!("# {{name}} stands for the Slurm job id of job `name`, known once submitted.");
    let id_of = |d: usize| match decision.in_flight.get(&d) {
        Some(id) => id.to_string(),
        None => format!("{{{}}}", plan.jobs[d].name),
    };
    for &i in &decision.submit {
        let job = &plan.jobs[i];
        let deps: Vec<String> = job
            .deps
            .iter()
            .filter(|d| !fresh[**d])
            .map(|&d| id_of(d))
            .collect();
        println!("\n# --- {} ---", job.name);
        print!("{}", job_script(job, &deps, paths, options));
    }
    if decision.render == Render::Submit {
        let mut deps: Vec<usize> = decision.submit.clone();
        deps.extend(decision.in_flight.keys().copied());
        deps.sort_unstable();
        let deps: Vec<String> = deps.into_iter().map(id_of).collect();
        println!("\n# --- render ---");
        print!("{}", render_script(&deps, paths, options));
    }
}

/// Log and Slurm job name of a job: its name with `/` as `.` (names are path-like).
fn log_name(name: &str) -> String {
    name.replace('/', ".")
}

fn header(name: &str, deps: &[String], paths: &StudyPaths, options: &SlurmOptions) -> String {
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!("#SBATCH --job-name=bakeoff.{}", log_name(name)),
        format!(
            "#SBATCH --output={}/{SLURM_DIR}/logs/{}.%j.log",
            paths.out.display(),
            log_name(name)
        ),
        format!("#SBATCH --chdir={}", paths.workdir.display()),
        "#SBATCH --kill-on-invalid-dep=yes".to_string(),
    ];
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
        lines.push(format!("#SBATCH --dependency=afterok:{}", deps.join(":")));
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

/// The script of one job: `bakeoff run-job` for the job's name and key.
pub fn job_script(
    job: &Job,
    deps: &[String],
    paths: &StudyPaths,
    options: &SlurmOptions,
) -> String {
    format!(
        "{}exec '{}' run-job {} --job '{}' --key {}\n",
        header(&job.name, deps, paths, options),
        paths.bakeoff.display(),
        study_arguments(paths),
        job.name,
        job.key
    )
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
        header("render", deps, paths, options),
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

fn scancel(ids: &[u64]) -> Result<()> {
    let output = Command::new("scancel")
        .args(ids.iter().map(u64::to_string))
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

/// Slurm's final state of ended jobs (`sacct`), where accounting is enabled; empty otherwise.
pub fn final_states(ids: &[u64]) -> HashMap<u64, String> {
    if ids.is_empty() {
        return HashMap::new();
    }
    let list: Vec<String> = ids.iter().map(u64::to_string).collect();
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
            Some((id.parse().ok()?, state.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Experiment;

    fn plan() -> Plan {
        let e = Experiment::from_toml(
            "dataset = \"mnist\"\nseed = 42\nvariants = [\"vanilla\"]\n[training]\nepochs = 1\n",
            "t",
        )
        .unwrap();
        Plan::new(&e, &e.variants).unwrap()
    }

    fn index(plan: &Plan, name: &str) -> usize {
        plan.jobs.iter().position(|j| j.name == name).unwrap()
    }

    fn entry(plan: &Plan, name: &str, id: u64) -> Submitted {
        Submitted {
            slurm_id: id,
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

    #[test]
    fn squeue_lines_are_parsed_and_array_elements_left_out() {
        let q = parse_squeue("12|RUNNING|None\n13|PENDING|Dependency\n14_2|PENDING|Priority\n\n");
        assert_eq!(q.len(), 2);
        assert_eq!(q[&12], queued("RUNNING", "None"));
        assert_eq!(q[&13], queued("PENDING", "Dependency"));
        assert!(!queued("COMPLETING", "None").is_live() && queued("PENDING", "x").is_live());
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
            let id = 100 + n as u64;
            ledger.entries.push(entry(&plan, &job.name, id));
            let state = if job.deps.is_empty() {
                queued("RUNNING", "None")
            } else {
                queued("PENDING", "Dependency")
            };
            queue.insert(id, state);
        }
        ledger.entries.push(Submitted {
            slurm_id: 999,
            element: Element::Render,
        });
        queue.insert(999, queued("PENDING", "Dependency"));
        let d = decide(&plan, &fresh, &ledger, &queue);
        assert!(d.submit.is_empty() && d.cancel.is_empty(), "{d:?}");
        assert_eq!(d.in_flight.len(), plan.jobs.len());
        assert_eq!(d.render, Render::Queued(999));
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
                    element: Element::Render,
                },
            ],
        };
        // Job 1 was cancelled: it left the queue. Slurm has not yet noticed that job 2 can
        // never start (its reason still says Dependency); job 3 waits on a finished training.
        let queue: HashMap<u64, Queued> = [
            (2, queued("PENDING", "Dependency")),
            (3, queued("PENDING", "Dependency")),
            (4, queued("PENDING", "Dependency")),
        ]
        .into();
        let d = decide(&plan, &fresh, &ledger, &queue);
        assert_eq!(d.submit, [train, recon]);
        assert_eq!(d.in_flight, [(roc, 3)].into());
        assert_eq!(d.cancel, [2, 4]);
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
                element: Element::Job {
                    name: "seed42/train/vanilla_latent2_without1".into(),
                    key: "an old key".into(),
                },
            }],
        };
        let queue: HashMap<u64, Queued> = [(7, queued("RUNNING", "None"))].into();
        let d = decide(&plan, &fresh, &ledger, &queue);
        assert_eq!((d.submit, d.cancel), (vec![train], vec![7]));
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
        let queue: HashMap<u64, Queued> = [(11, queued("RUNNING", "None"))].into();
        let states = survey(&plan, &fresh, &ledger, &queue);
        assert_eq!(states[0], JobState::Done);
        assert_eq!(
            states[1],
            JobState::Queued {
                slurm_id: 11,
                queued: queued("RUNNING", "None")
            }
        );
        assert_eq!(states[2], JobState::Failed { slurm_id: 12 });
        assert_eq!(states[3], JobState::Missing);
    }

    #[test]
    fn scripts_run_the_job_by_name_and_key_after_their_dependencies() {
        let plan = plan();
        let job = plan.job("seed42/reconstruction/vanilla").unwrap();
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
        let script = job_script(job, &["41".into(), "42".into()], &paths, &options);
        for line in [
            "#SBATCH --dependency=afterok:41:42",
            "#SBATCH --partition=cpu",
            "#SBATCH --time=1:00:00",
            "#SBATCH --cpus-per-task=8",
            "#SBATCH --mem=4G",
            "#SBATCH --output=/shared/results/quick/slurm/logs/seed42.reconstruction.vanilla.%j.log",
            &format!(
                "exec '/opt/bin/bakeoff' run-job --experiment '/shared/exp.toml' --out '/shared/results/quick' --store '/shared/results/store' --checkpoints '/shared/results/store/checkpoints' --job 'seed42/reconstruction/vanilla' --key {}",
                job.key
            ),
        ] {
            assert!(script.lines().any(|l| l == line), "{line:?} not in\n{script}");
        }
        let render = render_script(&[], &paths, &SlurmOptions::default());
        assert!(!render.contains("--dependency") && !render.contains("--partition"));
        assert!(render.contains("reproduce --experiment '/shared/exp.toml'"));
        let relative = StudyPaths {
            out: "results/quick".into(),
            ..paths.clone()
        };
        assert!(format!("{:#}", relative.validate().unwrap_err()).contains("results/quick"));
    }
}
