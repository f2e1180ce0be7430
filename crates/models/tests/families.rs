//! The autoencoder families through the model interface: each builds in the autograd
//! backend only, learns on a small batch, is reproducible under a seed, restores every
//! tensor from its checkpoint and does what its capabilities say.

use ae_models::{backend, variants, Backend, LatentMode, LossTerms, Model, Variant};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn families() -> Vec<Variant> {
    let found: Vec<Variant> = variants::all()
        .into_iter()
        .filter(|v| v.family.is_some())
        .collect();
    assert!(found.len() >= 4, "at least four families are registered");
    found
}

/// `n` 32 x 32 images of one round blob each (random centre and width), pixels in [0, 1]:
/// structure a dense and a convolutional network can both learn.
fn random_rows(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(n * 1024);
    for _ in 0..n {
        let (cx, cy) = (rng.random_range(8.0..24.0), rng.random_range(8.0..24.0));
        let width: f32 = rng.random_range(2.0..6.0);
        for y in 0..32 {
            for x in 0..32 {
                let d2 = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2);
                rows.push((-d2 / (2.0 * width * width)).exp());
            }
        }
    }
    rows
}

/// `steps` training steps of `variant` (latent 20) on one batch, from weights drawn with
/// `seed`.
fn steps(variant: &Variant, seed: u64, steps: usize) -> Vec<LossTerms> {
    let x = random_rows(32, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut model = backend::build(variant, 20, 1024, Backend::Autograd, &mut rng).unwrap();
    (0..steps)
        .map(|_| model.train_step(&x, &mut rng).unwrap())
        .collect()
}

#[test]
fn twenty_steps_on_a_batch_reduce_the_loss_and_stay_finite() {
    for v in families() {
        let terms = steps(&v, 2, 20);
        assert!(
            terms.iter().all(|t| t.first_non_finite().is_none()),
            "{}",
            v.name
        );
        let (first, last) = (&terms[0], &terms[19]);
        assert!(
            last.total() < 0.9 * first.total(),
            "{}: {} -> {}",
            v.name,
            first.total(),
            last.total()
        );
    }
}

#[test]
fn the_same_seed_gives_identical_losses_and_another_seed_differs() {
    for v in families() {
        let a = steps(&v, 3, 4);
        assert_eq!(
            a,
            steps(&v, 3, 4),
            "{}: same seed, different losses",
            v.name
        );
        assert_ne!(a, steps(&v, 4, 4), "{}: other seed, same losses", v.name);
    }
}

#[test]
fn a_checkpoint_restores_every_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let (x, validation) = (random_rows(16, 5), random_rows(8, 6));
    for v in families() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut model = backend::build(&v, 2, 1024, Backend::Autograd, &mut rng).unwrap();
        for _ in 0..3 {
            model.train_step(&x, &mut rng).unwrap();
        }
        let path = dir.path().join(format!("{}.safetensors", v.name));
        model.save(&path).unwrap();
        let restored = backend::load(&v, 2, 1024, Backend::Autograd, &path).unwrap();
        // The validation loss runs every part (a discriminator included) in eval mode.
        let evaluate = |m: &dyn Model| {
            let mut rng = ChaCha8Rng::seed_from_u64(8);
            m.evaluate(&validation, LatentMode::Sampled, &mut rng)
                .unwrap()
        };
        assert_eq!(
            evaluate(model.as_ref()),
            evaluate(restored.as_ref()),
            "{}",
            v.name
        );
        let wrong_size = backend::load(&v, 20, 1024, Backend::Autograd, &path);
        assert!(wrong_size.is_err(), "{}: loaded into latent 20", v.name);
    }
}

#[test]
fn capabilities_are_the_familys_and_hold() {
    let x = random_rows(4, 9);
    for v in families() {
        let family = v.registered_family().unwrap();
        assert_eq!(v.capabilities(), family.capabilities, "{}", v.name);
        assert_eq!(v.validate(), Ok(()), "{}", v.name);
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        let model = backend::build(&v, 2, 1024, Backend::Autograd, &mut rng).unwrap();
        assert_eq!(model.capabilities(), family.capabilities, "{}", v.name);
        let samples = model.sample_latents(3, &mut rng).unwrap();
        assert_eq!(
            samples.is_some(),
            family.capabilities.can_sample,
            "{}",
            v.name
        );
        // a deterministic latent: the same codes in either mode and on every call
        let a = model
            .latent_codes(&x, LatentMode::Sampled, &mut rng)
            .unwrap();
        let b = model.latent_codes(&x, LatentMode::Mean, &mut rng).unwrap();
        assert!(!family.capabilities.stochastic_latent);
        assert_eq!(a, b, "{}", v.name);
    }
}

/// The README's "Adding a variant" shows `wasserstein.rs` whole (its tests left out): the
/// copy must be the module as it is.
#[test]
fn the_readme_shows_the_wasserstein_module_as_it_is() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let module =
        std::fs::read_to_string(root.join("crates/models/src/families/wasserstein.rs")).unwrap();
    let shown = module.split("#[cfg(test)]").next().unwrap().trim_end();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```rust\n{shown}\n```")),
        "README.md's copy of wasserstein.rs is out of date"
    );
}

/// Training in the autograd backend gives the same bytes whatever the number of threads
/// (the fused operations split their work in fixed pieces, and `gemm` computes each output
/// element on one thread): losses and codes after four steps, on one thread and on three.
#[test]
fn training_gives_the_same_bytes_whatever_the_thread_count() {
    let mut checked = families();
    checked.push(variants::by_name("vanilla").unwrap());
    let x = random_rows(64, 5);
    for v in checked {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut rng = ChaCha8Rng::seed_from_u64(9);
                let mut model = backend::build(&v, 20, 1024, Backend::Autograd, &mut rng).unwrap();
                let terms: Vec<LossTerms> = (0..4)
                    .map(|_| model.train_step(&x, &mut rng).unwrap())
                    .collect();
                (terms, model.encode(&x).unwrap())
            })
        };
        let (one, three) = (run(1), run(3));
        assert_eq!(one.0, three.0, "{}", v.name);
        let bits = |codes: &[f32]| codes.iter().map(|c| c.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one.1), bits(&three.1), "{}", v.name);
    }
}
