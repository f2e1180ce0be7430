//! Running one job of the plan: one module per kind, each a function from a trained model
//! (or none, for the baselines) and the evaluation images to a serialisable result. Nothing
//! here draws or prints; the tables, figures and report are made from the cached results.

pub mod anomaly_roc;
pub mod baselines;
pub mod classifier;
pub mod interpolation;
pub mod interpolation_quality;
pub mod latent_structure;
pub mod linear_probe;
pub mod reconstruction;
pub mod sample_quality;
pub mod samples;
pub mod train;

use ae_data::{Dataset, LabelledImages};
use ae_models::classifier::Classifier;
use ae_models::{Model, TrainingObserver};
use ae_results::job_result::JobResult;
use anyhow::{Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::experiment::Experiment;
use crate::plan::{Cache, Job, Plan, Task};
use crate::run;

/// The images the jobs of a study use, loaded once per invocation (and only when some job
/// has to run).
#[derive(Debug)]
pub struct EvalData {
    /// The whole dataset (the training jobs select their own split from it).
    pub dataset: Dataset,
    /// Test images of the downstream tasks (the first `evaluation.test_subset`, or all): the
    /// same for every seed.
    pub test: LabelledImages,
    /// The probe's sets of each seed (each seed permutes the split anew).
    seeds: Vec<(u64, SeedSets)>,
}

/// The probe's images of one seed's split.
#[derive(Debug)]
struct SeedSets {
    /// The probe's validation images (the validation split, or its first
    /// `evaluation.validation_subset`).
    validation: LabelledImages,
    /// The probe's labelled training images (the split's 550).
    labelled: LabelledImages,
}

impl EvalData {
    /// Loads the experiment's dataset and selects the evaluation sets of every seed.
    pub fn load(experiment: &Experiment) -> Result<Self> {
        let name = experiment.dataset_name()?;
        let dataset = ae_data::load_dataset(name, experiment.data_dir.as_deref())
            .with_context(|| format!("loading dataset `{name}`"))?;
        let e = &experiment.evaluation;
        let test_len = e
            .test_subset
            .map_or(dataset.test.len(), |n| n.min(dataset.test.len()));
        let test = dataset.test.select(&(0..test_len).collect::<Vec<_>>());
        let seeds = experiment
            .seeds
            .iter()
            .map(|&seed| {
                let split = ae_data::split(dataset.train.len(), seed);
                let validation_indices: Vec<usize> = split
                    .validation
                    .iter()
                    .copied()
                    .take(e.validation_subset.unwrap_or(usize::MAX))
                    .collect();
                let sets = SeedSets {
                    validation: dataset.train.select(&validation_indices),
                    labelled: dataset.train.select(&split.labelled),
                };
                (seed, sets)
            })
            .collect();
        Ok(Self {
            dataset,
            test,
            seeds,
        })
    }

    /// The probe's three sets of `seed`'s split.
    ///
    /// # Errors
    /// If `seed` is not one of the experiment's seeds.
    pub fn probe_data(&self, seed: u64) -> Result<ae_eval::tasks::ProbeData<'_>> {
        let (_, sets) = self
            .seeds
            .iter()
            .find(|(s, _)| *s == seed)
            .with_context(|| format!("seed {seed} is not one of the experiment's seeds"))?;
        Ok(ae_eval::tasks::ProbeData {
            train: &sets.labelled,
            validation: &sets.validation,
            test: &self.test,
        })
    }
}

/// Everything a job needs besides its own settings.
pub struct JobContext<'a> {
    /// The study.
    pub experiment: &'a Experiment,
    /// The plan the job belongs to.
    pub plan: &'a Plan,
    /// The cache (run directories live there too).
    pub cache: &'a Cache,
    /// The evaluation images.
    pub data: &'a EvalData,
    /// Train again even if a finished run with the same settings exists.
    pub retrain: bool,
}

impl JobContext<'_> {
    /// The trained model of `job`'s `index`-th dependency (a training job), in the backend
    /// that trained it.
    fn model(&self, job: &Job, index: usize) -> Result<Box<dyn Model>> {
        let dep = &self.plan.jobs[job.deps[index]];
        let Task::Train { .. } = &dep.task else {
            anyhow::bail!("{} depends on {}, which trains nothing", job.name, dep.name);
        };
        let dir = self.cache.model_dir(dep);
        let (_, model) =
            run::load_run(&dir).with_context(|| format!("loading the model of {}", dep.name))?;
        Ok(model)
    }

    /// The instrument classifier of `job`'s `index`-th dependency (the classifier job).
    fn classifier(&self, job: &Job, index: usize) -> Result<Classifier> {
        let dep = &self.plan.jobs[job.deps[index]];
        let Task::Classifier {
            classifier: settings,
        } = &dep.task
        else {
            anyhow::bail!(
                "{} depends on {}, which is no classifier",
                job.name,
                dep.name
            );
        };
        classifier::load(&self.cache.model_dir(dep), settings)
    }
}

/// Runs `job` and returns its result; training reports its batches to `observer`.
pub fn run_job(
    job: &Job,
    ctx: &JobContext<'_>,
    observer: &mut dyn TrainingObserver,
) -> Result<JobResult> {
    let mut rng = ChaCha8Rng::seed_from_u64(job.rng_seed());
    let data = ctx.data;
    let value = match &job.task {
        Task::Train { run } => JobResult::Train(train::run(ctx, job, run, observer)?),
        Task::Reconstruction { .. } => {
            let model = ctx.model(job, 0)?;
            JobResult::Reconstruction(reconstruction::run(&*model, &data.test, &mut rng)?)
        }
        Task::Samples { count, .. } => {
            let model = ctx.model(job, 0)?;
            JobResult::Samples(samples::run(&*model, *count, &mut rng)?)
        }
        Task::Interpolation {
            from, to, steps, ..
        } => {
            let model = ctx.model(job, 0)?;
            JobResult::Interpolation(interpolation::run(
                &*model, &data.test, *from, *to, *steps, &mut rng,
            )?)
        }
        Task::LatentStructure {
            max_points,
            reduction,
            ..
        } => {
            let model = ctx.model(job, 0)?;
            let seed = job.rng_seed();
            let result = latent_structure::run(
                &*model,
                &data.test,
                *max_points,
                *reduction,
                seed,
                &mut rng,
            )?;
            JobResult::LatentStructure(result)
        }
        Task::AnomalyRoc { digit, .. } => {
            let model = ctx.model(job, 0)?;
            JobResult::AnomalyRoc(anomaly_roc::run(&*model, &data.test, *digit, &mut rng)?)
        }
        Task::LinearProbe { probe, .. } => {
            let model = ctx.model(job, 0)?;
            let result = linear_probe::run(
                &*model,
                &data.probe_data(job.seed)?,
                &probe.config(),
                &probe.converged_config(),
                &mut rng,
            )?;
            JobResult::LinearProbe(result)
        }
        Task::RandomEncoder { probe } => JobResult::RandomEncoder(baselines::random_encoder(
            &data.probe_data(job.seed)?,
            &probe.config(),
            &probe.converged_config(),
            &mut rng,
        )?),
        Task::Supervised { probe } => JobResult::Supervised(baselines::supervised(
            &data.probe_data(job.seed)?,
            &probe.config(),
            &mut rng,
        )),
        Task::Classifier { classifier } => {
            JobResult::Classifier(classifier::run(ctx, job, classifier)?)
        }
        Task::SampleQuality { draws, .. } => {
            let (model, classifier) = (ctx.model(job, 0)?, ctx.classifier(job, 1)?);
            let result = sample_quality::run(&*model, &classifier, &data.test, *draws, &mut rng)?;
            JobResult::SampleQuality(result)
        }
        Task::DeadUnits { .. } => {
            let model = ctx.model(job, 0)?;
            JobResult::DeadUnits(ae_eval::tasks::dead_units(
                &*model,
                &data.test.images,
                &mut rng,
            )?)
        }
        Task::InterpolationQuality { pairs, steps, .. } => {
            let (model, classifier) = (ctx.model(job, 0)?, ctx.classifier(job, 1)?);
            let result = interpolation_quality::run(
                &*model,
                &classifier,
                &data.test,
                *pairs,
                *steps,
                &mut rng,
            )?;
            JobResult::InterpolationQuality(result)
        }
    };
    Ok(value)
}
