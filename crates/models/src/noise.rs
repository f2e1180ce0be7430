//! Input noise of the denoising variant, drawn in parallel yet reproducibly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// Values per ChaCha8 stream (and per parallel work item).
pub const NOISE_CHUNK: usize = 1 << 14;

/// Fills `out` with standard normal draws determined by `seed` alone: element `i` comes from
/// ChaCha8 stream `i / NOISE_CHUNK` of that seed, so the values do not depend on how many
/// threads drew them.
pub fn standard_normals(seed: u64, out: &mut [f32]) {
    out.par_chunks_mut(NOISE_CHUNK)
        .enumerate()
        .for_each(|(stream, chunk)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(stream as u64);
            chunk
                .iter_mut()
                .for_each(|v| *v = rng.sample(StandardNormal));
        });
}

/// The denoising variant's corrupted input `clamp(x + sd * noise, 0, 1)`, with the noise of
/// [`standard_normals`] for `seed`.
pub fn corrupt(x: &[f32], sd: f32, seed: u64, out: &mut Vec<f32>) {
    out.clear();
    out.resize(x.len(), 0.0);
    standard_normals(seed, out);
    out.par_chunks_mut(NOISE_CHUNK)
        .zip(x.par_chunks(NOISE_CHUNK))
        .for_each(|(o, x)| {
            for (o, &x) in o.iter_mut().zip(x) {
                *o = (x + sd * *o).clamp(0.0, 1.0);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_depend_on_the_seed_only_and_look_standard_normal() {
        let mut a = vec![0.0; 3 * NOISE_CHUNK + 5];
        let mut b = vec![0.0; 3 * NOISE_CHUNK + 5];
        standard_normals(9, &mut a);
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| standard_normals(9, &mut b));
        assert_eq!(a, b);
        let n = a.len() as f64;
        let mean = a.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = a.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "{mean} {var}"
        );
        // different streams per chunk, not one stream repeated
        assert_ne!(a[..16], a[NOISE_CHUNK..NOISE_CHUNK + 16]);
        standard_normals(10, &mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn corruption_adds_scaled_noise_and_clamps() {
        let x = vec![0.5f32; 1000];
        let mut noise = vec![0.0; 1000];
        standard_normals(3, &mut noise);
        let mut out = Vec::new();
        corrupt(&x, 0.5, 3, &mut out);
        for (o, n) in out.iter().zip(&noise) {
            assert_eq!(*o, (0.5 + 0.5 * n).clamp(0.0, 1.0));
        }
        assert!(out.contains(&0.0) && out.contains(&1.0));
    }
}
