//! Task 3, interpolation: decoded frames along the line between two images' encoder outputs.

use ae_models::{LatentMode, Model, ModelError};
use rand::RngCore;

/// Frames of the reference's interpolation: 128 intermediate steps plus both ends.
pub const INTERPOLATION_STEPS: usize = 130;

/// Interpolates between the images `from` and `to` (each one image wide): their encoder
/// outputs `e` (before the bottleneck, eval mode) are blended linearly with `steps` weights
/// evenly spaced over `[0, 1]` including both ends, each blend is passed through the
/// bottleneck in `mode` (the reference samples fresh noise per frame: [`LatentMode::Sampled`])
/// and decoded. Returns `steps x input_dim` frames, row-major; frame 0 decodes `from`'s
/// encoding and the last frame `to`'s exactly. `steps == 1` gives only `from`'s frame.
///
/// # Errors
/// If the model fails.
///
/// # Panics
/// If `from` or `to` is not one image wide.
pub fn interpolate(
    model: &dyn Model,
    from: &[f32],
    to: &[f32],
    steps: usize,
    mode: LatentMode,
    rng: &mut dyn RngCore,
) -> Result<Vec<f32>, ModelError> {
    let width = model.input_dim();
    assert!(
        from.len() == width && to.len() == width,
        "interpolation endpoints must be single images"
    );
    let ends = model.encode(&[from, to].concat())?;
    let (start, end) = ends.split_at(ends.len() / 2);
    let mut blended = Vec::with_capacity(steps * start.len());
    for i in 0..steps {
        let w = if steps > 1 {
            i as f32 / (steps - 1) as f32
        } else {
            0.0
        };
        blended.extend(start.iter().zip(end).map(|(&a, &b)| lerp(a, b, w)));
    }
    let z = model.bottleneck(&blended, mode, rng)?;
    model.decode(&z)
}

/// `torch.lerp`: exact at both ends (`w = 0` gives `a`, `w = 1` gives `b`).
fn lerp(a: f32, b: f32, w: f32) -> f32 {
    if w < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ae_data::INPUT_DIM;
    use ae_models::{backend, variants, Backend};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn image(rng: &mut ChaCha8Rng) -> Vec<f32> {
        (0..INPUT_DIM).map(|_| rng.random::<f32>()).collect()
    }

    fn model(name: &str, rng: &mut ChaCha8Rng) -> Box<dyn ae_models::TrainableModel> {
        let variant = variants::by_name(name).unwrap();
        backend::build(&variant, 20, INPUT_DIM, Backend::Fused, rng).unwrap()
    }

    fn assert_close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() < 1e-5, "pixel {i}: {x} vs {y}");
        }
    }

    #[test]
    fn lerp_is_exact_at_both_ends() {
        assert_eq!(lerp(0.1, 0.7, 0.0), 0.1);
        assert_eq!(lerp(0.1, 0.7, 1.0), 0.7);
        assert!((lerp(0.0, 2.0, 0.25) - 0.5).abs() < 1e-7);
    }

    #[test]
    fn endpoints_decode_the_two_images() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for (name, mode) in [("vanilla", LatentMode::Sampled), ("vae", LatentMode::Mean)] {
            let model = model(name, &mut rng);
            let (a, b) = (image(&mut rng), image(&mut rng));
            let frames = interpolate(&*model, &a, &b, INTERPOLATION_STEPS, mode, &mut rng).unwrap();
            assert_eq!(frames.len(), INTERPOLATION_STEPS * INPUT_DIM);
            for (img, frame) in [
                (&a, &frames[..INPUT_DIM]),
                (&b, &frames[frames.len() - INPUT_DIM..]),
            ] {
                let z = model.latent_codes(img, mode, &mut rng).unwrap();
                assert_close(frame, &model.decode(&z).unwrap());
            }
        }
    }

    #[test]
    fn identity_bottleneck_frames_follow_the_blend() {
        // With a shallow model the middle frame decodes the midpoint of the encodings.
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let model = model("shallow", &mut rng);
        let (a, b) = (image(&mut rng), image(&mut rng));
        let frames = interpolate(&*model, &a, &b, 3, LatentMode::Mean, &mut rng).unwrap();
        let ea = model.encode(&a).unwrap();
        let eb = model.encode(&b).unwrap();
        let mid: Vec<f32> = ea.iter().zip(&eb).map(|(x, y)| x + 0.5 * (y - x)).collect();
        assert_close(
            &frames[INPUT_DIM..2 * INPUT_DIM],
            &model.decode(&mid).unwrap(),
        );
    }
}
