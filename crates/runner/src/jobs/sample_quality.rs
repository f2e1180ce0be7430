//! Sample-quality jobs: prior draws of the general model decoded and judged by the
//! instrument classifier (sampling variants only).

use ae_data::LabelledImages;
use ae_eval::confidence::{class_histogram, confidences, entropy_nats, mean, predictions};
use ae_eval::frechet::{frechet_distance, Gaussian};
use ae_eval::tasks::NUM_CLASSES;
use ae_models::classifier::Classifier;
use ae_models::Model;
use ae_results::quality::{SampleQuality, SampleQualityJob};
use anyhow::{ensure, Result};
use rand::RngCore;

/// Decodes `draws` prior draws of `model` and scores them against the `test` images with
/// `classifier`: the Fréchet distance between their penultimate-layer features, the mean
/// confidence and the entropy of the predicted classes.
///
/// # Errors
/// A model that cannot sample (the plan never asks), fewer than two draws or test images,
/// or a model failure.
pub fn run(
    model: &dyn Model,
    classifier: &Classifier,
    test: &LabelledImages,
    draws: usize,
    rng: &mut dyn RngCore,
) -> Result<SampleQualityJob> {
    ensure!(
        draws >= 2 && test.len() >= 2,
        "the Fréchet distance needs at least two samples and two test images"
    );
    let samples = ae_eval::tasks::samples(model, draws, rng)?
        .ok_or_else(|| anyhow::anyhow!("variant `{}` cannot sample", model.variant().name))?;
    let dim = classifier.feature_dim();
    let features = classifier.features(&samples);
    let logits = classifier.logits_of_features(&features);
    let test_features = classifier.features(&test.images.pixels);
    let class_counts = class_histogram(&predictions(&logits, NUM_CLASSES), NUM_CLASSES);
    Ok(SampleQualityJob {
        quality: SampleQuality {
            frechet_distance: frechet_distance(
                &Gaussian::fit(&features, dim),
                &Gaussian::fit(&test_features, dim),
            ),
            mean_confidence: mean(&confidences(&logits, NUM_CLASSES)),
            class_entropy: entropy_nats(&class_counts),
            draws,
        },
        class_counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ae_data::{Images, INPUT_DIM};
    use ae_eval::instrument::{untrained, InstrumentConfig};
    use ae_models::{backend, variants, Backend, TrainableModel};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn model(name: &str, rng: &mut ChaCha8Rng) -> Box<dyn TrainableModel> {
        let variant = variants::by_name(name).unwrap();
        backend::build(&variant, 20, INPUT_DIM, Backend::Fused, rng).unwrap()
    }

    fn images(n: usize, rng: &mut ChaCha8Rng) -> LabelledImages {
        LabelledImages {
            images: Images::from_pixels((0..n * INPUT_DIM).map(|_| rng.random()).collect()),
            labels: (0..n).map(|i| (i % 10) as u8).collect(),
        }
    }

    fn classifier(rng: &mut ChaCha8Rng) -> Classifier {
        let config = InstrumentConfig {
            hidden: vec![16, 8],
            ..InstrumentConfig::default()
        };
        untrained(&config, rng)
    }

    #[test]
    fn every_draw_is_counted_and_the_entropy_is_that_of_the_counts() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (vae, clf, test) = (
            model("vae", &mut rng),
            classifier(&mut rng),
            images(30, &mut rng),
        );
        let run_once = |seed| run(&*vae, &clf, &test, 40, &mut ChaCha8Rng::seed_from_u64(seed));
        let result = run_once(2).unwrap();
        assert_eq!(result.quality.draws, 40);
        assert_eq!(result.class_counts.iter().sum::<usize>(), 40);
        assert_eq!(
            result.quality.class_entropy,
            entropy_nats(&result.class_counts)
        );
        assert!(
            result.quality.frechet_distance.is_finite() && result.quality.frechet_distance > 0.0
        );
        // Seeded: the same draws, the same numbers; other draws, another distance.
        assert_eq!(run_once(2).unwrap(), result);
        assert_ne!(
            run_once(3).unwrap().quality.frechet_distance,
            result.quality.frechet_distance
        );
        // The summary reads back from the job's JSON alone.
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(
            serde_json::from_value::<SampleQuality>(json).unwrap(),
            result.quality
        );
    }

    #[test]
    fn a_model_without_a_prior_is_refused() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let (vanilla, clf, test) = (
            model("vanilla", &mut rng),
            classifier(&mut rng),
            images(10, &mut rng),
        );
        let err = run(&*vanilla, &clf, &test, 10, &mut rng).unwrap_err();
        assert!(err.to_string().contains("cannot sample"), "{err}");
    }
}
