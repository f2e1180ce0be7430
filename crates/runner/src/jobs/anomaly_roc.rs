//! Task 5 jobs: the anomaly model's per-image BCE as a detector of the left-out digit, and
//! beside it the reference's published (pre-fix) score of the same reconstructions.

use ae_data::LabelledImages;
use ae_models::Autoencoder;
use anyhow::Result;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// A ROC curve as stored (the eval crate's `RocCurve`, readable back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Roc {
    /// False positive rates.
    pub fpr: Vec<f64>,
    /// True positive rates.
    pub tpr: Vec<f64>,
    /// Thresholds; the first (+inf) is `None`.
    pub thresholds: Vec<Option<f64>>,
}

impl Roc {
    /// The stored form of the eval crate's curve (the leading +inf threshold as `None`).
    pub fn from_curve(curve: ae_eval::roc::RocCurve) -> Self {
        Self {
            thresholds: curve
                .thresholds
                .iter()
                .map(|t| t.is_finite().then_some(*t))
                .collect(),
            fpr: curve.fpr,
            tpr: curve.tpr,
        }
    }

    /// The eval crate's curve, for drawing.
    pub fn to_curve(&self) -> ae_eval::roc::RocCurve {
        ae_eval::roc::RocCurve {
            fpr: self.fpr.clone(),
            tpr: self.tpr.clone(),
            thresholds: self
                .thresholds
                .iter()
                .map(|t| t.unwrap_or(f64::INFINITY))
                .collect(),
        }
    }
}

/// The resolution of a stored curve (see [`ae_eval::roc::RocCurve::thinned`]): at most
/// about 1,000 points instead of one per distinct test score, invisible at the figures' size.
pub const ROC_RESOLUTION: f64 = 0.002;

/// Result of an anomaly job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyRoc {
    /// The anomalous digit.
    pub digit: u8,
    /// Area under the curve of the BCE score.
    pub auc: f64,
    /// The curve of the BCE score, thinned to [`ROC_RESOLUTION`].
    pub roc: Roc,
    /// Area under the curve of the reference's published score (signed sum of
    /// reconstruction - input, before its commit b1f2d22), the score behind its published
    /// AUCs.
    pub published_auc: f64,
    /// The curve of the published score, thinned to [`ROC_RESOLUTION`].
    pub published_roc: Roc,
}

/// Scores the test images by reconstruction BCE and by the published score, positives
/// being `digit`.
pub fn run(
    model: &mut Autoencoder,
    test: &LabelledImages,
    digit: u8,
    rng: &mut dyn RngCore,
) -> Result<AnomalyRoc> {
    let r = ae_eval::tasks::anomaly_detection(model, test, digit, rng)?;
    Ok(AnomalyRoc {
        digit,
        auc: r.auc,
        roc: Roc::from_curve(r.roc.thinned(ROC_RESOLUTION)),
        published_auc: r.published_auc,
        published_roc: Roc::from_curve(r.published_roc.thinned(ROC_RESOLUTION)),
    })
}
