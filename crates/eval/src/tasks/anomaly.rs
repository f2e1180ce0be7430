//! Task 5, anomaly detection: per-image reconstruction BCE as the score of a held-out digit.

use ae_data::LabelledImages;
use ae_models::{Autoencoder, LatentMode};
use rand::RngCore;
use serde::Serialize;

use crate::roc::{auc, roc_curve, RocCurve, RocError};

/// The digit left out of the anomaly models' training split.
pub const ANOMALOUS_DIGIT: u8 = 1;

/// How well the reconstruction error separates the anomalous digit from the rest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnomalyResult {
    /// Area under the ROC curve, in [0, 1].
    pub auc: f64,
    /// The ROC curve.
    pub roc: RocCurve,
}

/// Scores every test image by its reconstruction BCE summed over pixels (eval mode,
/// [`LatentMode::Sampled`] as the reference), positives being the images of
/// `anomalous_digit`, and returns the ROC curve and its AUC.
///
/// # Errors
/// If the test set has no image of `anomalous_digit` or only such images, or a score is not
/// finite.
pub fn anomaly_detection(
    model: &mut Autoencoder,
    test: &LabelledImages,
    anomalous_digit: u8,
    rng: &mut dyn RngCore,
) -> Result<AnomalyResult, RocError> {
    let scores = model.reconstruction_errors(&test.images.pixels, LatentMode::Sampled, rng);
    let positive: Vec<bool> = test.labels.iter().map(|&l| l == anomalous_digit).collect();
    Ok(AnomalyResult {
        auc: auc(&scores, &positive)?,
        roc: roc_curve(&scores, &positive)?,
    })
}
