//! The variants as SPEC tabulates them: widths, parameter counts, freezing, determinism,
//! checkpoints.

use ae_models::fused::checkpoint;
use ae_models::kernels::optim::{Adam, AdamConfig};
use ae_models::{training, variants, Autoencoder, LatentMode, Model, TrainingConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn build(name: &str, latent: usize, seed: u64) -> Autoencoder {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Autoencoder::new(&variants::by_name(name).unwrap(), latent, 1024, &mut rng)
}

fn widths(net: &ae_models::fused::network::Network) -> Vec<usize> {
    let mut w = vec![net.blocks[0].in_dim()];
    w.extend(net.blocks.iter().map(|b| b.out_dim()));
    w
}

#[test]
fn parameter_counts_match_spec_for_every_variant() {
    // SPEC: dense-20 782,814; VAE-20 1,059,085; dense-2 306,618; VAE-2 333,172;
    // shallow-20 42,004; shallow-2 5,122 (weights + biases + BN affine).
    for (name, at20, at2) in [
        ("shallow", 42_004, 5_122),
        ("vanilla", 782_814, 306_618),
        ("stacked", 782_814, 306_618),
        ("sparse", 782_814, 306_618),
        ("denoising", 782_814, 306_618),
        ("vq", 782_814, 306_618),
        ("vae", 1_059_085, 333_172),
        ("beta_vae_strict", 1_059_085, 333_172),
        ("beta_vae_loose", 1_059_085, 333_172),
    ] {
        assert_eq!(
            build(name, 20, 0).network_param_count(),
            at20,
            "{name} latent 20"
        );
        assert_eq!(
            build(name, 2, 0).network_param_count(),
            at2,
            "{name} latent 2"
        );
    }
}

#[test]
fn layer_widths_match_spec_table() {
    let vanilla = build("vanilla", 20, 0);
    assert_eq!(widths(&vanilla.encoder), vec![1024, 341, 113, 20]);
    assert_eq!(widths(&vanilla.decoder), vec![20, 113, 341, 1024]);
    let vae = build("vae", 20, 0);
    assert_eq!(widths(&vae.encoder), vec![1024, 512, 256, 40]);
    assert_eq!(widths(&vae.decoder), vec![20, 113, 341, 1024]);
    let vanilla2 = build("vanilla", 2, 0);
    assert_eq!(widths(&vanilla2.encoder), vec![1024, 146, 20, 2]);
    assert_eq!(widths(&vanilla2.decoder), vec![2, 20, 146, 1024]);
    let vae2 = build("vae", 2, 0);
    assert_eq!(widths(&vae2.encoder), vec![1024, 170, 28, 4]);
    let shallow = build("shallow", 20, 0);
    assert_eq!(widths(&shallow.encoder), vec![1024, 20]);
    assert!(shallow.encoder.blocks[0].relu && shallow.encoder.blocks[0].batch_norm.is_none());
    // hidden blocks have no bias (BatchNorm follows), final blocks have one
    assert!(vanilla.encoder.blocks[0].linear.bias.is_none());
    assert!(vanilla.encoder.blocks[2].linear.bias.is_some());
    assert!(vanilla.decoder.blocks[2].linear.bias.is_some());
}

#[test]
fn initialisation_follows_pytorch_bounds() {
    let model = build("vanilla", 20, 3);
    let w = &model.encoder.blocks[0].linear.weight.value;
    let bound = 1.0 / 1024f32.sqrt();
    assert!(w.iter().all(|v| v.abs() <= bound));
    // a uniform draw fills the interval: its spread is near the bound
    let max = w.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(max > 0.99 * bound);
    let bn = model.encoder.blocks[0].batch_norm.as_ref().unwrap();
    assert!(bn.gamma.value.iter().all(|&g| g == 1.0) && bn.beta.value.iter().all(|&b| b == 0.0));
    assert!(bn.running_var.iter().all(|&v| v == 1.0) && bn.running_mean.iter().all(|&m| m == 0.0));
}

fn random_batch(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * 1024).map(|_| rng.random::<f32>()).collect()
}

#[test]
fn frozen_blocks_and_their_statistics_do_not_move_in_a_stacked_step() {
    let mut model = build("stacked", 20, 1);
    let x = random_batch(32, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    model.set_stage(1);
    model.forward_backward(&x, 32, &mut rng);
    Adam::new(AdamConfig::default()).step(&mut model.params_mut());
    model.set_stage(2);
    let frozen_before: Vec<(String, Vec<f32>)> = model
        .named_tensors()
        .into_iter()
        .filter(|t| t.name.starts_with("encoder.0.") || t.name.starts_with("decoder.2."))
        .map(|t| (t.name, t.values.to_vec()))
        .collect();
    assert_eq!(frozen_before.len(), 1 + 4 + 2); // enc.0 weight (no bias) and 4 BN tensors; dec.2 weight, bias
    let trained_before = model.decoder.blocks[1].linear.weight.value.clone();
    let mut adam = Adam::new(AdamConfig::default());
    for _ in 0..3 {
        model.forward_backward(&x, 32, &mut rng);
        adam.step(&mut model.params_mut());
    }
    for (name, before) in &frozen_before {
        let after = model
            .named_tensors()
            .into_iter()
            .find(|t| &t.name == name)
            .unwrap();
        assert_eq!(
            after.values,
            before.as_slice(),
            "frozen tensor {name} moved"
        );
    }
    assert_ne!(
        model.decoder.blocks[1].linear.weight.value, trained_before,
        "stage-2 block did not train"
    );
}

/// Trains a fresh latent-20 `name` model (weights drawn from `seed`) with batch 64.
fn train_briefly(
    name: &str,
    seed: u64,
    train: &[f32],
    validation: &[f32],
    epochs: usize,
) -> Result<Vec<ae_models::EpochRecord>, ae_models::TrainError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut model = Autoencoder::new(&variants::by_name(name).unwrap(), 20, 1024, &mut rng);
    let config = TrainingConfig {
        epochs,
        batch_size: 64,
        learning_rate: 1e-3,
    };
    training::train(
        &mut model,
        train,
        validation,
        &config,
        &mut rng,
        &mut training::Silent,
    )
}

fn short_run(name: &str, seed: u64) -> Vec<f64> {
    let records =
        train_briefly(name, seed, &random_batch(300, 10), &random_batch(50, 11), 2).unwrap();
    records
        .iter()
        .flat_map(|r| [r.train.total(), r.validation.total()])
        .collect()
}

#[test]
fn same_seed_gives_identical_losses_and_another_seed_differs() {
    for name in ["denoising", "vae", "vq"] {
        let a = short_run(name, 5);
        assert_eq!(a, short_run(name, 5), "{name}: same seed, different losses");
        assert_ne!(
            a,
            short_run(name, 6),
            "{name}: different seeds, same losses"
        );
    }
}

#[test]
fn checkpoint_round_trip_restores_every_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let mut model = build("vq", 2, 8);
    let x = random_batch(16, 9);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    model.forward_backward(&x, 16, &mut rng); // moves BN running statistics
    checkpoint::save(&model, &path).unwrap();
    let mut restored = build("vq", 2, 99);
    checkpoint::load_into(&mut restored, &path).unwrap();
    for (a, b) in model
        .named_tensors()
        .iter()
        .zip(restored.named_tensors().iter())
    {
        assert_eq!(a.name, b.name);
        assert_eq!(a.values, b.values, "{}", a.name);
    }
    let mut r1 = ChaCha8Rng::seed_from_u64(0);
    let mut r2 = ChaCha8Rng::seed_from_u64(0);
    assert_eq!(
        model.reconstruct(&x, LatentMode::Mean, &mut r1).unwrap(),
        restored.reconstruct(&x, LatentMode::Mean, &mut r2).unwrap()
    );
    // loading into a model of another shape names the tensor
    let mut wrong = build("vq", 20, 0);
    let err = checkpoint::load_into(&mut wrong, &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bottleneck.embeddings") || err.contains("encoder."),
        "{err}"
    );
}

#[test]
fn nan_inputs_stop_training_with_a_clear_error() {
    let mut train = random_batch(64, 1);
    train[5] = f32::NAN;
    let err = train_briefly("vanilla", 0, &train, &train, 1).unwrap_err();
    assert!(err.to_string().contains("epoch 1, batch 1"), "{err}");
}

#[test]
fn unknown_variant_lists_the_known_ones() {
    let err = variants::by_name("convolutional").unwrap_err().to_string();
    assert!(
        err.contains("convolutional") && err.contains("vanilla") && err.contains("vq"),
        "{err}"
    );
}
