//! The numbers a variant has once per seed and that the tables, findings, figures and report
//! compare: each named once here, with where it lives in the results, so that no other module
//! spells a path into a result.

use crate::study_results::{SeedResults, VariantResults};

/// One per-seed number of a variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Task 1: mean test BCE, the latent formed as the reference does (sampled for the VAE
    /// family).
    TestBce,
    /// Task 1: mean test BCE from the mean latent (VAE family only).
    TestBceMeanLatent,
    /// Task 6: probe test accuracy under the reference's protocol (Adam, early stopping).
    ReferenceProbe,
    /// Task 6: probe test accuracy of the converged logistic regression.
    ConvergedProbe,
    /// Task 5: AUC of the per-image BCE score, this class held out.
    Auc(u8),
    /// Task 5: AUC of the reference's published (pre-fix) score, this class held out.
    PublishedAuc(u8),
    /// Task 2 measured: the classifier's mean confidence on the samples.
    SampleConfidence,
    /// Task 2 measured: Fréchet classifier distance of the samples to the test images.
    FrechetDistance,
    /// Task 2 measured: entropy of the samples' predicted classes, nats.
    SampleClassEntropy,
    /// Task 3 measured: the classifier's mean confidence on the inner frames.
    InnerFrameConfidence,
    /// Task 3 measured: the largest step between frames, as a share of the path's length.
    LargestStep,
    /// Latent units of the general model that are 0 on every test image.
    DeadUnits,
    /// Task 4: Hungarian-matched accuracy of k-means on the general model's test codes.
    ClusteringAccuracy,
}

impl Metric {
    /// The metric's value for `v`, if `v` has the result it comes from.
    pub fn of(self, v: &VariantResults) -> Option<f64> {
        match self {
            Self::TestBce => v.reconstruction.as_ref().map(|r| r.mean_bce),
            Self::TestBceMeanLatent => v.reconstruction.as_ref()?.mean_bce_mean_latent,
            Self::ReferenceProbe => v.probe.as_ref().map(|p| p.sampled.test_accuracy),
            Self::ConvergedProbe => v.probe.as_ref().map(|p| p.converged.test_accuracy),
            Self::Auc(digit) => v.anomaly_for(digit).map(|a| a.auc),
            Self::PublishedAuc(digit) => v.anomaly_for(digit).map(|a| a.published_auc),
            Self::SampleConfidence => v.sample_quality.as_ref().map(|q| q.mean_confidence),
            Self::FrechetDistance => v.sample_quality.as_ref().map(|q| q.frechet_distance),
            Self::SampleClassEntropy => v.sample_quality.as_ref().map(|q| q.class_entropy),
            Self::InnerFrameConfidence => v
                .interpolation_quality
                .as_ref()
                .map(|q| q.mean_inner_confidence),
            Self::LargestStep => v
                .interpolation_quality
                .as_ref()
                .map(|q| q.max_step_fraction),
            Self::DeadUnits => v.dead_units.as_ref().map(|d| d.dead as f64),
            Self::ClusteringAccuracy => v.latent_general.as_ref().map(|l| l.clustering.accuracy),
        }
    }

    /// The metric's value for the seed's `random_encoder` baseline, where the baseline has
    /// it (the probe accuracies).
    pub fn of_random_encoder(self, seed: &SeedResults) -> Option<f64> {
        let r = seed.random_encoder.as_ref()?;
        match self {
            Self::ReferenceProbe => Some(r.reference.test_accuracy),
            Self::ConvergedProbe => Some(r.converged.test_accuracy),
            _ => None,
        }
    }
}
