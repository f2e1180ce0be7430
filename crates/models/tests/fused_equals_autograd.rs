//! The correctness rule of the two backends: for every variant that has both, the fused
//! engine equals the autograd backend. Both are built independently from the variant's
//! description with the same seed; their initial tensors must be identical, and after one
//! training step the losses, every gradient, the BatchNorm running statistics and the Adam
//! updates must agree (including the stacked variant's frozen stages), as must twenty-step
//! loss curves.

use std::collections::HashMap;

use ae_models::autograd::AutogradModel;
use ae_models::{variants, Autoencoder, Backend, Model, TrainableModel, TrainingConfig, Variant};
use candle_core::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Relative tolerance for losses and gradients: f32 sums in a different order.
const TOLERANCE: f32 = 2e-3;

/// The registered variants the fused engine implements (the families are autograd only).
fn with_both_backends() -> Vec<Variant> {
    variants::all()
        .into_iter()
        .filter(|v| Backend::Fused.supports(v))
        .collect()
}

fn pair(variant: &Variant, latent_dim: usize, seed: u64) -> (Autoencoder, AutogradModel) {
    let fused = Autoencoder::new(
        variant,
        latent_dim,
        1024,
        &mut ChaCha8Rng::seed_from_u64(seed),
    );
    let autograd = AutogradModel::new(
        variant,
        latent_dim,
        1024,
        &Device::Cpu,
        &mut ChaCha8Rng::seed_from_u64(seed),
    )
    .unwrap();
    (fused, autograd)
}

fn fused_tensors(model: &Autoencoder) -> HashMap<String, Vec<f32>> {
    model
        .named_tensors()
        .into_iter()
        .map(|t| (t.name, t.values.to_vec()))
        .collect()
}

fn autograd_tensors(model: &AutogradModel) -> HashMap<String, Vec<f32>> {
    model
        .vars()
        .into_iter()
        .map(|(name, var)| (name, values(var.as_tensor())))
        .collect()
}

fn values(t: &candle_core::Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Fused gradients of the trainable (not frozen) parameters, by checkpoint key.
fn fused_grads(model: &mut Autoencoder) -> HashMap<String, Vec<f32>> {
    let names: Vec<String> = model
        .named_tensors()
        .into_iter()
        .map(|t| t.name)
        .filter(|n| !n.contains(".running_"))
        .collect();
    names
        .into_iter()
        .zip(model.params_mut())
        .filter(|(_, p)| !p.frozen)
        .map(|(name, p)| (name, p.grad.clone()))
        .collect()
}

fn assert_close(what: &str, ours: &[f32], theirs: &[f32]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
    // Some gradients are zero in exact arithmetic (a bias feeding a BatchNorm), leaving only
    // rounding noise of order 1e-6: the scale has a floor so such noise compares equal.
    let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-2);
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= TOLERANCE * scale,
            "{what}[{i}]: fused {a} vs autograd {b} (scale {scale})"
        );
    }
}

fn random_batch(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n * 1024).map(|_| rng.random::<f32>()).collect()
}

#[test]
fn initial_tensors_are_identical_for_every_variant() {
    for variant in with_both_backends() {
        for latent in [20, 2] {
            let (fused, autograd) = pair(&variant, latent, 3);
            let (f, a) = (fused_tensors(&fused), autograd_tensors(&autograd));
            let mut keys: Vec<&String> = f.keys().collect();
            keys.sort();
            let mut other: Vec<&String> = a.keys().collect();
            other.sort();
            assert_eq!(keys, other, "{} latent {latent}: keys differ", variant.name);
            for k in keys {
                assert_eq!(f[k], a[k], "{} latent {latent}: {k}", variant.name);
            }
            assert_eq!(
                Model::network_param_count(&fused),
                autograd.network_param_count()
            );
            assert_eq!(fused.capabilities(), autograd.capabilities());
        }
    }
}

/// One step of stage `stage` (of a run of `stages` epochs, one per stage) on both backends.
fn check_step(variant: &Variant, latent_dim: usize, stage: usize) {
    let n = 16;
    let label = format!("{} latent {latent_dim} stage {stage}", variant.name);
    let (mut fused, mut autograd) = pair(variant, latent_dim, 7);
    let mut data_rng = ChaCha8Rng::seed_from_u64(8);
    let config = TrainingConfig {
        epochs: 3,
        batch_size: n,
        learning_rate: 1e-3,
    };
    if stage > 1 {
        // A step of stage 1 first so the frozen blocks have non-trivial running statistics;
        // the autograd model then starts from the fused model's tensors.
        fused.begin_epoch(1, &config).unwrap();
        let x = random_batch(&mut data_rng, n);
        fused
            .train_step(&x, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stage1.safetensors");
        fused.save(&path).unwrap();
        autograd.load(&path).unwrap();
    }
    assert_eq!(
        fused.begin_epoch(stage, &config).unwrap(),
        stage.min(fused.num_stages())
    );
    assert_eq!(
        autograd.begin_epoch(stage, &config).unwrap(),
        stage.min(fused.num_stages())
    );
    let before = fused_tensors(&fused);
    assert_eq!(
        before,
        autograd_tensors(&autograd),
        "{label}: start differs"
    );

    let x = random_batch(&mut data_rng, n);
    let mut fused_rng = ChaCha8Rng::seed_from_u64(99);
    let mut autograd_rng = fused_rng.clone();
    let ours = fused.train_step(&x, &mut fused_rng).unwrap();
    let loss = autograd.training_loss(&x, &mut autograd_rng).unwrap();
    assert_eq!(
        fused_rng.random::<u64>(),
        autograd_rng.random::<u64>(),
        "{label}: the backends drew different amounts of randomness"
    );
    assert_close(
        &format!("{label} recon"),
        &[ours.recon as f32],
        &[loss.terms.recon as f32],
    );
    assert_eq!(
        ours.regularizers.iter().map(|t| &t.0).collect::<Vec<_>>(),
        loss.terms
            .regularizers
            .iter()
            .map(|t| &t.0)
            .collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in ours.regularizers.iter().zip(&loss.terms.regularizers) {
        assert_close(&format!("{label} {name}"), &[*a as f32], &[*b as f32]);
    }

    // every gradient of a trainable parameter
    let grads = loss.total.backward().unwrap();
    let vars = autograd.vars();
    let fused_grads = fused_grads(&mut fused);
    for (name, g) in &fused_grads {
        let theirs = grads
            .get(vars[name].as_tensor())
            .unwrap_or_else(|| panic!("{label}: autograd has no gradient for {name}"));
        assert_close(&format!("{label} grad {name}"), g, &values(theirs));
    }
    assert!(fused_grads.len() >= 2, "{label}: too few gradients");

    // running statistics after the forward pass
    let after_forward = autograd_tensors(&autograd);
    let fused_after = fused_tensors(&fused);
    for name in fused_after.keys().filter(|k| k.contains(".running_")) {
        assert_close(
            &format!("{label} {name}"),
            &fused_after[name],
            &after_forward[name],
        );
    }

    // the model's own Adam step on both sides
    autograd.apply_gradients(&grads).unwrap();
    let autograd_after = autograd_tensors(&autograd);
    for (name, grad) in &fused_grads {
        let grad_scale = grad.iter().fold(0f32, |m, v| m.max(v.abs()));
        for i in 0..grad.len() {
            let fused_delta = fused_after[name][i] - before[name][i];
            let autograd_delta = autograd_after[name][i] - before[name][i];
            // Adam's first step is about lr * sign(g): where g is rounding noise its sign is
            // arbitrary, so only well-determined gradients are compared exactly.
            if grad[i].abs() > 1e-3 * grad_scale.max(1e-2) {
                assert!(
                    (fused_delta - autograd_delta).abs() <= 2e-2 * 1e-3,
                    "{label} adam update {name}[{i}]: fused {fused_delta} vs autograd {autograd_delta}"
                );
            } else {
                assert!(
                    fused_delta.abs() <= 1.01e-3 && autograd_delta.abs() <= 1.01e-3,
                    "{label} adam update {name}[{i}] exceeds lr"
                );
            }
        }
    }
    // parameters the stage does not train stay where they were, in both backends
    for name in before.keys().filter(|k| !k.contains(".running_")) {
        if !fused_grads.contains_key(name) {
            assert_eq!(
                fused_after[name], before[name],
                "{label}: fused moved {name}"
            );
            assert_eq!(
                autograd_after[name], before[name],
                "{label}: autograd moved {name}"
            );
        }
    }
}

#[test]
fn one_step_agrees_for_every_variant_at_latent_20() {
    for variant in with_both_backends() {
        check_step(&variant, 20, 1);
    }
}

#[test]
fn one_step_agrees_for_every_variant_at_latent_2() {
    for variant in with_both_backends() {
        check_step(&variant, 2, 1);
    }
}

#[test]
fn stacked_frozen_stages_agree() {
    let stacked = variants::by_name("stacked").unwrap();
    check_step(&stacked, 20, 2);
    check_step(&stacked, 20, 3);
}

/// Twenty training steps on both backends from the same initial weights and batches: the
/// loss curves agree within `CURVE_TOLERANCE` at every step and, when `compare_weights`,
/// the weights end up together, up to rounding noise amplified by Adam (which moves even a
/// weight whose gradient is rounding noise by up to `lr` per step, so trajectories part
/// slowly). Measured over weight seeds 1-11 (noise seed = weight seed + 100) and the seeds
/// used here: relative loss differences at most 1.6e-4 (5.4e-4 for vq); weight drift at most
/// 0.12 (sparse, seed 3), typically below 0.08, and 0.10 for denoising with the seeds below.
fn check_loss_curve(variant: &Variant, compare_weights: bool) {
    /// Relative tolerance of each step's losses.
    const CURVE_TOLERANCE: f64 = 1e-3;
    /// Bound on `|W_fused - W_autograd| / |W_fused - W_initial|` (L2 over all weights).
    const DRIFT_TOLERANCE: f64 = 0.2;
    let (n, steps) = (32, 20);
    let (mut fused, mut autograd) = pair(variant, 20, 11);
    let initial = fused_tensors(&fused);
    let config = TrainingConfig {
        epochs: 1,
        batch_size: n,
        learning_rate: 1e-3,
    };
    fused.begin_epoch(1, &config).unwrap();
    autograd.begin_epoch(1, &config).unwrap();
    let mut data_rng = ChaCha8Rng::seed_from_u64(12);
    let mut fused_rng = ChaCha8Rng::seed_from_u64(5);
    let mut autograd_rng = fused_rng.clone();
    for step in 0..steps {
        let x = random_batch(&mut data_rng, n);
        let ours = fused.train_step(&x, &mut fused_rng).unwrap().total();
        let theirs = autograd.train_step(&x, &mut autograd_rng).unwrap().total();
        assert!(
            (ours - theirs).abs() <= CURVE_TOLERANCE * theirs.abs(),
            "{} step {step}: fused loss {ours} vs autograd {theirs}",
            variant.name
        );
    }
    if !compare_weights {
        return;
    }
    let (f, a) = (fused_tensors(&fused), autograd_tensors(&autograd));
    let (mut drift, mut moved) = (0.0f64, 0.0f64);
    for (name, w0) in initial.iter().filter(|(k, _)| !k.contains(".running_")) {
        for ((&x, &y), &w) in f[name].iter().zip(&a[name]).zip(w0) {
            drift += f64::from(x - y).powi(2);
            moved += f64::from(x - w).powi(2);
        }
    }
    let ratio = (drift / moved).sqrt();
    assert!(
        ratio < DRIFT_TOLERANCE,
        "{}: weights drifted {ratio} of their movement apart",
        variant.name
    );
}

#[test]
fn loss_curves_agree_over_twenty_steps() {
    for variant in with_both_backends() {
        // vq's nearest-code choice is discontinuous: its initial codes are 4e-6 apart, so a
        // rounding-level difference in an encoder output can pick the neighbouring code, and
        // from then on the two runs' weights differ by more than rounding (measured drift
        // 0.18) while their losses still agree. Its single-step gradients and update are
        // compared exactly by the tests above. (Measured drift 0.06-0.19 over 11 seeds.)
        let compare_weights = variant.name != "vq";
        check_loss_curve(&variant, compare_weights);
    }
}
