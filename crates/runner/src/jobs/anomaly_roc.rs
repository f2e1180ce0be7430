//! Task 5 jobs: the anomaly model's per-image BCE as a detector of the left-out digit, and
//! beside it the reference's published (pre-fix) score of the same reconstructions.

use ae_data::LabelledImages;
use ae_eval::tasks::AnomalyResult;
use ae_models::Model;
use anyhow::Result;
use rand::RngCore;

/// The resolution of a stored curve (see [`ae_eval::roc::RocCurve::thinned`]): at most
/// about 1,000 points instead of one per distinct test score, invisible at the figures' size.
pub const ROC_RESOLUTION: f64 = 0.002;

/// Scores the test images by reconstruction BCE and by the published score, positives
/// being `digit`; both curves thinned to [`ROC_RESOLUTION`] (the AUCs come from the full
/// curves).
///
/// # Errors
/// If the model fails or the scores make no ROC curve.
pub fn run(
    model: &dyn Model,
    test: &LabelledImages,
    digit: u8,
    rng: &mut dyn RngCore,
) -> Result<AnomalyResult> {
    let r = ae_eval::tasks::anomaly_detection(model, test, digit, rng)?;
    Ok(AnomalyResult {
        roc: r.roc.thinned(ROC_RESOLUTION),
        published_roc: r.published_roc.thinned(ROC_RESOLUTION),
        ..r
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ae_data::{Images, INPUT_DIM};
    use ae_models::{backend, variants, Backend};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn a_stored_result_reads_back_as_the_eval_type_unchanged() {
        // The form the runner has always stored (the leading +inf threshold as null, keys
        // sorted): it reads as the eval crate's type and writes back identically.
        let stored = serde_json::json!({
            "auc": 0.75,
            "digit": 1,
            "published_auc": 0.5,
            "published_roc": {"fpr": [0.0, 0.5, 1.0], "thresholds": [null, 0.25, -1.5], "tpr": [0.0, 1.0, 1.0]},
            "roc": {"fpr": [0.0, 0.0, 1.0], "thresholds": [null, 310.5, 120.25], "tpr": [0.0, 1.0, 1.0]}
        });
        let result: AnomalyResult = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(result.digit, 1);
        assert_eq!(result.roc.thresholds, [f64::INFINITY, 310.5, 120.25]);
        assert_eq!(serde_json::to_value(&result).unwrap(), stored);
        // A threshold that fails to load is an error, never a silent +inf.
        let mut broken = stored;
        broken["roc"]["thresholds"][1] = "high".into();
        let err = serde_json::from_value::<AnomalyResult>(broken).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }

    #[test]
    fn stored_curves_are_thinned_and_the_aucs_come_from_the_full_curves() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let variant = variants::by_name("vanilla").unwrap();
        let model = backend::build(&variant, 2, INPUT_DIM, Backend::Fused, &mut rng).unwrap();
        let n = 3000;
        let pixels: Vec<f32> = (0..n * INPUT_DIM).map(|_| rng.random::<f32>()).collect();
        let test = LabelledImages {
            images: Images::from_pixels(pixels),
            labels: (0..n).map(|i| (i % 10) as u8).collect(),
        };
        let stored = run(&*model, &test, 1, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        let full =
            ae_eval::tasks::anomaly_detection(&*model, &test, 1, &mut ChaCha8Rng::seed_from_u64(2))
                .unwrap();
        assert_eq!(stored.roc, full.roc.thinned(ROC_RESOLUTION));
        assert_eq!(
            stored.published_roc,
            full.published_roc.thinned(ROC_RESOLUTION)
        );
        assert!(stored.roc.fpr.len() < full.roc.fpr.len());
        assert_eq!(
            (stored.auc, stored.published_auc),
            (full.auc, full.published_auc)
        );
    }
}
