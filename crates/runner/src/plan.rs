//! The plan of a study: every job (train, then each downstream task), what each depends on,
//! the cache key that says whether its stored result is still valid, and the on-disk cache.
//!
//! A job's key is the SHA-256 of everything its result depends on: [`FORMAT_VERSION`] (of
//! the results' format), the
//! engine's [`ae_models::ENGINE_VERSION`], its name (which also seeds its randomness), the
//! study's seed and evaluation data, its own settings, the keys of the jobs it reads, and
//! for a family's training its revision (from 2 on). A job whose cached result carries its
//! current key is up to date and never recomputed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ae_models::TrainingConfig;
use ae_results::job_result::FORMAT_VERSION;
use ae_results::study::ProbeSection;
use ae_results::train::RunSettings;
use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::experiment::Experiment;
use crate::jobs::classifier::{self, ClassifierSettings};
use crate::run;
use crate::task_table::{DownstreamTask, Reads, DOWNSTREAM};

/// Subdirectory of the store holding the job results.
pub const JOBS_DIR: &str = "jobs";

/// Subdirectory of the store holding the trained models, unless `--checkpoints` says
/// otherwise (git-ignored).
pub const CHECKPOINTS_DIR: &str = "checkpoints";

/// The images every downstream job of one seed evaluates on (part of each downstream key).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalSelection {
    /// Dataset name.
    pub dataset: String,
    /// Seed of the split permutation (the job's seed).
    pub seed: u64,
    /// First N test images only (smoke profiles).
    pub test_subset: Option<usize>,
    /// First N validation images only, for the probe (smoke profiles).
    pub validation_subset: Option<usize>,
}

impl EvalSelection {
    /// The evaluation images of `experiment`'s replicate `seed`.
    fn of(experiment: &Experiment, seed: u64) -> Result<Self> {
        Ok(Self {
            dataset: experiment.dataset_name()?.to_string(),
            seed,
            test_subset: experiment.evaluation.test_subset,
            validation_subset: experiment.evaluation.validation_subset,
        })
    }
}

/// What a job computes, with the settings that determine it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// Train one variant at one latent size (checkpoint in the checkpoints directory).
    Train {
        /// The run's full settings.
        run: RunSettings,
    },
    /// Task 1: test BCE and the reconstruction grid of the general model.
    Reconstruction {
        /// Variant name.
        variant: String,
    },
    /// Task 2: images decoded from the general model's prior.
    Samples {
        /// Variant name.
        variant: String,
        /// Number of samples.
        count: usize,
    },
    /// Task 3: decoded frames between two test images' encodings.
    Interpolation {
        /// Variant name.
        variant: String,
        /// Test image at the start.
        from: usize,
        /// Test image at the end.
        to: usize,
        /// Frames, both ends included.
        steps: usize,
    },
    /// Task 4: test-set latent codes in the plane and their k-means clustering scores.
    LatentStructure {
        /// Variant name.
        variant: String,
        /// Latent size of the model (general or anomaly).
        latent_dim: usize,
        /// At most this many codes are reduced and plotted with t-SNE.
        max_points: usize,
        /// How codes of more than two dimensions are put in the plane.
        reduction: ae_eval::reduction::Reduction,
    },
    /// Task 5: ROC of the anomaly model's reconstruction error for one digit.
    AnomalyRoc {
        /// Variant name.
        variant: String,
        /// The anomalous digit.
        digit: u8,
    },
    /// Task 6: the linear probe on the frozen general model (sampled, and mean for VAEs).
    LinearProbe {
        /// Variant name.
        variant: String,
        /// Probe settings.
        probe: ProbeSection,
    },
    /// The reference's "trained from scratch" row: a random, unfrozen, unoptimised encoder.
    RandomEncoder {
        /// Probe settings.
        probe: ProbeSection,
    },
    /// Encoder and linear layer trained end to end on the labelled images.
    Supervised {
        /// Probe settings.
        probe: ProbeSection,
    },
    /// The instrument: the reference classifier of the dataset, one per study with its own
    /// fixed seed (checkpoint in the checkpoints directory), read by the quality jobs.
    Classifier {
        /// Its full settings.
        classifier: ClassifierSettings,
    },
    /// Prior draws of the general model judged by the classifier (sampling variants only).
    SampleQuality {
        /// Variant name.
        variant: String,
        /// Number of draws.
        draws: usize,
    },
    /// The general model's latent units that are 0 on every test image.
    DeadUnits {
        /// Variant name.
        variant: String,
    },
    /// Interpolations of the general model between test images of different classes, judged
    /// by the classifier.
    InterpolationQuality {
        /// Variant name.
        variant: String,
        /// Number of pairs.
        pairs: usize,
        /// Frames per pair, both ends included.
        steps: usize,
    },
}

impl Task {
    /// The `kind` its result is stored with: the tag of its
    /// [`ae_results::job_result::JobResult`] variant.
    pub fn result_kind(&self) -> &'static str {
        match self {
            Self::Train { .. } => "train",
            Self::Classifier { .. } => "classifier",
            Self::Reconstruction { .. } => "reconstruction",
            Self::Samples { .. } => "samples",
            Self::Interpolation { .. } => "interpolation",
            Self::LatentStructure { .. } => "latent_structure",
            Self::AnomalyRoc { .. } => "anomaly_roc",
            Self::LinearProbe { .. } => "linear_probe",
            Self::RandomEncoder { .. } => "random_encoder",
            Self::Supervised { .. } => "supervised",
            Self::SampleQuality { .. } => "sample_quality",
            Self::DeadUnits { .. } => "dead_units",
            Self::InterpolationQuality { .. } => "interpolation_quality",
        }
    }
}

/// One unit of cached work.
#[derive(Clone, Debug)]
pub struct Job {
    /// Unique name, also the cache file's path: `seed42/train/vae_latent20`,
    /// `seed42/reconstruction/vae`.
    pub name: String,
    /// The seed of the replicate the job belongs to.
    pub seed: u64,
    /// The name without the seed: `train/vae_latent20`.
    pub task_name: String,
    /// What it computes.
    pub task: Task,
    /// Indices (in the plan) of the jobs whose results it reads.
    pub deps: Vec<usize>,
    /// Hex SHA-256 cache key.
    pub key: String,
}

impl Job {
    /// Whether this job trains a model (an autoencoder, or the instrument classifier) that the
    /// jobs reading it load from its checkpoint.
    pub fn is_training(&self) -> bool {
        matches!(self.task, Task::Train { .. } | Task::Classifier { .. })
    }

    /// The seed of this job's random number generator: derived from its replicate's seed and
    /// its task name only, so a result depends neither on which other jobs ran before it nor
    /// on which other seeds the study has.
    pub fn rng_seed(&self) -> u64 {
        derive_seed(self.seed, &self.task_name)
    }

    /// The variant the job is about (`None` for the baselines).
    pub fn variant(&self) -> Option<&str> {
        match &self.task {
            Task::Train { run } => Some(&run.variant.name),
            Task::Reconstruction { variant }
            | Task::Samples { variant, .. }
            | Task::Interpolation { variant, .. }
            | Task::LatentStructure { variant, .. }
            | Task::AnomalyRoc { variant, .. }
            | Task::LinearProbe { variant, .. }
            | Task::SampleQuality { variant, .. }
            | Task::InterpolationQuality { variant, .. }
            | Task::DeadUnits { variant } => Some(variant),
            Task::RandomEncoder { .. } | Task::Supervised { .. } | Task::Classifier { .. } => None,
        }
    }
}

/// A 64-bit seed from a replicate's seed and a task name (the first 8 bytes of a SHA-256).
pub fn derive_seed(seed: u64, name: &str) -> u64 {
    let digest = Sha256::digest(format!("{seed}/{name}").as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// The job names, built here and nowhere else.
pub mod names {
    /// A job's full name: its task name under its seed.
    pub fn seeded(seed: u64, task_name: &str) -> String {
        format!("seed{seed}/{task_name}")
    }

    /// Training `variant` at `latent_dim`, on the whole training split or without `digit`.
    pub fn train(variant: &str, latent_dim: usize, without: Option<u8>) -> String {
        match without {
            None => format!("train/{variant}_latent{latent_dim}"),
            Some(d) => format!("train/{variant}_latent{latent_dim}_without{d}"),
        }
    }

    /// A downstream task of one variant: `reconstruction/vae`.
    pub fn task(kind: &str, variant: &str) -> String {
        format!("{kind}/{variant}")
    }

    /// The anomaly ROC of `variant`'s model trained without `digit`.
    pub fn anomaly_roc(variant: &str, digit: u8) -> String {
        format!("anomaly_roc/{variant}_digit{digit}")
    }

    /// A baseline row of the probe: `baseline/random_encoder`.
    pub fn baseline(name: &str) -> String {
        format!("baseline/{name}")
    }

    /// The instrument classifier's job: one per study, under no seed.
    pub const CLASSIFIER: &str = "instrument/classifier";
}

/// Every job of a study in execution order (the instrument classifier first, then seed by
/// seed, each model's training before its downstream jobs; the extra held-out digits last),
/// with their keys.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The study's seeds, in the experiment's order.
    pub seeds: Vec<u64>,
    /// Variants in table order.
    pub variants: Vec<String>,
    /// Fingerprint of the dataset's files ([`ae_data::fingerprint`]), part of every key.
    pub data: String,
    /// The jobs.
    pub jobs: Vec<Job>,
}

#[derive(Serialize)]
struct KeyInput<'a> {
    format_version: u32,
    engine_version: u32,
    name: &'a str,
    seed: u64,
    data: &'a str,
    eval: Option<&'a EvalSelection>,
    task: &'a Task,
    deps: Vec<&'a str>,
    /// A training job's family revision ([`ae_models::family::Family::revision`]) from 2 on.
    #[serde(skip_serializing_if = "Option::is_none")]
    family_revision: Option<u32>,
}

impl Plan {
    /// The jobs of `experiment` for `variants` (a subset of its variants, in its order) plus
    /// the two probe baselines, for every seed, after the instrument classifier they share;
    /// the anomaly runs of the digits other than the primary one come last, after every
    /// seed's main jobs.
    ///
    /// # Errors
    /// An invalid run setting, or the dataset's files cannot be read (their fingerprint is
    /// part of every key).
    pub fn new(experiment: &Experiment, variants: &[String]) -> Result<Self> {
        let name = experiment.dataset_name()?;
        let data = ae_data::fingerprint(name, experiment.data_dir.as_deref())
            .with_context(|| format!("reading the files of dataset `{name}`"))?;
        let mut plan = Plan {
            seeds: experiment.seeds.clone(),
            variants: variants.to_vec(),
            data,
            jobs: Vec::new(),
        };
        let reads = |r: Reads| {
            DOWNSTREAM
                .iter()
                .any(|t| t.reads == r && experiment.runs(t.kind))
        };
        let classifier = if reads(Reads::GeneralAndClassifier) {
            Some(plan.push_classifier(experiment)?)
        } else {
            None
        };
        for &seed in &experiment.seeds {
            plan.push_seed(experiment, seed, classifier)?;
        }
        let each = DOWNSTREAM
            .iter()
            .filter(|t| t.reads == Reads::EachHeldOut && experiment.runs(t.kind));
        if each.clone().next().is_none() {
            return Ok(plan);
        }
        for &seed in &experiment.seeds {
            let eval = EvalSelection::of(experiment, seed)?;
            for variant in plan.variants.clone() {
                let capabilities = experiment.variant(&variant)?.capabilities();
                for &digit in &experiment.anomaly.digits_for(seed)[1..] {
                    let train = plan.push_held_out(experiment, &eval, &variant, digit)?;
                    for t in each.clone().filter(|t| (t.applies)(&capabilities)) {
                        let task = (t.task)(experiment, &variant, digit);
                        plan.push(seed, &eval, t.name(&variant, digit), task, vec![train]);
                    }
                }
            }
        }
        Ok(plan)
    }

    /// Training `variant` without `digit`; returns the job's index.
    fn push_held_out(
        &mut self,
        experiment: &Experiment,
        eval: &EvalSelection,
        variant: &str,
        digit: u8,
    ) -> Result<usize> {
        let (seed, latent) = (eval.seed, experiment.anomaly.latent_dim);
        let run = run_settings(experiment, variant, latent, Some(digit), seed)?;
        Ok(self.push(
            seed,
            eval,
            names::train(variant, latent, Some(digit)),
            Task::Train { run },
            vec![],
        ))
    }

    /// The instrument classifier (the same for every seed); returns the job's index.
    fn push_classifier(&mut self, experiment: &Experiment) -> Result<usize> {
        let q = &experiment.quality;
        let settings = ClassifierSettings {
            dataset: experiment.dataset_name()?.to_string(),
            seed: q.classifier_seed,
            train_subset: q.classifier_train_subset,
            test_subset: experiment.evaluation.test_subset,
            config: q.instrument(),
        };
        Ok(self.push_job(
            settings.seed,
            names::CLASSIFIER.to_string(),
            names::CLASSIFIER.to_string(),
            // Its settings say which images it sees.
            None,
            Task::Classifier {
                classifier: settings,
            },
            vec![],
        ))
    }

    fn push_seed(
        &mut self,
        experiment: &Experiment,
        seed: u64,
        classifier: Option<usize>,
    ) -> Result<()> {
        let eval = EvalSelection::of(experiment, seed)?;
        let general = experiment.general.latent_dim;
        let primary = experiment.anomaly.primary_digit();
        let tasks: Vec<&DownstreamTask> = DOWNSTREAM
            .iter()
            .filter(|t| experiment.runs(t.kind))
            .collect();
        let held_out = tasks
            .iter()
            .any(|t| matches!(t.reads, Reads::PrimaryHeldOut | Reads::EachHeldOut));
        let mut train = Vec::new();
        for name in self.variants.clone() {
            let general_run = run_settings(experiment, &name, general, None, seed)?;
            let g = self.push(
                seed,
                &eval,
                names::train(&name, general, None),
                Task::Train { run: general_run },
                vec![],
            );
            let a = if held_out {
                Some(self.push_held_out(experiment, &eval, &name, primary)?)
            } else {
                None
            };
            train.push((name, g, a));
        }
        for (name, g, a) in train {
            let capabilities = experiment.variant(&name)?.capabilities();
            for t in tasks.iter().filter(|t| (t.applies)(&capabilities)) {
                let deps = match t.reads {
                    Reads::General => vec![g],
                    Reads::PrimaryHeldOut | Reads::EachHeldOut => {
                        vec![a.expect("anomaly model trained for an anomaly task")]
                    }
                    Reads::GeneralAndClassifier => vec![
                        g,
                        classifier.expect("classifier planned for a task that reads it"),
                    ],
                };
                let task = (t.task)(experiment, &name, primary);
                self.push(seed, &eval, t.name(&name, primary), task, deps);
            }
        }
        if !experiment.runs("linear_probe") {
            return Ok(());
        }
        self.push(
            seed,
            &eval,
            names::baseline("random_encoder"),
            Task::RandomEncoder {
                probe: experiment.probe.clone(),
            },
            vec![],
        );
        self.push(
            seed,
            &eval,
            names::baseline("supervised"),
            Task::Supervised {
                probe: experiment.probe.clone(),
            },
            vec![],
        );
        Ok(())
    }

    fn push(
        &mut self,
        seed: u64,
        eval: &EvalSelection,
        task_name: String,
        task: Task,
        deps: Vec<usize>,
    ) -> usize {
        let training = matches!(task, Task::Train { .. });
        let name = names::seeded(seed, &task_name);
        // A training run's settings already say which data it sees.
        let eval = (!training).then_some(eval);
        self.push_job(seed, name, task_name, eval, task, deps)
    }

    fn push_job(
        &mut self,
        seed: u64,
        name: String,
        task_name: String,
        eval: Option<&EvalSelection>,
        task: Task,
        deps: Vec<usize>,
    ) -> usize {
        let input = KeyInput {
            format_version: FORMAT_VERSION,
            engine_version: ae_models::ENGINE_VERSION,
            name: &name,
            seed,
            data: &self.data,
            eval,
            task: &task,
            deps: deps.iter().map(|&d| self.jobs[d].key.as_str()).collect(),
            family_revision: family_revision(&task),
        };
        let bytes = serde_json::to_vec(&input).expect("job settings serialise");
        let key = hex(&Sha256::digest(&bytes));
        self.jobs.push(Job {
            name,
            seed,
            task_name,
            task,
            deps,
            key,
        });
        self.jobs.len() - 1
    }

    /// Which jobs have to run: a downstream job without a result under its current key, and
    /// a training job (the classifier too) without one, or whose checkpoint is gone while a
    /// job that reads it has to run. (A training job whose every dependent result is recorded
    /// is not redone: a study resumes from its committed results directory alone.)
    pub fn pending(&self, cache: &Cache) -> Vec<bool> {
        let mut pending: Vec<bool> = self
            .jobs
            .iter()
            .map(|j| !j.is_training() && !cache.has_result(j))
            .collect();
        for (i, job) in self.jobs.iter().enumerate() {
            let Some(finished) = cache.finished_checkpoint(job) else {
                continue;
            };
            pending[i] = !cache.has_result(job)
                || (!finished
                    && self
                        .jobs
                        .iter()
                        .enumerate()
                        .any(|(d, j)| pending[d] && j.deps.contains(&i)));
        }
        pending
    }

    /// The job called `name`.
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.name == name)
    }
}

fn run_settings(
    experiment: &Experiment,
    variant: &str,
    latent_dim: usize,
    exclude_digit: Option<u8>,
    seed: u64,
) -> Result<RunSettings> {
    let mut settings = RunSettings::new(
        experiment.variant(variant)?,
        latent_dim,
        experiment.dataset_name()?,
        seed,
    );
    settings.exclude_digit = exclude_digit;
    settings.train_subset = experiment.training.train_subset;
    if let Some(backend) = experiment.training.backend {
        settings.backend = backend;
    }
    settings.training = TrainingConfig {
        epochs: experiment.training.epochs,
        batch_size: experiment.training.batch_size,
        learning_rate: experiment.training.learning_rate,
    };
    settings.validate()?;
    Ok(settings)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A job's stored result with the key it was computed under and its wall time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CachedResult<T> {
    /// The job's name.
    pub job: String,
    /// The key it was computed under.
    pub key: String,
    /// Wall time of the computation, seconds.
    pub seconds: f64,
    /// The result.
    pub result: T,
}

/// The job store a study reads and writes: each job's result under its name and key
/// (`<store>/jobs/<job name>.<key prefix>.json.gz`, committed, so that a study resumes from a
/// clone) and each trained model likewise (`<checkpoints>/<job name>.<key prefix>/`, never
/// committed). Several studies share one store: a job two studies plan alike (same name,
/// same key) is computed once, whichever study asks for it first.
#[derive(Clone, Debug)]
pub struct Cache {
    /// The store's directory (job results live in its `jobs/`).
    pub store: PathBuf,
    /// The checkpoints directory (by default the store's `checkpoints/`).
    pub checkpoints: PathBuf,
    /// Fingerprint of the plan's data ([`Plan::data`]): a run trained on other files is not
    /// reused.
    pub data: String,
}

impl Cache {
    /// The cache of `plan`'s job results in the store `store` and of its trained models
    /// under `checkpoints`.
    pub fn new(store: &Path, checkpoints: &Path, plan: &Plan) -> Self {
        Self {
            store: store.to_path_buf(),
            checkpoints: checkpoints.to_path_buf(),
            data: plan.data.clone(),
        }
    }

    /// Where `job`'s result is stored.
    pub fn result_path(&self, job: &Job) -> PathBuf {
        self.store
            .join(JOBS_DIR)
            .join(format!("{}.json.gz", stored_name(job)))
    }

    /// The directory a job that trains a model (an autoencoder, the classifier) writes it to.
    pub fn model_dir(&self, job: &Job) -> PathBuf {
        self.checkpoints.join(stored_name(job))
    }

    /// `job`'s stored result if it was computed under the current key (whether or not a
    /// training job's checkpoint is still there).
    ///
    /// # Errors
    /// A result file that exists but cannot be read or decompressed.
    pub fn load<T: DeserializeOwned>(&self, job: &Job) -> Result<Option<CachedResult<T>>> {
        let path = self.result_path(job);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
        };
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut bytes)
            .with_context(|| format!("decompressing {}", path.display()))?;
        // A result of another format (an older program) is stale, not an error.
        let Ok(cached) = serde_json::from_slice::<CachedResult<T>>(&bytes) else {
            return Ok(None);
        };
        Ok((cached.job == job.name && cached.key == job.key).then_some(cached))
    }

    /// Whether `job` has a result computed under its current key.
    pub fn has_result(&self, job: &Job) -> bool {
        self.load::<serde::de::IgnoredAny>(job)
            .is_ok_and(|cached| cached.is_some())
    }

    /// Whether `job`'s result is current and usable now: for a training job, its model
    /// directory must also hold the finished model (the downstream jobs load it).
    pub fn is_fresh(&self, job: &Job) -> bool {
        self.has_result(job) && self.finished_checkpoint(job).unwrap_or(true)
    }

    /// For a job that trains a model the jobs reading it load (an autoencoder, the
    /// classifier), whether its directory holds the finished model; `None` for other jobs.
    pub fn finished_checkpoint(&self, job: &Job) -> Option<bool> {
        let dir = self.model_dir(job);
        match &job.task {
            Task::Train { run } => Some(run::finished(&dir, run, &self.data)),
            Task::Classifier { classifier } => {
                Some(classifier::finished(&dir, classifier, &self.data))
            }
            _ => None,
        }
    }

    /// Stores `result` for `job` atomically (temporary file, then rename), gzip-compressed.
    pub fn store<T: Serialize>(&self, job: &Job, seconds: f64, result: &T) -> Result<()> {
        let cached = CachedResult {
            job: job.name.clone(),
            key: job.key.clone(),
            seconds,
            result,
        };
        let path = self.result_path(job);
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        serde_json::to_writer(&mut encoder, &cached)?;
        let bytes = encoder.finish()?;
        ae_data::fs::write_atomic(&path, &bytes)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Removes the temporary files an interrupted run of `plan` left behind (kill -9, power
    /// loss): those of `plan`'s own results and model directories only, as another study may
    /// be writing its own jobs into the same store at this moment.
    pub fn remove_stale_temporaries(&self, plan: &Plan) {
        let mut results: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
        for job in &plan.jobs {
            let path = self.result_path(job);
            if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
                results
                    .entry(dir.to_path_buf())
                    .or_default()
                    .insert(name.to_string_lossy().into_owned());
            }
            if self.finished_checkpoint(job).is_some() {
                remove_temporaries(&self.model_dir(job), |_| true);
            }
        }
        for (dir, names) in results {
            // `ae_data::fs::write_atomic` writes `.<name>.tmp.<pid>.<n>` beside `<name>`.
            remove_temporaries(&dir, |temporary| {
                temporary
                    .strip_prefix('.')
                    .and_then(|t| t.split_once(".tmp."))
                    .is_some_and(|(name, _)| names.contains(name))
            });
        }
    }
}

/// Characters of a job's key in its file names: enough to tell the keys of one job apart (the
/// whole key is checked inside the file).
const KEY_PREFIX: usize = 16;

/// The revision of the family a training task trains, where it is 2 or more (the part of the
/// key a family's numerics change adds; none at revision 1, so earlier keys stand).
fn family_revision(task: &Task) -> Option<u32> {
    match task {
        Task::Train { run } => run.variant.registered_family().map(|f| f.revision),
        _ => None,
    }
    .filter(|&revision| revision > 1)
}

/// `<job name>.<key prefix>`: the name of a job's result and model directory in the store.
fn stored_name(job: &Job) -> String {
    format!("{}.{}", job.name, &job.key[..KEY_PREFIX])
}

/// Removes the temporary files (`*.tmp*`) directly in `dir` whose names `ours` accepts.
fn remove_temporaries(dir: &Path, ours: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains(".tmp") && entry.path().is_file() && ours(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The plan of a one-seed (42), one-epoch MNIST study of `variants`, for unit tests.
#[cfg(test)]
pub(crate) fn test_plan(variants: &[&str]) -> Plan {
    let list: Vec<String> = variants.iter().map(|v| format!("{v:?}")).collect();
    let text = format!(
        "dataset = \"mnist\"\nseed = 42\nvariants = [{}]\n[training]\nepochs = 1\n",
        list.join(", ")
    );
    let e = Experiment::from_toml(&text, "t").expect("a valid test study");
    Plan::new(&e, &e.variants).expect("a plan")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_another_engine_or_other_data_are_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let e = experiment(BASE);
        let plan = Plan::new(&e, &e.variants).unwrap();
        let cache = Cache::new(dir.path(), dir.path(), &plan);
        let job = plan.job("seed42/train/vanilla_latent20").unwrap();
        let Task::Train { run } = &job.task else {
            panic!("a training job trains");
        };
        let run_dir = cache.model_dir(job);
        std::fs::create_dir_all(&run_dir).unwrap();
        std::fs::write(run_dir.join(run::CHECKPOINT_FILE), b"weights").unwrap();
        let mut record = run::RunRecord {
            settings: run.clone(),
            epochs: Vec::new(),
            train_seconds: 1.0,
            samples_per_second: 1.0,
            train_images: 1,
            engine_version: ae_models::ENGINE_VERSION,
            data: Some(plan.data.clone()),
        };
        run::write_json(&run_dir.join(run::RECORD_FILE), &record).unwrap();
        assert_eq!(cache.finished_checkpoint(job), Some(true));
        record.data = Some("other files".into());
        run::write_json(&run_dir.join(run::RECORD_FILE), &record).unwrap();
        assert_eq!(cache.finished_checkpoint(job), Some(false));
        record.data = Some(plan.data.clone());
        record.engine_version -= 1;
        run::write_json(&run_dir.join(run::RECORD_FILE), &record).unwrap();
        assert_eq!(cache.finished_checkpoint(job), Some(false));
    }

    #[test]
    fn a_training_job_runs_only_if_its_result_or_a_needed_checkpoint_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let e = experiment(BASE);
        let plan = Plan::new(&e, &e.variants).unwrap();
        let cache = Cache::new(&dir.path().join("out"), &dir.path().join("ckpt"), &plan);
        assert!(plan.pending(&cache).iter().all(|&p| p));
        // Every result recorded, no checkpoint anywhere (a fresh clone): nothing to run.
        for job in &plan.jobs {
            cache.store(job, 1.0, &serde_json::Value::Null).unwrap();
        }
        assert!(plan.pending(&cache).iter().all(|&p| !p));
        // One downstream result lost: it and the run it reads, nothing else.
        let lost = plan.job("seed42/linear_probe/vae").unwrap();
        std::fs::remove_file(cache.result_path(lost)).unwrap();
        let pending: Vec<&str> = plan
            .pending(&cache)
            .iter()
            .zip(&plan.jobs)
            .filter(|(p, _)| **p)
            .map(|(_, j)| j.name.as_str())
            .collect();
        assert_eq!(
            pending,
            ["seed42/train/vae_latent20", "seed42/linear_probe/vae"]
        );
        // A result under another key is stale, even in the file of this one.
        let mut other = lost.clone();
        other.key = "0".repeat(64);
        cache.store(&other, 1.0, &serde_json::Value::Null).unwrap();
        assert!(!cache.has_result(lost));
        std::fs::rename(cache.result_path(&other), cache.result_path(lost)).unwrap();
        assert!(!cache.has_result(lost));
        // A damaged file is an error naming it, not a silent gap.
        let path = cache.result_path(lost);
        std::fs::write(&path, b"not gzip").unwrap();
        let err = cache.load::<serde_json::Value>(lost).unwrap_err();
        assert!(
            format!("{err:#}").contains(&path.display().to_string()),
            "{err:#}"
        );
    }

    #[test]
    fn studies_sharing_a_store_share_the_jobs_they_plan_alike() {
        let dir = tempfile::tempdir().unwrap();
        let nine = experiment(&BASE.replace("[\"vanilla\", \"vae\"]", "[\"vanilla\"]"));
        let nine = Plan::new(&nine, &nine.variants).unwrap();
        let extended = experiment(BASE);
        let extended = Plan::new(&extended, &extended.variants).unwrap();
        let store = dir.path().join("store");
        let cache = Cache::new(&store, &store.join(CHECKPOINTS_DIR), &nine);
        for job in &nine.jobs {
            cache.store(job, 1.0, &serde_json::Value::Null).unwrap();
        }
        // The larger study computes only the jobs the smaller one has not, and the
        // classifier, whose weights (not committed, like every checkpoint) its new sample
        // quality job reads.
        let cache = Cache::new(&store, &store.join(CHECKPOINTS_DIR), &extended);
        let pending = extended.pending(&cache);
        for (job, pending) in extended.jobs.iter().zip(pending) {
            let shared = nine.job(&job.name).is_some_and(|j| j.key == job.key);
            let reread = job.name == "instrument/classifier";
            assert_eq!(pending, !shared || reread, "{}", job.name);
        }
        assert!(extended.jobs.iter().any(|j| nine.job(&j.name).is_none()));
        // A study training otherwise keeps its own results beside them: it shares only the
        // baselines, which read no autoencoder (and the classifier's result, but it needs the
        // classifier's weights again).
        let longer = experiment(&BASE.replace("epochs = 2", "epochs = 3"));
        let longer = Plan::new(&longer, &longer.variants).unwrap();
        let cache = Cache::new(&store, &store.join(CHECKPOINTS_DIR), &longer);
        let shared: Vec<&str> = longer
            .pending(&cache)
            .iter()
            .zip(&longer.jobs)
            .filter(|(p, _)| !**p)
            .map(|(_, j)| j.name.as_str())
            .collect();
        assert_eq!(
            shared,
            [
                "seed42/baseline/random_encoder",
                "seed42/baseline/supervised"
            ]
        );
    }

    #[test]
    fn a_study_sweeps_only_its_own_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let e = experiment(BASE);
        let plan = Plan::new(&e, &e.variants).unwrap();
        let store = dir.path().join("store");
        let cache = Cache::new(&store, &store.join(CHECKPOINTS_DIR), &plan);
        let job = plan.job("seed42/reconstruction/vae").unwrap();
        let result = cache.result_path(job);
        let name = result.file_name().unwrap().to_string_lossy().into_owned();
        let ours = result.with_file_name(format!(".{name}.tmp.123.0"));
        let theirs = result.with_file_name(".vae.0123456789abcdef.json.gz.tmp.456.0");
        let train = plan.job("seed42/train/vae_latent20").unwrap();
        let in_model = cache.model_dir(train).join(".model.safetensors.tmp.123.1");
        let kept = cache.model_dir(train).join(run::RECORD_FILE);
        for file in [&ours, &theirs, &in_model, &kept] {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, b"x").unwrap();
        }
        cache.remove_stale_temporaries(&plan);
        assert!(!ours.exists() && !in_model.exists());
        assert!(theirs.exists() && kept.exists());
    }

    #[test]
    fn every_digit_seeds_hold_out_every_digit_and_their_extra_runs_come_last() {
        let text = BASE.replace("seed = 42", "name = \"t\"\nseeds = [42, 43]")
            + "[anomaly]\nlatent_dim = 2\ndigits = [0, 1, 2]\nevery_digit_seeds = [43]\n";
        let e = experiment(&text);
        let plan = Plan::new(&e, &e.variants).unwrap();
        let held_out = |seed: u64| -> Vec<&str> {
            let prefix = format!("seed{seed}/anomaly_roc/vae_digit");
            let names = plan.jobs.iter().map(|j| j.name.as_str());
            names.filter(|n| n.starts_with(&prefix)).collect()
        };
        assert_eq!(held_out(42), ["seed42/anomaly_roc/vae_digit1"]);
        assert_eq!(
            held_out(43),
            [
                "seed43/anomaly_roc/vae_digit1",
                "seed43/anomaly_roc/vae_digit0",
                "seed43/anomaly_roc/vae_digit2"
            ]
        );
        let position = |name: &str| plan.jobs.iter().position(|j| j.name == name).unwrap();
        let last_main = position("seed43/baseline/supervised");
        assert!(position("seed43/train/vanilla_latent2_without0") > last_main);
        assert!(position("seed43/train/vae_latent2_without1") < last_main);
        let bad = text.replace("every_digit_seeds = [43]", "every_digit_seeds = [44]");
        let mut e: Experiment = toml::from_str(&bad).unwrap();
        e.resolve().unwrap();
        let err = e.validate().unwrap_err().to_string();
        assert!(err.contains("anomaly.every_digit_seeds[0]"), "{err}");
    }

    fn experiment(text: &str) -> Experiment {
        let mut e: Experiment = toml::from_str(text).unwrap();
        e.name = "t".into();
        e.resolve().unwrap();
        e.validate().unwrap();
        e
    }

    const BASE: &str = "dataset = \"mnist\"\nseed = 42\nvariants = [\"vanilla\", \"vae\"]\n[training]\nepochs = 2\n";

    #[test]
    fn plan_has_every_job_once_with_training_first() {
        let e = experiment(BASE);
        let plan = Plan::new(&e, &e.variants).unwrap();
        let names: Vec<&str> = plan.jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names[0], "instrument/classifier");
        assert_eq!(
            &names[1..5],
            [
                "seed42/train/vanilla_latent20",
                "seed42/train/vanilla_latent2_without1",
                "seed42/train/vae_latent20",
                "seed42/train/vae_latent2_without1"
            ]
        );
        assert!(
            names.contains(&"seed42/samples/vae") && !names.contains(&"seed42/samples/vanilla")
        );
        assert!(names.contains(&"seed42/baseline/random_encoder"));
        assert!(
            names.contains(&"seed42/sample_quality/vae")
                && !names.contains(&"seed42/sample_quality/vanilla")
        );
        // The classifier; 2 train + 6 downstream + 1 interpolation quality + 1 dead units per
        // variant; 1 samples and 1 sample quality; 2 baselines.
        assert_eq!(plan.jobs.len(), 1 + 2 * 10 + 2 + 2);
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for (i, job) in plan.jobs.iter().enumerate() {
            assert!(job
                .deps
                .iter()
                .all(|&d| d < i && plan.jobs[d].is_training()));
        }
    }

    #[test]
    fn keys_follow_what_a_job_depends_on() {
        let e = experiment(BASE);
        let a = Plan::new(&e, &e.variants).unwrap();
        let only_vae = Plan::new(&e, &["vae".to_string()]).unwrap();
        assert_eq!(
            a.job("seed42/reconstruction/vae").unwrap().key,
            only_vae.job("seed42/reconstruction/vae").unwrap().key
        );
        let longer = experiment(&BASE.replace("epochs = 2", "epochs = 3"));
        let b = Plan::new(&longer, &longer.variants).unwrap();
        for name in [
            "seed42/train/vae_latent20",
            "seed42/reconstruction/vae",
            "seed42/anomaly_roc/vae_digit1",
        ] {
            assert_ne!(a.job(name).unwrap().key, b.job(name).unwrap().key, "{name}");
        }
        // The baselines do not depend on training.
        assert_eq!(
            a.job("seed42/baseline/supervised").unwrap().key,
            b.job("seed42/baseline/supervised").unwrap().key
        );
        let subset = experiment(&format!("{BASE}[evaluation]\ntest_subset = 100\n"));
        let c = Plan::new(&subset, &subset.variants).unwrap();
        assert_eq!(
            a.job("seed42/train/vae_latent2_without1").unwrap().key,
            c.job("seed42/train/vae_latent2_without1").unwrap().key
        );
        assert_ne!(
            a.job("seed42/anomaly_roc/vae_digit1").unwrap().key,
            c.job("seed42/anomaly_roc/vae_digit1").unwrap().key
        );
    }

    #[test]
    fn a_family_revision_from_2_enters_its_training_key_alone() {
        let e = experiment(&BASE.replace("\"vanilla\", \"vae\"", "\"tied\", \"contractive\""));
        let plan = Plan::new(&e, &e.variants).unwrap();
        let revision = |name: &str| family_revision(&plan.job(name).unwrap().task);
        assert_eq!(revision("seed42/train/contractive_latent20"), Some(2));
        assert_eq!(revision("seed42/train/tied_latent20"), None);
        assert_eq!(revision("seed42/reconstruction/contractive"), None);
        // Revision 1 (and every job but a family's training) keys as before the field was.
        let input = |family_revision| KeyInput {
            format_version: FORMAT_VERSION,
            engine_version: 1,
            name: "n",
            seed: 1,
            data: "d",
            eval: None,
            task: &plan.jobs[0].task,
            deps: Vec::new(),
            family_revision,
        };
        let text = serde_json::to_string(&input(None)).unwrap();
        assert!(!text.contains("revision"), "{text}");
        assert!(serde_json::to_string(&input(Some(2)))
            .unwrap()
            .contains("\"family_revision\":2"));
    }

    #[test]
    fn a_study_of_some_tasks_trains_only_what_they_read() {
        let anomaly = "[anomaly]\nlatent_dim = 2\ndigits = [1, 7]\n";
        let all = experiment(&format!("{}{anomaly}", BASE));
        let mut some = all.clone();
        some.tasks = Some(vec!["reconstruction".into(), "dead_units".into()]);
        some.validate().unwrap();
        let plan = Plan::new(&some, &some.variants).unwrap();
        let names: Vec<&str> = plan.jobs.iter().map(|j| j.name.as_str()).collect();
        // Per variant: the general training, its reconstruction and dead units; no
        // classifier, anomaly model or baseline.
        assert_eq!(
            names,
            [
                "seed42/train/vanilla_latent20",
                "seed42/train/vae_latent20",
                "seed42/reconstruction/vanilla",
                "seed42/dead_units/vanilla",
                "seed42/reconstruction/vae",
                "seed42/dead_units/vae",
            ]
        );
        // The same jobs keep their keys in the full study.
        let full = Plan::new(&all, &all.variants).unwrap();
        for job in &plan.jobs {
            assert_eq!(full.job(&job.name).unwrap().key, job.key, "{}", job.name);
        }
        some.tasks = Some(vec!["reconstruction".into(), "dead_unit".into()]);
        let err = some.validate().unwrap_err().to_string();
        assert!(err.starts_with("tasks: unknown task `dead_unit`"), "{err}");
        some.tasks = Some(vec![]);
        assert!(some
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("tasks:"));
    }

    #[test]
    fn each_seed_is_a_whole_replicate_and_adding_one_keeps_the_others() {
        let anomaly = "[anomaly]\nlatent_dim = 2\ndigits = [1, 7]\n";
        let two = experiment(&format!(
            "{}{anomaly}",
            BASE.replace("seed = 42", "seeds = [42, 43]")
        ));
        let plan = Plan::new(&two, &two.variants).unwrap();
        // The classifier, then per seed: 2 general + 2 x 2 anomaly trainings, 8 downstream per
        // variant (one ROC per digit, interpolation quality, dead units), 1 samples and 1
        // sample quality, 2 baselines.
        assert_eq!(
            plan.jobs.len(),
            1 + 2 * (2 * (1 + 2 + 5 + 2 + 1 + 1) + 2 + 2)
        );
        let job = plan.job("seed43/anomaly_roc/vanilla_digit7").unwrap();
        assert_eq!(job.seed, 43);
        assert_eq!(job.task_name, "anomaly_roc/vanilla_digit7");
        let Task::Train { run } = &plan.jobs[job.deps[0]].task else {
            panic!("an anomaly ROC reads a trained model");
        };
        assert_eq!((run.seed, run.exclude_digit), (43, Some(7)));
        // The latent figure of the anomaly models uses the reference's digit 1.
        let latent = plan.job("seed42/latent_anomaly/vae").unwrap();
        assert_eq!(
            plan.jobs[latent.deps[0]].name,
            "seed42/train/vae_latent2_without1"
        );
        let three = experiment(&format!(
            "{}{anomaly}",
            BASE.replace("seed = 42", "seeds = [42, 43, 44]")
        ));
        let more = Plan::new(&three, &three.variants).unwrap();
        for job in &plan.jobs {
            assert_eq!(more.job(&job.name).unwrap().key, job.key, "{}", job.name);
        }
        // One classifier for any number of seeds.
        assert_eq!(more.jobs.len() - 1, (plan.jobs.len() - 1) * 3 / 2);
        // Seed 42's downstream randomness does not depend on the name's seed prefix.
        let job = plan.job("seed42/reconstruction/vae").unwrap();
        assert_eq!(job.rng_seed(), derive_seed(42, "reconstruction/vae"));
    }

    #[test]
    fn one_classifier_serves_every_seed_and_the_quality_jobs_read_it() {
        let two = experiment(&BASE.replace("seed = 42", "seeds = [42, 43]"));
        let plan = Plan::new(&two, &two.variants).unwrap();
        let classifiers: Vec<&Job> = plan
            .jobs
            .iter()
            .filter(|j| matches!(j.task, Task::Classifier { .. }))
            .collect();
        assert_eq!(classifiers.len(), 1);
        let classifier = classifiers[0];
        // Its own fixed seed, not one of the study's.
        assert_eq!(
            (classifier.seed, classifier.name.as_str()),
            (0, "instrument/classifier")
        );
        for name in [
            "seed42/sample_quality/vae",
            "seed43/interpolation_quality/vanilla",
        ] {
            let job = plan.job(name).unwrap();
            let deps: Vec<&str> = job
                .deps
                .iter()
                .map(|&d| plan.jobs[d].name.as_str())
                .collect();
            assert_eq!(deps[1], "instrument/classifier", "{name}");
            assert!(
                deps[0].starts_with(&format!("seed{}/train/", job.seed)),
                "{deps:?}"
            );
        }
        // Its key depends neither on the seeds nor on the variants, but on its own settings,
        // and the quality jobs' keys follow it.
        let one = Plan::new(&experiment(BASE), &["vae".to_string()]).unwrap();
        assert_eq!(one.job(names::CLASSIFIER).unwrap().key, classifier.key);
        let longer = experiment(&format!("{BASE}[quality]\nclassifier_epochs = 3\n"));
        let longer = Plan::new(&longer, &longer.variants).unwrap();
        assert_ne!(longer.job(names::CLASSIFIER).unwrap().key, classifier.key);
        let a = plan.job("seed42/sample_quality/vae").unwrap();
        let b = longer.job("seed42/sample_quality/vae").unwrap();
        assert_ne!(a.key, b.key);
        assert_eq!(
            plan.job("seed42/samples/vae").unwrap().key,
            longer.job("seed42/samples/vae").unwrap().key
        );
    }

    #[test]
    fn a_quality_job_needs_the_classifiers_checkpoint_as_well_as_its_models() {
        let dir = tempfile::tempdir().unwrap();
        let e = experiment(BASE);
        let plan = Plan::new(&e, &e.variants).unwrap();
        let cache = Cache::new(&dir.path().join("out"), &dir.path().join("ckpt"), &plan);
        for job in &plan.jobs {
            cache.store(job, 1.0, &serde_json::Value::Null).unwrap();
        }
        let classifier = plan.job(names::CLASSIFIER).unwrap();
        assert_eq!(cache.finished_checkpoint(classifier), Some(false));
        assert!(!cache.is_fresh(classifier));
        let pending_names = |cache: &Cache| -> Vec<String> {
            let pending = plan.pending(cache);
            let jobs = plan.jobs.iter().zip(pending).filter(|(_, p)| *p);
            jobs.map(|(j, _)| j.name.clone()).collect()
        };
        assert!(pending_names(&cache).is_empty());
        let lost = plan.job("seed42/sample_quality/vae").unwrap();
        std::fs::remove_file(cache.result_path(lost)).unwrap();
        assert_eq!(
            pending_names(&cache),
            [
                "instrument/classifier",
                "seed42/train/vae_latent20",
                "seed42/sample_quality/vae"
            ]
        );
        // With the classifier's weights and record in place, only the model is retrained.
        let Task::Classifier {
            classifier: settings,
        } = &classifier.task
        else {
            panic!("the classifier job holds its settings");
        };
        let dir = cache.model_dir(classifier);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(run::CHECKPOINT_FILE), b"weights").unwrap();
        let mut record = classifier::ClassifierRecord {
            settings: settings.clone(),
            result: ae_results::quality::ClassifierResult {
                test_accuracy: 0.99,
                frechet_floor: 1.0,
                test_confidence: 0.99,
                test_class_entropy: 2.3,
                test_images: 10,
                train_images: 10,
                seed: 0,
                architecture: String::new(),
                train_losses: Vec::new(),
                train_seconds: 1.0,
            },
            engine_version: ae_models::ENGINE_VERSION,
            data: plan.data.clone(),
        };
        run::write_json(&dir.join(run::RECORD_FILE), &record).unwrap();
        assert!(cache.is_fresh(classifier));
        assert_eq!(
            pending_names(&cache),
            ["seed42/train/vae_latent20", "seed42/sample_quality/vae"]
        );
        // A classifier of other data is not reused.
        record.data = "other files".into();
        run::write_json(&dir.join(run::RECORD_FILE), &record).unwrap();
        assert_eq!(cache.finished_checkpoint(classifier), Some(false));
    }

    #[test]
    fn seeds_depend_on_study_seed_and_job_name_only() {
        assert_eq!(derive_seed(42, "a"), derive_seed(42, "a"));
        assert_ne!(derive_seed(42, "a"), derive_seed(42, "b"));
        assert_ne!(derive_seed(42, "a"), derive_seed(43, "a"));
    }
}
