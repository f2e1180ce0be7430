//! The model interface: training through it is the engine's old training loop to the bit;
//! each backend builds, trains, saves and loads every variant it supports through it (the
//! families in the autograd backend only); capabilities are decided once; bad input is an
//! error that names it.

use ae_models::autograd::AutogradModel;
use ae_models::config::epochs_per_stage;
use ae_models::kernels::optim::{Adam, AdamConfig};
use ae_models::training::Silent;
use ae_models::{
    backend, training, variants, Autoencoder, Backend, LatentMode, Losses, Model, TrainingConfig,
};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_rows(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * 1024).map(|_| rng.random::<f32>()).collect()
}

/// The training loop as `training::train` was written before the model interface existed
/// (the engine driven from outside: stages, a fresh Adam per stage, forward/backward, Adam
/// step): `(stage, train losses, validation losses)` per epoch.
fn loop_before_the_interface(
    model: &mut Autoencoder,
    train: &[f32],
    validation: &[f32],
    config: &TrainingConfig,
    rng: &mut dyn RngCore,
) -> Vec<(usize, Losses, Losses)> {
    let width = 1024;
    let rows = train.len() / width;
    let mut order: Vec<usize> = (0..rows).collect();
    let mut records = Vec::new();
    for (stage_index, stage_epochs) in epochs_per_stage(config.epochs, model.num_stages())
        .into_iter()
        .enumerate()
    {
        model.set_stage(stage_index + 1);
        let mut adam = Adam::new(AdamConfig {
            lr: config.learning_rate,
            ..AdamConfig::default()
        });
        for _ in 0..stage_epochs {
            order.shuffle(rng);
            let mut sum = Losses::default();
            for indices in order.chunks(config.batch_size) {
                let mut batch = Vec::new();
                for &i in indices {
                    batch.extend_from_slice(&train[i * width..(i + 1) * width]);
                }
                let losses = model.forward_backward(&batch, indices.len(), rng);
                adam.step(&mut model.params_mut());
                sum.recon += losses.recon * indices.len() as f64;
                sum.bottleneck += losses.bottleneck * indices.len() as f64;
            }
            let train_losses = Losses {
                recon: sum.recon / rows as f64,
                bottleneck: sum.bottleneck / rows as f64,
            };
            let validation_losses = model
                .evaluate(validation, LatentMode::Sampled, rng)
                .unwrap();
            records.push((stage_index + 1, train_losses, validation_losses));
        }
    }
    model.set_full();
    records
}

#[test]
fn fused_training_through_the_interface_is_bit_identical_to_the_old_loop() {
    let (train, validation) = (random_rows(300, 1), random_rows(50, 2));
    for variant in variants::all()
        .into_iter()
        .filter(|v| Backend::Fused.supports(v))
    {
        // three epochs so the stacked variant passes through all its stages
        let config = TrainingConfig {
            epochs: 3,
            batch_size: 64,
            learning_rate: 1e-3,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut old = Autoencoder::new(&variant, 20, 1024, &mut rng);
        let expected = loop_before_the_interface(&mut old, &train, &validation, &config, &mut rng);

        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut model = backend::build(&variant, 20, 1024, Backend::Fused, &mut rng).unwrap();
        let records = training::train(
            model.as_mut(),
            &train,
            &validation,
            &config,
            &mut rng,
            &mut Silent,
        )
        .unwrap();
        let got: Vec<(usize, Losses, Losses)> = records
            .iter()
            .map(|r| (r.stage, r.train, r.validation))
            .collect();
        assert_eq!(got, expected, "{}: losses differ", variant.name);

        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            dir.path().join("old.safetensors"),
            dir.path().join("new.safetensors"),
        );
        old.save(&a).unwrap();
        model.save(&b).unwrap();
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{}: weights differ",
            variant.name
        );
    }
}

#[test]
fn each_backend_trains_saves_and_loads_every_variant_it_supports() {
    let (train, validation) = (random_rows(96, 3), random_rows(40, 4));
    let config = TrainingConfig {
        epochs: 3,
        batch_size: 32,
        learning_rate: 1e-3,
    };
    let dir = tempfile::tempdir().unwrap();
    for variant in variants::all() {
        for b in Backend::ALL.into_iter().filter(|b| b.supports(&variant)) {
            let label = format!("{} {b}", variant.name);
            let mut rng = ChaCha8Rng::seed_from_u64(6);
            let mut model = backend::build(&variant, 2, 1024, b, &mut rng).unwrap();
            assert_eq!(model.backend(), b);
            let records = training::train(
                model.as_mut(),
                &train,
                &validation,
                &config,
                &mut rng,
                &mut Silent,
            )
            .unwrap();
            assert_eq!(records.len(), 3, "{label}");
            assert!(
                records.iter().all(|r| r.train.total().is_finite()),
                "{label}"
            );
            let last_stage = if variant.name == "stacked" { 3 } else { 1 };
            assert_eq!(records[2].stage, last_stage, "{label}");
            // trained means the training loss fell
            assert!(
                records[2].train.recon < records[0].train.recon || variant.name == "stacked",
                "{label}: {records:?}"
            );

            let path = dir.path().join(format!("{}_{b}.safetensors", variant.name));
            model.save(&path).unwrap();
            let restored = backend::load(&variant, 2, 1024, b, &path).unwrap();
            let x = &validation[..8 * 1024];
            let mean = LatentMode::Mean;
            let mut r = ChaCha8Rng::seed_from_u64(0);
            let before = model.reconstruct(x, mean, &mut r).unwrap();
            let after = restored.reconstruct(x, mean, &mut r).unwrap();
            assert_eq!(before, after, "{label}: reload changed the model");
            assert_eq!(model.encode(x).unwrap().len(), 8 * model.encoded_dim());
            assert_eq!(model.latent_codes(x, mean, &mut r).unwrap().len(), 8 * 2);
            assert_eq!(
                model.reconstruction_errors(x, mean, &mut r).unwrap().len(),
                8
            );
            let samples = model.sample_latents(5, &mut r).unwrap();
            assert_eq!(
                samples.is_some(),
                model.capabilities().can_sample,
                "{label}"
            );
            assert_eq!(model.capabilities(), variant.capabilities(), "{label}");
            if let Some(z) = samples {
                assert_eq!(z.len(), 5 * 2);
                assert_eq!(model.decode(&z).unwrap().len(), 5 * 1024);
            }
        }
    }
}

#[test]
fn a_checkpoint_of_one_backend_loads_into_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let x = random_rows(8, 9);
    for name in ["vanilla", "vq", "vae"] {
        let variant = variants::by_name(name).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut fused = backend::build(&variant, 20, 1024, Backend::Fused, &mut rng).unwrap();
        // move the weights and BatchNorm statistics away from their initial values
        for _ in 0..3 {
            fused.train_step(&x, &mut rng).unwrap();
        }
        let path = dir.path().join(format!("{name}.safetensors"));
        fused.save(&path).unwrap();
        let autograd = backend::load(&variant, 20, 1024, Backend::Autograd, &path).unwrap();
        let mut r = ChaCha8Rng::seed_from_u64(0);
        let ours = fused.reconstruct(&x, LatentMode::Mean, &mut r).unwrap();
        let theirs = autograd.reconstruct(&x, LatentMode::Mean, &mut r).unwrap();
        let worst = ours
            .iter()
            .zip(&theirs)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(worst < 1e-4, "{name}: reconstructions differ by {worst}");
        // and back: the autograd model's checkpoint restores the fused model exactly
        let back = dir.path().join(format!("{name}_back.safetensors"));
        autograd.save(&back).unwrap();
        let restored = backend::load(&variant, 20, 1024, Backend::Fused, &back).unwrap();
        let mut r = ChaCha8Rng::seed_from_u64(0);
        assert_eq!(
            restored.reconstruct(&x, LatentMode::Mean, &mut r).unwrap(),
            ours
        );
    }
}

#[test]
fn autograd_training_is_reproducible_under_a_seed() {
    let (train, validation) = (random_rows(128, 3), random_rows(32, 4));
    let config = TrainingConfig {
        epochs: 2,
        batch_size: 32,
        learning_rate: 1e-3,
    };
    let run = |name: &str, seed: u64| {
        let variant = variants::by_name(name).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut model = backend::build(&variant, 20, 1024, Backend::Autograd, &mut rng).unwrap();
        training::train(
            model.as_mut(),
            &train,
            &validation,
            &config,
            &mut rng,
            &mut Silent,
        )
        .unwrap()
        .iter()
        .map(|r| (r.train, r.validation))
        .collect::<Vec<_>>()
    };
    for name in ["denoising", "vae"] {
        assert_eq!(
            run(name, 5),
            run(name, 5),
            "{name}: same seed, different losses"
        );
        assert_ne!(
            run(name, 5),
            run(name, 6),
            "{name}: different seeds, same losses"
        );
    }
}

#[test]
fn inputs_of_the_wrong_width_are_errors_naming_the_input() {
    let variant = variants::by_name("vanilla").unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let fused = Autoencoder::new(&variant, 20, 1024, &mut rng);
    let autograd =
        AutogradModel::new(&variant, 20, 1024, &candle_core::Device::Cpu, &mut rng).unwrap();
    let models: [&dyn Model; 2] = [&fused, &autograd];
    for model in models {
        let err = model.encode(&[0.0; 1000]).unwrap_err().to_string();
        assert!(err.contains("images") && err.contains("1024"), "{err}");
        let err = model.decode_logits(&[0.0; 21]).unwrap_err().to_string();
        assert!(err.contains("latent codes"), "{err}");
    }
}
