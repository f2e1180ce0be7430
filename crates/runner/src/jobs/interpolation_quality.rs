//! Interpolation-quality jobs: seeded pairs of test images of different classes,
//! interpolated by the general model as the study's interpolation task does it
//! ([`ae_models::LatentMode::Sampled`]), every frame judged by the instrument classifier.

use ae_data::{LabelledImages, INPUT_DIM};
use ae_eval::confidence::{confidences, mean};
use ae_eval::path::{inner_mean, max_step_fraction, step_lengths};
use ae_eval::tasks::NUM_CLASSES;
use ae_models::classifier::Classifier;
use ae_models::Model;
use ae_results::quality::{InterpolationQuality, InterpolationQualityJob, PairQuality};
use anyhow::{ensure, Result};
use rand::{Rng, RngCore};

/// Draws `pairs` pairs of `test` images of different classes from `rng` (the first image
/// uniformly, the second uniformly among the other classes' images), interpolates each in
/// `steps` frames and scores the frames with `classifier`.
///
/// # Errors
/// No pairs, fewer than three frames, a test set of one class, or a model failure.
pub fn run(
    model: &dyn Model,
    classifier: &Classifier,
    test: &LabelledImages,
    pairs: usize,
    steps: usize,
    rng: &mut dyn RngCore,
) -> Result<InterpolationQualityJob> {
    ensure!(pairs > 0, "no pairs to interpolate");
    ensure!(steps >= 3, "{steps} frames have no inner frame to score");
    ensure!(
        test.labels.iter().any(|&l| l != test.labels[0]),
        "the test images need two classes to pair"
    );
    let mut per_pair = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let from = rng.random_range(0..test.len());
        let others: Vec<usize> = (0..test.len())
            .filter(|&i| test.labels[i] != test.labels[from])
            .collect();
        let to = others[rng.random_range(0..others.len())];
        let frames = super::interpolation::frames_between(model, test, from, to, steps, rng)?;
        let confidence = confidences(&classifier.logits(&frames), NUM_CLASSES);
        per_pair.push(PairQuality {
            from: (from, test.labels[from]),
            to: (to, test.labels[to]),
            mean_inner_confidence: inner_mean(&confidence),
            max_step_fraction: max_step_fraction(&step_lengths(&frames, INPUT_DIM)),
        });
    }
    let of = |f: fn(&PairQuality) -> f64| mean(&per_pair.iter().map(f).collect::<Vec<_>>());
    Ok(InterpolationQualityJob {
        quality: InterpolationQuality {
            mean_inner_confidence: of(|p| p.mean_inner_confidence),
            max_step_fraction: of(|p| p.max_step_fraction),
            pairs,
        },
        per_pair,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ae_data::Images;
    use ae_eval::instrument::{untrained, InstrumentConfig};
    use ae_models::{backend, variants, Backend};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn images(labels: Vec<u8>, rng: &mut ChaCha8Rng) -> LabelledImages {
        let n = labels.len();
        LabelledImages {
            images: Images::from_pixels((0..n * INPUT_DIM).map(|_| rng.random()).collect()),
            labels,
        }
    }

    #[test]
    fn pairs_cross_classes_and_the_summary_is_their_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let variant = variants::by_name("vae").unwrap();
        let model = backend::build(&variant, 20, INPUT_DIM, Backend::Fused, &mut rng).unwrap();
        let config = InstrumentConfig {
            hidden: vec![16, 8],
            ..InstrumentConfig::default()
        };
        let clf = untrained(&config, &mut rng);
        let test = images((0..20).map(|i| (i % 3) as u8).collect(), &mut rng);
        let result = run(&*model, &clf, &test, 5, 7, &mut rng).unwrap();
        assert_eq!((result.quality.pairs, result.per_pair.len()), (5, 5));
        for p in &result.per_pair {
            assert_ne!(p.from.1, p.to.1, "{p:?}");
            assert_eq!(
                (test.labels[p.from.0], test.labels[p.to.0]),
                (p.from.1, p.to.1)
            );
            // The largest of six steps is at least their mean.
            assert!(p.max_step_fraction >= 1.0 / 6.0 - 1e-12, "{p:?}");
            assert!(p.max_step_fraction <= 1.0, "{p:?}");
        }
        let mean_inner = result
            .per_pair
            .iter()
            .map(|p| p.mean_inner_confidence)
            .sum::<f64>()
            / 5.0;
        assert!((result.quality.mean_inner_confidence - mean_inner).abs() < 1e-12);
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(
            serde_json::from_value::<InterpolationQuality>(json).unwrap(),
            result.quality
        );

        let one_class = images(vec![4; 5], &mut rng);
        let err = run(&*model, &clf, &one_class, 5, 7, &mut rng).unwrap_err();
        assert!(err.to_string().contains("two classes"), "{err}");
        let err = run(&*model, &clf, &test, 5, 2, &mut rng).unwrap_err();
        assert!(err.to_string().contains("no inner frame"), "{err}");
    }
}
