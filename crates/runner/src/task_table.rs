//! The downstream tasks of one variant, described once: the job name, the trained model a
//! task reads, which variants have it, and its settings. The plan builds each variant's jobs
//! from [`DOWNSTREAM`], so a new task is one row here, its job module, and its result type in
//! [`ae_results::job_result::JobResult`] with the field the loader files it into.

use ae_models::Capabilities;

use crate::experiment::Experiment;
use crate::plan::{names, Task};

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
    },
    DownstreamTask {
        kind: "samples",
        reads: Reads::General,
        applies: |c| c.can_sample,
        task: |e, variant, _| Task::Samples {
            variant: variant.into(),
            count: e.evaluation.samples,
        },
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
    },
    DownstreamTask {
        kind: "latent_general",
        reads: Reads::General,
        applies: every,
        task: |e, variant, _| latent(e, variant, e.general.latent_dim),
    },
    DownstreamTask {
        kind: "latent_anomaly",
        reads: Reads::PrimaryHeldOut,
        applies: every,
        task: |e, variant, _| latent(e, variant, e.anomaly.latent_dim),
    },
    DownstreamTask {
        kind: "linear_probe",
        reads: Reads::General,
        applies: every,
        task: |e, variant, _| Task::LinearProbe {
            variant: variant.into(),
            probe: e.probe.clone(),
        },
    },
    DownstreamTask {
        kind: "anomaly_roc",
        reads: Reads::EachHeldOut,
        applies: every,
        task: |_, variant, digit| Task::AnomalyRoc {
            variant: variant.into(),
            digit,
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
    },
    DownstreamTask {
        kind: "dead_units",
        reads: Reads::General,
        applies: every,
        task: |_, variant, _| Task::DeadUnits {
            variant: variant.into(),
        },
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
        }
        let of_kind = |kind: &str| DOWNSTREAM.iter().find(|t| t.kind == kind).unwrap();
        assert_eq!(
            of_kind("anomaly_roc").name("vq", 3),
            "anomaly_roc/vq_digit3"
        );
        let samples = of_kind("samples");
        let deterministic = Capabilities {
            can_sample: false,
            stochastic_latent: false,
        };
        assert!(!(samples.applies)(&deterministic));
    }
}
