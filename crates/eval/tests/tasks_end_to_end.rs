//! End to end: briefly trained vanilla and vae models on a slice of MNIST through every
//! downstream task, checking shapes and ranges.

use std::time::Instant;

use ae_data::{load_dataset, split, DatasetName, LabelledImages, INPUT_DIM};
use ae_eval::reduction::Reduction;
use ae_eval::tasks::{
    anomaly_detection, converged_probe, converged_random_encoder, interpolate, latent_structure,
    linear_probe, random_encoder, reconstruction, samples, supervised, EvalBatchNorm,
    LogisticProbeConfig, LogisticProbeResult, ProbeConfig, ProbeData, ProbeResult, GRID_IMAGES,
    INTERPOLATION_STEPS, SAMPLE_COUNT,
};
use ae_models::training::Silent;
use ae_models::{backend, train, variants, Backend, LatentMode, TrainingConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn first(set: &LabelledImages, n: usize) -> LabelledImages {
    set.select(&(0..n.min(set.len())).collect::<Vec<_>>())
}

fn check_probe(name: &str, r: &ProbeResult, max_epochs: usize) {
    eprintln!("{name} probe: {r:?}");
    assert!((0.0..=1.0).contains(&r.test_accuracy), "{name}: {r:?}");
    assert!(
        !r.validation_accuracies.is_empty() && r.validation_accuracies.len() <= max_epochs,
        "{name}: {r:?}"
    );
    assert!(
        r.validation_accuracies
            .iter()
            .all(|a| (0.0..=1.0).contains(a)),
        "{name}: {r:?}"
    );
    assert!(
        r.best_epoch >= 1 && r.best_epoch <= r.validation_accuracies.len(),
        "{name}: {r:?}"
    );
    let best = r.validation_accuracies[r.best_epoch - 1];
    assert!(
        r.validation_accuracies.iter().all(|&a| a <= best),
        "{name}: best epoch is not the best: {r:?}"
    );
    assert!(
        r.validation_accuracies[..r.best_epoch - 1]
            .iter()
            .all(|&a| a < best),
        "{name}: ties must keep the earliest epoch: {r:?}"
    );
}

fn check_converged(name: &str, r: &LogisticProbeResult, config: &LogisticProbeConfig) {
    eprintln!("{name} converged probe: {r:?}");
    assert!((0.0..=1.0).contains(&r.test_accuracy), "{name}: {r:?}");
    assert_eq!(r.grid.len(), config.l2_grid.len(), "{name}: {r:?}");
    let best = r.grid.iter().map(|g| g.1).fold(0.0, f64::max);
    assert_eq!(r.validation_accuracy, best, "{name}: {r:?}");
    assert!(r.grid.contains(&(r.l2, best)), "{name}: {r:?}");
}

#[test]
fn every_task_runs_on_briefly_trained_models() {
    let data = load_dataset(DatasetName::Mnist, None).expect("MNIST is vendored");
    let s = split(data.train.len(), 42);
    let train_set = data.train.select(&s.train[..2000]);
    let labelled = data.train.select(&s.labelled);
    let validation = first(&data.train.select(&s.validation), 1000);
    let test = first(&data.test, 2000);
    let probe_data = ProbeData {
        train: &labelled,
        validation: &validation,
        test: &test,
    };
    let config = ProbeConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(42);

    for name in ["vanilla", "vae"] {
        let variant = variants::by_name(name).unwrap();
        let mut model = backend::build(&variant, 20, INPUT_DIM, Backend::Fused, &mut rng).unwrap();
        let cfg = TrainingConfig {
            epochs: 1,
            ..TrainingConfig::default()
        };
        train(
            model.as_mut(),
            &train_set.images.pixels,
            &validation.images.pixels[..200 * INPUT_DIM],
            &cfg,
            &mut rng,
            &mut Silent,
        )
        .expect("training runs");

        let model = &*model;
        let recon = reconstruction(model, &test.images, &mut rng).unwrap();
        assert!(
            recon.mean_bce.is_finite() && recon.mean_bce > 0.0 && recon.mean_bce < 1024.0,
            "{recon:?}"
        );
        assert_eq!(recon.mean_bce_mean_latent.is_some(), name == "vae");
        if let Some(mean) = recon.mean_bce_mean_latent {
            assert!(mean.is_finite() && mean > 0.0);
        }
        assert_eq!(recon.grid_originals.len(), GRID_IMAGES * INPUT_DIM);
        assert_eq!(
            recon.grid_originals[..],
            test.images.pixels[..GRID_IMAGES * INPUT_DIM]
        );
        assert_eq!(recon.grid_reconstructions.len(), GRID_IMAGES * INPUT_DIM);
        assert!(recon
            .grid_reconstructions
            .iter()
            .all(|p| (0.0..=1.0).contains(p)));

        let sampled = samples(model, SAMPLE_COUNT, &mut rng).unwrap();
        match name {
            "vae" => {
                let s = sampled.expect("vae samples");
                assert_eq!(s.len(), SAMPLE_COUNT * INPUT_DIM);
                assert!(s.iter().all(|p| (0.0..=1.0).contains(p)));
            }
            _ => assert!(sampled.is_none()),
        }

        let frames = interpolate(
            model,
            test.images.row(0),
            test.images.row(1),
            INTERPOLATION_STEPS,
            LatentMode::Sampled,
            &mut rng,
        )
        .unwrap();
        assert_eq!(frames.len(), INTERPOLATION_STEPS * INPUT_DIM);
        assert!(frames.iter().all(|p| (0.0..=1.0).contains(p)));

        let small_test = first(&test, 300);
        let latent = latent_structure(model, &small_test, 250, Reduction::Umap, 7, &mut rng)
            .expect("finite codes");
        // UMAP runs on every code (the t-SNE cap of 250 does not apply).
        assert!(latent.method.starts_with("UMAP"), "{}", latent.method);
        assert_eq!(latent.latent_dim, 20);
        assert_eq!(latent.points.len(), 300);
        assert!(latent
            .points
            .iter()
            .all(|p| p[0].is_finite() && p[1].is_finite()));
        assert_eq!(latent.labels, small_test.labels);
        // vanilla's codes after one epoch: accuracy 0.47, NMI 0.48 (chance: 0.1 and 0); the
        // VAE's sampled codes are near chance after one epoch.
        eprintln!("{name} clustering: {:?}", latent.clustering);
        if name == "vanilla" {
            let c = &latent.clustering;
            assert!(c.accuracy > 0.3 && c.nmi > 0.3, "{c:?}");
        }

        let anomaly =
            anomaly_detection(model, &test, 1, &mut rng).expect("test set has ones and others");
        // Trained on every digit, the models reconstruct the thin ones best, so the BCE score
        // ranks them below the rest (AUC 0.03 and 0.30 here), while the reference's pre-fix
        // score, which rewards missing ink, ranks them above (0.93 and 0.89).
        assert!(anomaly.auc < 0.4, "{name}: {}", anomaly.auc);
        assert!((anomaly.roc.trapezoid_area() - anomaly.auc).abs() < 1e-9);
        assert!(
            anomaly.published_auc > 0.8,
            "{name}: {}",
            anomaly.published_auc
        );
        assert!((anomaly.published_roc.trapezoid_area() - anomaly.published_auc).abs() < 1e-9);
        eprintln!(
            "{name} anomaly AUC: BCE {}, published score {}",
            anomaly.auc, anomaly.published_auc
        );

        let probe =
            linear_probe(model, &probe_data, LatentMode::Sampled, &config, &mut rng).unwrap();
        check_probe(name, &probe, config.max_epochs);
        if name == "vanilla" {
            assert!(
                probe.test_accuracy > 0.1,
                "vanilla probe not above chance: {probe:?}"
            );
        }
        if name == "vae" {
            let mean =
                linear_probe(model, &probe_data, LatentMode::Mean, &config, &mut rng).unwrap();
            check_probe("vae mean", &mean, config.max_epochs);
        }

        // Its own RNG, so the draws above stay as they were.
        let mut converged_rng = ChaCha8Rng::seed_from_u64(7);
        let converged_config = LogisticProbeConfig::default();
        let start = Instant::now();
        let converged = converged_probe(
            model,
            &probe_data,
            LatentMode::Sampled,
            &converged_config,
            &mut converged_rng,
        )
        .expect("the probe converges");
        eprintln!(
            "{name} converged probe (codes and {} fits): {:.3} s",
            converged_config.l2_grid.len(),
            start.elapsed().as_secs_f64()
        );
        check_converged(name, &converged, &converged_config);
    }

    let converged_config = LogisticProbeConfig::default();
    let converged_random = converged_random_encoder(
        &probe_data,
        &converged_config,
        &mut ChaCha8Rng::seed_from_u64(8),
    )
    .expect("the probe converges");
    check_converged("random_encoder", &converged_random, &converged_config);

    let random = random_encoder(
        &probe_data,
        EvalBatchNorm::RunningStatistics,
        &config,
        &mut rng,
    );
    check_probe("random_encoder", &random, config.max_epochs);
    let sup = supervised(&probe_data, &config, &mut rng);
    check_probe("supervised", &sup, config.max_epochs);
    assert!(
        sup.test_accuracy > 0.5,
        "supervised on 550 MNIST digits: {sup:?}"
    );
}
