//! Task 3, interpolation: decoded frames along the line between two images' encoder outputs.

use ae_models::{Autoencoder, LatentMode};
use rand::RngCore;

/// Frames of the reference's interpolation: 128 intermediate steps plus both ends.
pub const INTERPOLATION_STEPS: usize = 130;

/// Interpolates between the images `from` and `to` (each `INPUT_DIM` values): their encoder
/// outputs `e` (before the bottleneck, eval mode) are blended linearly with `steps` weights
/// evenly spaced over `[0, 1]` including both ends, each blend is passed through the
/// bottleneck in `mode` (the reference samples fresh noise per frame: [`LatentMode::Sampled`])
/// and decoded. Returns `steps x INPUT_DIM` frames, row-major; frame 0 decodes `from`'s
/// encoding and the last frame `to`'s exactly. `steps == 1` gives only `from`'s frame.
///
/// # Panics
/// If `from` or `to` is not one image wide.
pub fn interpolate(
    model: &mut Autoencoder,
    from: &[f32],
    to: &[f32],
    steps: usize,
    mode: LatentMode,
    rng: &mut dyn RngCore,
) -> Vec<f32> {
    let width = model.encoder.in_dim();
    assert!(
        from.len() == width && to.len() == width,
        "interpolation endpoints must be single images"
    );
    let ends = model.encode(&[from, to].concat());
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
    let z = model.bottleneck_codes(&blended, mode, rng);
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
    use ae_models::variants;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn image(rng: &mut ChaCha8Rng) -> Vec<f32> {
        (0..INPUT_DIM).map(|_| rng.random::<f32>()).collect()
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
            let variant = variants::by_name(name).unwrap();
            let mut model = Autoencoder::new(&variant, 20, INPUT_DIM, &mut rng);
            let (a, b) = (image(&mut rng), image(&mut rng));
            let frames = interpolate(&mut model, &a, &b, INTERPOLATION_STEPS, mode, &mut rng);
            assert_eq!(frames.len(), INTERPOLATION_STEPS * INPUT_DIM);
            for (img, frame) in [
                (&a, &frames[..INPUT_DIM]),
                (&b, &frames[frames.len() - INPUT_DIM..]),
            ] {
                let e = model.encode(img);
                let z = model.bottleneck_codes(&e, mode, &mut rng);
                assert_close(frame, &model.decode(&z));
            }
        }
    }

    #[test]
    fn identity_bottleneck_frames_follow_the_blend() {
        // With a shallow model the middle frame decodes the midpoint of the encodings.
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let variant = variants::by_name("shallow").unwrap();
        let mut model = Autoencoder::new(&variant, 20, INPUT_DIM, &mut rng);
        let (a, b) = (image(&mut rng), image(&mut rng));
        let frames = interpolate(&mut model, &a, &b, 3, LatentMode::Mean, &mut rng);
        let ea = model.encode(&a);
        let eb = model.encode(&b);
        let mid: Vec<f32> = ea.iter().zip(&eb).map(|(x, y)| x + 0.5 * (y - x)).collect();
        assert_close(&frames[INPUT_DIM..2 * INPUT_DIM], &model.decode(&mid));
    }
}
