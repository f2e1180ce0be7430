//! Task 5, anomaly detection: per-image reconstruction BCE as the score of a held-out digit,
//! and beside it the score the reference's published tables were computed with.
//!
//! The reference (tilman151/ae_bakeoff) scored with the signed sum over pixels of
//! `reconstruction - input` until commit b1f2d22 (2021-03-23, "Fix anomaly detection bug"):
//!
//! ```python
//! -        score = torch.sum((reconstruction - batch).view(batch_size, -1), dim=1)
//! +        score = torch.sum(self.score_func(reconstruction, batch).view(batch_size, -1), dim=1)
//! ```
//!
//! Its published AUCs predate the fix. [`anomaly_detection`] computes both scores from the
//! same reconstructions, so the two curves differ only in the score.

use ae_data::LabelledImages;
use ae_models::kernels::loss::{bce_per_image, sigmoid};
use ae_models::model::INFERENCE_CHUNK;
use ae_models::{LatentMode, Model};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::TaskError;
use crate::roc::{auc, roc_curve, RocCurve};

/// The digit left out of the anomaly models' training split.
pub const ANOMALOUS_DIGIT: u8 = 1;

/// How well the reconstruction error separates the anomalous digit from the rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyResult {
    /// The anomalous digit (the positive class).
    pub digit: u8,
    /// Area under the ROC curve of the BCE score, in [0, 1].
    pub auc: f64,
    /// The ROC curve of the BCE score.
    pub roc: RocCurve,
    /// Area under the ROC curve of the reference's pre-fix score ([`published_scores`]),
    /// the score behind its published AUCs; in [0, 1].
    pub published_auc: f64,
    /// The ROC curve of that score.
    pub published_roc: RocCurve,
}

/// Scores every test image by its reconstruction BCE summed over pixels (eval mode,
/// [`LatentMode::Sampled`] as the reference), positives being the images of
/// `anomalous_digit`, and returns the ROC curve and its AUC; and the same for the
/// reference's published score ([`published_scores`]) of the same reconstructions.
///
/// One forward pass in chunks of [`INFERENCE_CHUNK`] images, drawing the VAE family's noise
/// in the order [`Model::reconstruction_errors`] does, so the BCE scores are exactly its
/// scores for the same `rng`.
///
/// # Errors
/// If the model fails, the test set has no image of `anomalous_digit` or only such images,
/// or a score is not finite.
pub fn anomaly_detection(
    model: &dyn Model,
    test: &LabelledImages,
    anomalous_digit: u8,
    rng: &mut dyn RngCore,
) -> Result<AnomalyResult, TaskError> {
    let width = model.input_dim();
    let (mut scores, mut published) = (Vec::new(), Vec::new());
    for chunk in test.images.pixels.chunks(INFERENCE_CHUNK * width) {
        let z = model.latent_codes(chunk, LatentMode::Sampled, rng)?;
        let mut logits = model.decode_logits(&z)?;
        scores.extend(bce_per_image(&logits, chunk, width));
        logits.iter_mut().for_each(|v| *v = sigmoid(*v));
        published.extend(published_scores(&logits, chunk, width));
    }
    let positive: Vec<bool> = test.labels.iter().map(|&l| l == anomalous_digit).collect();
    Ok(AnomalyResult {
        digit: anomalous_digit,
        auc: auc(&scores, &positive)?,
        roc: roc_curve(&scores, &positive)?,
        published_auc: auc(&published, &positive)?,
        published_roc: roc_curve(&published, &positive)?,
    })
}

/// The reference's pre-fix anomaly score of each image: the signed sum over its `pixels`
/// values of `reconstruction - input` (both row-major, one image per row of `pixels`
/// values). Summed in `f64` and rounded to `f32`, the type [`crate::roc`] ranks (PyTorch
/// summed in `f32`).
///
/// # Panics
/// If `pixels == 0` or the two slices differ in length.
pub fn published_scores(reconstructions: &[f32], inputs: &[f32], pixels: usize) -> Vec<f32> {
    assert!(pixels > 0, "images need at least one pixel");
    assert_eq!(
        reconstructions.len(),
        inputs.len(),
        "one reconstruction per input"
    );
    reconstructions
        .chunks_exact(pixels)
        .zip(inputs.chunks_exact(pixels))
        .map(|(r, x)| {
            r.iter()
                .zip(x)
                .map(|(&r, &x)| f64::from(r) - f64::from(x))
                .sum::<f64>() as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ae_data::{Images, INPUT_DIM};
    use ae_models::{backend, variants, Backend};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn published_score_is_the_signed_pixel_sum() {
        // Two 2x2 images.
        // Image 0: input [0, 1, 0.5, 0.25], reconstruction [0.25, 0.5, 0.5, 0.75]
        //   differences 0.25 - 0.5 + 0 + 0.5 = 0.25.
        // Image 1: input [1, 1, 1, 1], reconstruction [0.5, 0.75, 1, 0]
        //   differences -0.5 - 0.25 + 0 - 1 = -1.75 (negative: a BCE sum never is).
        let inputs = [0.0, 1.0, 0.5, 0.25, 1.0, 1.0, 1.0, 1.0];
        let reconstructions = [0.25, 0.5, 0.5, 0.75, 0.5, 0.75, 1.0, 0.0];
        assert_eq!(
            published_scores(&reconstructions, &inputs, 4),
            vec![0.25, -1.75]
        );
        // A perfect reconstruction scores 0.
        assert_eq!(published_scores(&inputs, &inputs, 4), vec![0.0, 0.0]);
    }

    #[test]
    fn both_scores_come_from_one_pass_and_bce_is_unchanged() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let variant = variants::by_name("vae").unwrap();
        let width = INPUT_DIM;
        let model = backend::build(&variant, 2, width, Backend::Fused, &mut rng).unwrap();
        let n = 40;
        let pixels: Vec<f32> = (0..n * width)
            .map(|i| ((i * 7919) % 101) as f32 / 100.0)
            .collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 4) as u8).collect();
        let test = LabelledImages {
            images: Images::from_pixels(pixels.clone()),
            labels: labels.clone(),
        };
        let result =
            anomaly_detection(&*model, &test, 1, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
        assert_eq!(result.digit, 1);
        // The BCE scores are exactly reconstruction_errors' with the same noise.
        let expected = model
            .reconstruction_errors(
                &pixels,
                LatentMode::Sampled,
                &mut ChaCha8Rng::seed_from_u64(9),
            )
            .unwrap();
        let positive: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
        assert_eq!(result.auc, auc(&expected, &positive).unwrap());
        assert_eq!(result.roc, roc_curve(&expected, &positive).unwrap());
        // The published score of the same (sampled) reconstructions.
        let reconstructions = model
            .reconstruct(
                &pixels,
                LatentMode::Sampled,
                &mut ChaCha8Rng::seed_from_u64(9),
            )
            .unwrap();
        let published = published_scores(&reconstructions, &pixels, width);
        assert_eq!(result.published_auc, auc(&published, &positive).unwrap());
        assert_eq!(
            result.published_roc,
            roc_curve(&published, &positive).unwrap()
        );
        assert!((result.published_roc.trapezoid_area() - result.published_auc).abs() < 1e-12);
    }
}
