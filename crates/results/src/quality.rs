//! What the instrument classifier measures, as the tables, the findings and `results.json`
//! read it: the classifier itself (one per study), and per seed and variant the quality of
//! the general model's samples and of its interpolations, with the details their jobs store
//! beside the summaries. The runner's `classifier`, `sample_quality` and
//! `interpolation_quality` jobs compute them.

use serde::{Deserialize, Serialize};

/// The instrument: the reference classifier of the study's dataset, trained once with its
/// own fixed seed and the same for every seed of the study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierResult {
    /// Fraction of the evaluation's test images it classifies correctly.
    pub test_accuracy: f64,
    /// The Fréchet classifier distance between the test images and as many images of the
    /// classifier's training split: the smallest FCD a model's samples can hope for, since
    /// two sets of real images are this far apart.
    pub frechet_floor: f64,
    /// Mean confidence (largest softmax probability) on the test images.
    pub test_confidence: f64,
    /// Entropy (nats) of the histogram of its predicted classes on the test images.
    pub test_class_entropy: f64,
    /// Test images behind the accuracy, the floor and the test figures.
    pub test_images: usize,
    /// Images it was trained on.
    pub train_images: usize,
    /// Its seed.
    pub seed: u64,
    /// Architecture and training, in words.
    pub architecture: String,
    /// Mean training loss (softmax cross-entropy) of each epoch.
    pub train_losses: Vec<f64>,
    /// Wall time of the training, seconds.
    pub train_seconds: f64,
}

/// Sample quality of a variant's general model in one seed: prior draws decoded and judged by
/// the classifier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleQuality {
    /// Fréchet classifier distance (FCD, the MNIST analogue of FID) between the classifier's
    /// penultimate-layer features of the samples and of the test images (lower is better).
    pub frechet_distance: f64,
    /// Mean confidence of the classifier on the samples (largest softmax probability).
    pub mean_confidence: f64,
    /// Entropy (nats) of the histogram of the classes the classifier predicts for the
    /// samples: their variety, at most ln 10 ≈ 2.303.
    pub class_entropy: f64,
    /// Samples drawn.
    pub draws: usize,
}

/// Interpolation quality of a variant's general model in one seed: pairs of test images of
/// different classes, interpolated as the study's interpolation task does it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterpolationQuality {
    /// Mean over the pairs of the classifier's mean confidence on the frames between the two
    /// ends (both ends excluded): whether the frames look like digits.
    pub mean_inner_confidence: f64,
    /// Mean over the pairs of the largest pixel-space (L2) step between consecutive frames
    /// divided by the path's length (the sum of its steps): 1 / (frames - 1) is a perfectly
    /// even path, 1 a single jump.
    pub max_step_fraction: f64,
    /// Pairs interpolated.
    pub pairs: usize,
}

/// Result of a sample-quality job: the summary the tables read, and how many samples the
/// classifier put in each class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleQualityJob {
    /// The summary (its fields sit at the top level of the JSON, so the file also reads as a
    /// plain [`SampleQuality`]).
    #[serde(flatten)]
    pub quality: SampleQuality,
    /// Samples predicted as each class.
    pub class_counts: Vec<usize>,
}

/// One interpolated pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairQuality {
    /// Test image at the start, and its class.
    pub from: (usize, u8),
    /// Test image at the end, and its class.
    pub to: (usize, u8),
    /// Mean confidence of the classifier on the inner frames.
    pub mean_inner_confidence: f64,
    /// Largest step between consecutive frames over the path's length.
    pub max_step_fraction: f64,
}

/// Result of an interpolation-quality job: the summary the tables read, and every pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterpolationQualityJob {
    /// The means over the pairs (its fields sit at the top level of the JSON, so the file
    /// also reads as a plain [`InterpolationQuality`]).
    #[serde(flatten)]
    pub quality: InterpolationQuality,
    /// Each pair, in the order drawn.
    pub per_pair: Vec<PairQuality>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_results_read_back_from_json_with_their_field_names() {
        let s = SampleQuality {
            frechet_distance: 12.5,
            mean_confidence: 0.9,
            class_entropy: 2.2,
            draws: 100,
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["frechet_distance"], 12.5);
        assert_eq!(serde_json::from_value::<SampleQuality>(json).unwrap(), s);
        let i = InterpolationQuality {
            mean_inner_confidence: 0.8,
            max_step_fraction: 0.05,
            pairs: 3,
        };
        let json = serde_json::to_value(&i).unwrap();
        assert_eq!(json["max_step_fraction"], 0.05);
        assert_eq!(
            serde_json::from_value::<InterpolationQuality>(json).unwrap(),
            i
        );
    }
}
