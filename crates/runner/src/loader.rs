//! The loader: every job's stored result read back from the store into the
//! [`StudyResults`] the tables, figures and report are made from (nothing is recomputed
//! here). A result says its kind; where it belongs (which seed, variant and held-out class)
//! comes from its job in the plan.

use anyhow::{Context, Result};

use ae_results::job_result::JobResult;
use ae_results::study_results::{JobTiming, SeedResults, StudyResults, VariantResults};

use crate::experiment::Experiment;
use crate::plan::{Cache, Job, Plan, Task};

/// Reads the current result of every job of `plan` from `cache` (stale or missing
/// results are `None`).
///
/// # Errors
/// If a result stored under its job's current key does not read as its job's type: that
/// is a bug or a damaged file, never a silent gap.
pub fn load(experiment: &Experiment, plan: &Plan, cache: &Cache) -> Result<StudyResults> {
    let primary = experiment.anomaly.primary_digit();
    let mut seeds: Vec<SeedResults> = plan
        .seeds
        .iter()
        .map(|&seed| SeedResults {
            seed,
            variants: plan
                .variants
                .iter()
                .map(|v| VariantResults {
                    variant: v.clone(),
                    held_out: experiment
                        .anomaly
                        .digits
                        .iter()
                        .filter(|d| experiment.anomaly.digits_for(seed).contains(d))
                        .map(|&d| (d, None))
                        .collect(),
                    ..VariantResults::default()
                })
                .collect(),
            random_encoder: None,
            supervised: None,
        })
        .collect();
    let mut jobs = Vec::with_capacity(plan.jobs.len());
    let mut classifier = None;
    for job in &plan.jobs {
        let cached = cache.load::<serde_json::Value>(job)?;
        let path = cache.result_path(job);
        jobs.push(JobTiming {
            job: job.name.clone(),
            key: job.key.clone(),
            file: path
                .strip_prefix(&cache.store)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned(),
            seconds: cached.as_ref().map(|c| c.seconds),
        });
        let Some(cached) = cached else { continue };
        let result = JobResult::from_stored(job.task.result_kind(), cached.result)
            .with_context(|| format!("reading the cached result of {}", job.name))?;
        let result = match result {
            // The study's one classifier belongs to no seed.
            JobResult::Classifier(result) => {
                classifier = Some(result);
                continue;
            }
            result => result,
        };
        let seed = seeds
            .iter_mut()
            .find(|s| s.seed == job.seed)
            .expect("the plan's seeds");
        let variant = job
            .variant()
            .and_then(|name| seed.variants.iter_mut().find(|v| v.variant == name));
        match (result, variant) {
            (JobResult::RandomEncoder(result), _) => seed.random_encoder = Some(result),
            (JobResult::Supervised(result), _) => seed.supervised = Some(result),
            (result, Some(v)) => file(v, plan, job, result, primary),
            (_, None) => {}
        }
    }
    Ok(StudyResults {
        study: experiment.study(),
        variants: plan.variants.clone(),
        seeds,
        jobs,
        classifier,
    })
}

/// Puts `result`, of `job` of `plan`, in its place in `v` (a training run or latent
/// structure of an anomaly model other than the primary held-out class's has none).
fn file(v: &mut VariantResults, plan: &Plan, job: &Job, result: JobResult, primary: u8) {
    // Which training run a job reads: `None` for the general model, else its held-out
    // class.
    let held_out = |job: &Job| match &job.task {
        Task::Train { run } => run.exclude_digit,
        _ => None,
    };
    match result {
        JobResult::Train(result) => match held_out(job) {
            None => v.train_general = Some(result),
            Some(d) if d == primary => v.train_anomaly = Some(result),
            Some(_) => {}
        },
        JobResult::LatentStructure(result) => {
            match job.deps.first().and_then(|&d| held_out(&plan.jobs[d])) {
                None => v.latent_general = Some(result),
                Some(d) if d == primary => v.latent_anomaly = Some(result),
                Some(_) => {}
            }
        }
        JobResult::Reconstruction(result) => v.reconstruction = Some(result),
        JobResult::Samples(result) => v.samples = Some(result),
        JobResult::Interpolation(result) => v.interpolation = Some(result),
        JobResult::AnomalyRoc(result) => {
            if let Task::AnomalyRoc { digit, .. } = &job.task {
                if let Some(slot) = v.held_out.iter_mut().find(|(d, _)| d == digit) {
                    slot.1 = Some(result);
                }
            }
        }
        JobResult::LinearProbe(result) => v.probe = Some(result),
        JobResult::SampleQuality(result) => v.sample_quality = Some(result.quality),
        JobResult::InterpolationQuality(result) => {
            v.interpolation_quality = Some(result.quality);
        }
        JobResult::DeadUnits(result) => v.dead_units = Some(result),
        // The study's and each seed's own results are filed by `load`.
        JobResult::Classifier(_) | JobResult::RandomEncoder(_) | JobResult::Supervised(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_results_without_a_kind_still_load() {
        // The committed MNIST study's files predate the kind: every one of its jobs' results
        // of the first seed must read as its task's type.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let experiment = Experiment::load(&root.join("experiments/mnist.toml")).unwrap();
        let plan = Plan::new(&experiment, &experiment.variants).unwrap();
        let store = root.join("results/store");
        let cache = Cache::new(&store, &store.join("checkpoints"), &plan);
        let mut read = 0;
        for job in plan.jobs.iter().filter(|j| j.seed == 42) {
            let cached = cache
                .load::<serde_json::Value>(job)
                .unwrap()
                .unwrap_or_else(|| panic!("{} has no committed result", job.name));
            assert!(cached.result.get("kind").is_none(), "{}", job.name);
            JobResult::from_stored(job.task.result_kind(), cached.result)
                .unwrap_or_else(|e| panic!("{}: {e:#}", job.name));
            read += 1;
        }
        assert!(read > 100, "{read}");
    }
}
