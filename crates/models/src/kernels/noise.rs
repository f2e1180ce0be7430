//! The random draws both backends make, so that they draw the same numbers: the denoising
//! variant's input noise (in parallel yet reproducibly) and the priors models sample from.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::kernels::simd::{cos_sin_turn, ln_positive, multiversion};

/// Values per ChaCha8 stream (and per parallel work item).
pub const NOISE_CHUNK: usize = 1 << 14;

/// Fills `out` with standard normal draws determined by `seed` alone: element `i` comes from
/// ChaCha8 stream `i / NOISE_CHUNK` of that seed, so the values do not depend on how many
/// threads drew them.
///
/// Each chunk turns its stream's 32-bit words into uniforms and those into normals by the
/// Box-Muller transform (as `torch.randn` does on the CPU), in vectorisable form: the first
/// half of a chunk's words are the radii's uniforms, the second half the angles', and the
/// first half of the chunk takes the cosines, the second half the sines. The largest value
/// it can produce is `sqrt(2 ln 2^24)`, 5.8.
pub fn standard_normals(seed: u64, out: &mut [f32]) {
    out.par_chunks_mut(NOISE_CHUNK)
        .enumerate()
        .for_each(|(stream, chunk)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(stream as u64);
            let pairs = chunk.len().div_ceil(2);
            let mut words = vec![0u32; 2 * pairs];
            rng.fill(&mut words[..]);
            let (radii, angles) = words.split_at(pairs);
            let mut normals = vec![0.0f32; 2 * pairs];
            box_muller(radii, angles, &mut normals);
            chunk.copy_from_slice(&normals[..chunk.len()]);
        });
}

multiversion! {
    /// Box-Muller on 24-bit uniforms: `u1` in `(0, 1]`, `u2` in `[0, 1)`; writes
    /// `r cos` to the first half of `out` and `r sin` to the second.
    fn box_muller(radii: &[u32], angles: &[u32], out: &mut [f32]) {
        const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
        let (cosines, sines) = out.split_at_mut(radii.len());
        for (((&a, &b), c), s) in radii.iter().zip(angles).zip(cosines).zip(sines) {
            // through i32 (exact below 2^24), which converts to f32 in one vector instruction
            let u1 = ((a >> 8) + 1) as i32 as f32 * SCALE;
            let u2 = (b >> 8) as i32 as f32 * SCALE;
            let r = (-2.0 * ln_positive(u1)).sqrt();
            let (cos, sin) = cos_sin_turn(u2);
            *c = r * cos;
            *s = r * sin;
        }
    }
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

/// `len` draws from U(-bound, bound) in order: PyTorch's default initialisation of linear
/// layers (`bound = 1/sqrt(fan_in)`) and the vq codebook's (`bound = 1/512`), drawn alike by
/// both backends.
pub fn uniform<R: Rng + ?Sized>(len: usize, bound: f32, rng: &mut R) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-bound..bound)).collect()
}

/// `n` draws from the VAE family's prior `N(0, I)` of size `latent_dim`, `[n, latent_dim]`
/// row by row (shared by both backends so they draw the same samples).
pub fn standard_normal_prior(n: usize, latent_dim: usize, rng: &mut dyn RngCore) -> Vec<f32> {
    (0..n * latent_dim)
        .map(|_| StandardNormal.sample(rng))
        .collect()
}

/// `n` latent codes from vq's prior: each dimension's code drawn uniformly from its row of
/// `codebook` (`[latent_dim, num_codes]`), `[n, latent_dim]` (shared by both backends so they
/// draw the same samples).
pub fn codebook_prior(
    codebook: &[f32],
    num_codes: usize,
    n: usize,
    rng: &mut dyn RngCore,
) -> Vec<f32> {
    let latent_dim = codebook.len() / num_codes;
    let mut out = Vec::with_capacity(n * latent_dim);
    for _ in 0..n {
        for codes in codebook.chunks_exact(num_codes) {
            out.push(codes[rng.random_range(0..num_codes)]);
        }
    }
    out
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
