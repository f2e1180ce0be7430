//! The tasks see only the model interface: the same weights in the fused and the autograd
//! backend give the same results, up to float rounding.

use ae_data::{Images, LabelledImages, INPUT_DIM};
use ae_eval::tasks::{interpolate, reconstruction, samples};
use ae_models::{backend, variants, Backend, LatentMode, Model};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn assert_close(what: &str, a: &[f32], b: &[f32], tolerance: f32) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tolerance, "{what} {i}: {x} vs {y}");
    }
}

#[test]
fn reconstruction_sampling_and_interpolation_agree_in_either_backend() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let n = 40;
    let test = LabelledImages {
        images: Images::from_pixels((0..n * INPUT_DIM).map(|_| rng.random::<f32>()).collect()),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
    };
    for name in ["vanilla", "sparse", "vae", "vq"] {
        let variant = variants::by_name(name).unwrap();
        let fused = backend::build(&variant, 20, INPUT_DIM, Backend::Fused, &mut rng).unwrap();
        let path = dir.path().join(format!("{name}.safetensors"));
        fused.save(&path).unwrap();
        let autograd = backend::load(&variant, 20, INPUT_DIM, Backend::Autograd, &path).unwrap();
        // Each backend from the same seed: the VAE family's eps and the priors' draws are
        // the same numbers in the same order in both.
        let tasks = |model: &dyn Model| {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let recon = reconstruction(model, &test.images, &mut rng).unwrap();
            let drawn = samples(model, 4, &mut rng).unwrap();
            let (a, b) = (test.images.row(0), test.images.row(1));
            let frames = interpolate(model, a, b, 5, LatentMode::Sampled, &mut rng).unwrap();
            (recon, drawn, frames)
        };
        let (ours, theirs) = (tasks(&*fused), tasks(&*autograd));
        let relative = (ours.0.mean_bce - theirs.0.mean_bce).abs() / ours.0.mean_bce;
        assert!(
            relative < 1e-5,
            "{name}: {ours:?} vs {theirs:?}",
            ours = ours.0,
            theirs = theirs.0
        );
        assert_eq!(
            ours.0.mean_bce_mean_latent.is_some(),
            name == "vae",
            "{name}: a mean-latent BCE only for a stochastic latent"
        );
        if let (Some(a), Some(b)) = (ours.0.mean_bce_mean_latent, theirs.0.mean_bce_mean_latent) {
            assert!((a - b).abs() / a < 1e-5, "{name}: {a} vs {b}");
        }
        assert_close(
            name,
            &ours.0.grid_reconstructions,
            &theirs.0.grid_reconstructions,
            1e-4,
        );
        assert_eq!(ours.1.is_some(), matches!(name, "vae" | "vq"), "{name}");
        if let (Some(a), Some(b)) = (&ours.1, &theirs.1) {
            assert_eq!(a.len(), 4 * INPUT_DIM);
            assert_close(name, a, b, 1e-4);
        }
        assert_close(name, &ours.2, &theirs.2, 1e-4);
    }
}
