//! The downstream tasks of one variant, described once: the job name, the trained model a
//! task reads, which variants have it, its settings, and where its result goes. The plan
//! builds each variant's jobs from [`DOWNSTREAM`] and the results loader files each result by
//! it, so a new task is one row here (and its job module and result field).

use ae_models::Capabilities;
use serde::de::DeserializeOwned;

use crate::experiment::Experiment;
use crate::plan::{names, Task};
use crate::results::VariantResults;

/// Which of a variant's trained models a task reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// The general model (latent `general.latent_dim`, whole training split).
    General,
    /// The anomaly model of the primary held-out class.
    PrimaryHeldOut,
    /// Each anomaly model, one job per held-out class.
    EachHeldOut,
    /// The general model, judged by the instrument classifier (the study's one
    /// `instrument/classifier` job).
    GeneralAndClassifier,
}

/// One downstream task of a variant.
pub struct DownstreamTask {
    /// First part of the job name: `reconstruction` gives `seed42/reconstruction/vae`.
    pub kind: &'static str,
    /// The model it reads.
    pub reads: Reads,
    /// Whether a variant with these capabilities has the task.
    pub applies: fn(&Capabilities) -> bool,
    /// The task with its settings, for a variant and a held-out class (ignored unless the
    /// task reads an anomaly model).
    pub task: fn(&Experiment, &str, u8) -> Task,
    /// Files a result of the task into the variant's results.
    pub store: fn(&mut VariantResults, &Task, serde_json::Value) -> serde_json::Result<()>,
}

impl DownstreamTask {
    /// The job's task name (without the seed) for `variant` and held-out class `digit`.
    pub fn name(&self, variant: &str, digit: u8) -> String {
        match self.reads {
            Reads::EachHeldOut => names::anomaly_roc(variant, digit),
            Reads::General | Reads::PrimaryHeldOut | Reads::GeneralAndClassifier => {
                names::task(self.kind, variant)
            }
        }
    }

    /// The task a job name's first part names.
    pub fn of_kind(kind: &str) -> Option<&'static DownstreamTask> {
        DOWNSTREAM.iter().find(|t| t.kind == kind)
    }
}

fn into<T: DeserializeOwned>(
    slot: &mut Option<T>,
    value: serde_json::Value,
) -> serde_json::Result<()> {
    *slot = Some(serde_json::from_value(value)?);
    Ok(())
}

fn every(_: &Capabilities) -> bool {
    true
}

fn latent(e: &Experiment, variant: &str, latent_dim: usize) -> Task {
    Task::LatentStructure {
        variant: variant.into(),
        latent_dim,
        max_points: e.evaluation.tsne_points,
        reduction: e.evaluation.reduction,
    }
}

/// Every downstream task, in the order a variant's jobs run.
pub const DOWNSTREAM: [DownstreamTask; 10] = [
    DownstreamTask {
        kind: "reconstruction",
        reads: Reads::General,
        applies: every,
        task: |_, variant, _| Task::Reconstruction {
            variant: variant.into(),
        },
        store: |v, _, x| into(&mut v.reconstruction, x),
    },
    DownstreamTask {
        kind: "samples",
        reads: Reads::General,
        applies: |c| c.can_sample,
        task: |e, variant, _| Task::Samples {
            variant: variant.into(),
            count: e.evaluation.samples,
        },
        store: |v, _, x| into(&mut v.samples, x),
    },
    DownstreamTask {
        kind: "interpolation",
        reads: Reads::General,
        applies: every,
        task: |e, variant, _| Task::Interpolation {
            variant: variant.into(),
            from: e.evaluation.interpolation_from,
            to: e.evaluation.interpolation_to,
            steps: e.evaluation.interpolation_steps,
        },
        store: |v, _, x| into(&mut v.interpolation, x),
    },
    DownstreamTask {
        kind: "latent_general",
        reads: Reads::General,
        applies: every,
        task: |e, variant, _| latent(e, variant, e.general.latent_dim),
        store: |v, _, x| into(&mut v.latent_general, x),
    },
    DownstreamTask {
        kind: "latent_anomaly",
        reads: Reads::PrimaryHeldOut,
        applies: every,
        task: |e, variant, _| latent(e, variant, e.anomaly.latent_dim),
        store: |v, _, x| into(&mut v.latent_anomaly, x),
    },
    DownstreamTask {
        kind: "linear_probe",
        reads: Reads::General,
        applies: every,
        task: |e, variant, _| Task::LinearProbe {
            variant: variant.into(),
            probe: e.probe.clone(),
        },
        store: |v, _, x| into(&mut v.probe, x),
    },
    DownstreamTask {
        kind: "anomaly_roc",
        reads: Reads::EachHeldOut,
        applies: every,
        task: |_, variant, digit| Task::AnomalyRoc {
            variant: variant.into(),
            digit,
        },
        store: |v, task, x| {
            let Task::AnomalyRoc { digit, .. } = task else {
                unreachable!("anomaly_roc jobs hold Task::AnomalyRoc");
            };
            match v.held_out.iter_mut().find(|(d, _)| d == digit) {
                Some(slot) => into(&mut slot.1, x),
                None => Ok(()),
            }
        },
    },
    DownstreamTask {
        kind: "sample_quality",
        reads: Reads::GeneralAndClassifier,
        applies: |c| c.can_sample,
        task: |e, variant, _| Task::SampleQuality {
            variant: variant.into(),
            draws: e.quality.sample_draws,
        },
        store: |v, _, x| into(&mut v.sample_quality, x),
    },
    DownstreamTask {
        kind: "interpolation_quality",
        reads: Reads::GeneralAndClassifier,
        applies: every,
        task: |e, variant, _| Task::InterpolationQuality {
            variant: variant.into(),
            pairs: e.quality.interpolation_pairs,
            steps: e.evaluation.interpolation_steps,
        },
        store: |v, _, x| into(&mut v.interpolation_quality, x),
    },
    DownstreamTask {
        kind: "dead_units",
        reads: Reads::General,
        applies: every,
        task: |_, variant, _| Task::DeadUnits {
            variant: variant.into(),
        },
        store: |v, _, x| into(&mut v.dead_units, x),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_unique_and_every_task_names_its_variant() {
        for (i, t) in DOWNSTREAM.iter().enumerate() {
            assert!(
                DOWNSTREAM[..i].iter().all(|u| u.kind != t.kind),
                "{}",
                t.kind
            );
            assert!(t.name("vq", 3).starts_with(t.kind), "{}", t.name("vq", 3));
            assert_eq!(
                DownstreamTask::of_kind(t.kind).map(|u| u.kind),
                Some(t.kind)
            );
        }
        let roc = DownstreamTask::of_kind("anomaly_roc").unwrap();
        assert_eq!(roc.name("vq", 3), "anomaly_roc/vq_digit3");
        let samples = DownstreamTask::of_kind("samples").unwrap();
        let deterministic = Capabilities {
            can_sample: false,
            stochastic_latent: false,
        };
        assert!(!(samples.applies)(&deterministic));
    }
}
