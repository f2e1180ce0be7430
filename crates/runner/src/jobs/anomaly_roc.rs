//! Task 5 jobs: the anomaly model's per-image BCE as a detector of the left-out digit.

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

/// Result of an anomaly job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyRoc {
    /// The anomalous digit.
    pub digit: u8,
    /// Area under the curve.
    pub auc: f64,
    /// The curve.
    pub roc: Roc,
}

/// Scores the test images by reconstruction BCE, positives being `digit`.
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
        roc: Roc {
            thresholds: r
                .roc
                .thresholds
                .iter()
                .map(|t| t.is_finite().then_some(*t))
                .collect(),
            fpr: r.roc.fpr,
            tpr: r.roc.tpr,
        },
    })
}
