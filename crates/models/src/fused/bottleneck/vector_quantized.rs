//! The vector-quantised bottleneck: one scalar codebook per latent dimension.

use rand::RngCore;

use super::{Bottleneck, LatentMode};
use crate::kernels::noise::codebook_prior;
use crate::kernels::param::{named, named_mut, NamedTensor, NamedTensorMut, Param};

/// Each latent dimension `j` has its own codebook of `K` scalars (init U(-1/K, 1/K));
/// `z_j` is the code nearest to `e_j`; loss `mean_batch(sum_j((sg(e) - z)^2 + beta (e - sg(z))^2))`;
/// the decoder's gradient passes straight through from `z` to `e`.
#[derive(Debug)]
pub struct VectorQuantized {
    latent_dim: usize,
    num_codes: usize,
    beta: f32,
    /// Codebooks, `[latent_dim, num_codes]` (the reference stores `[1, latent_dim, num_codes]`).
    pub codebook: Param,
    z: Vec<f32>,
    code_index: Vec<usize>,
    grad_e: Vec<f32>,
}

impl VectorQuantized {
    /// Codebooks for `latent_dim` dimensions of `num_codes` scalars each.
    pub fn new(latent_dim: usize, num_codes: usize, beta: f32, rng: &mut dyn RngCore) -> Self {
        let bound = 1.0 / num_codes as f32;
        let codebook = Param::uniform(vec![latent_dim, num_codes], bound, rng);
        Self {
            latent_dim,
            num_codes,
            beta,
            codebook,
            z: Vec::new(),
            code_index: Vec::new(),
            grad_e: Vec::new(),
        }
    }

    /// Index of the code of dimension `j` nearest to `value` (first one on ties, like
    /// `torch.argmin`), by a linear scan.
    pub fn nearest(&self, j: usize, value: f32) -> usize {
        let codes = &self.codebook.value[j * self.num_codes..(j + 1) * self.num_codes];
        let mut best = 0;
        let mut best_dist = f32::INFINITY;
        for (k, c) in codes.iter().enumerate() {
            let d = (c - value) * (c - value);
            if d < best_dist {
                best_dist = d;
                best = k;
            }
        }
        best
    }
}

/// One dimension's codebook sorted by value, for nearest-code look-ups by binary search
/// (a batch of 256 x 20 look-ups in 512 codes costs 2.6 M comparisons as a linear scan).
struct SortedCodes {
    /// `(value, original index)`, ascending by value then index.
    codes: Vec<(f32, usize)>,
}

impl SortedCodes {
    fn new(codes: &[f32]) -> Self {
        let mut codes: Vec<(f32, usize)> = codes.iter().copied().zip(0..).collect();
        codes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        Self { codes }
    }

    /// Same answer as [`VectorQuantized::nearest`]: the smallest squared distance, and the
    /// smallest original index among equally near codes.
    fn nearest(&self, value: f32) -> usize {
        let c = &self.codes;
        let p = c.partition_point(|&(v, _)| v < value);
        // The nearest value is c[p - 1] or c[p]; several codes may share it, and among
        // equal values the first in sorted order has the smallest index.
        let first_of_run = |mut i: usize| {
            while i > 0 && c[i - 1].0 == c[i].0 {
                i -= 1;
            }
            i
        };
        let mut best: Option<(f32, usize)> = None;
        for candidate in [
            p.checked_sub(1).map(first_of_run),
            (p < c.len()).then_some(p),
        ]
        .into_iter()
        .flatten()
        {
            let (v, index) = c[candidate];
            let d = (v - value) * (v - value);
            best = match best {
                Some((bd, bi)) if bd < d || (bd == d && bi < index) => Some((bd, bi)),
                _ => Some((d, index)),
            };
        }
        best.expect("codebook is not empty").1
    }
}

impl VectorQuantized {
    /// `z`, the chosen code of each value and the loss.
    fn compute(&self, e: &[f32], n: usize) -> (Vec<f32>, Vec<usize>, f64) {
        let l = self.latent_dim;
        assert_eq!(e.len(), n * l, "vq bottleneck expects [latent_dim, n]");
        let sorted: Vec<SortedCodes> = self
            .codebook
            .value
            .chunks_exact(self.num_codes)
            .map(SortedCodes::new)
            .collect();
        let mut z = Vec::with_capacity(e.len());
        let mut code_index = Vec::with_capacity(e.len());
        let mut loss = 0.0f64;
        for (i, &v) in e.iter().enumerate() {
            let j = i / n; // column layout: row j is latent dimension j
            let k = sorted[j].nearest(v);
            let code = self.codebook.value[j * self.num_codes + k];
            code_index.push(k);
            z.push(code);
            loss += ((code - v) as f64).powi(2);
        }
        (z, code_index, (1.0 + self.beta as f64) * loss / n as f64)
    }
}

impl Bottleneck for VectorQuantized {
    fn forward(&mut self, e: &[f32], n: usize, _mode: LatentMode, _rng: &mut dyn RngCore) -> f64 {
        let (z, code_index, loss) = self.compute(e, n);
        (self.z, self.code_index) = (z, code_index);
        loss
    }

    fn infer(
        &self,
        e: &[f32],
        n: usize,
        _mode: LatentMode,
        _rng: &mut dyn RngCore,
    ) -> (Vec<f32>, f64) {
        let (z, _, loss) = self.compute(e, n);
        (z, loss)
    }

    fn latent(&self) -> &[f32] {
        &self.z
    }

    fn backward(&mut self, e: &[f32], grad_z: &[f32], n: usize) -> &[f32] {
        let scale = 2.0 / n as f32;
        let update_codes = !self.codebook.frozen;
        if update_codes {
            self.codebook.grad.fill(0.0);
        }
        self.grad_e.clear();
        for (i, (&v, &g)) in e.iter().zip(grad_z).enumerate() {
            let j = i / n;
            let z = self.z[i];
            // Straight-through: the decoder's gradient for z is passed to e unchanged; the
            // commitment term pulls e towards sg(z), the codebook term z towards sg(e).
            self.grad_e.push(g + self.beta * scale * (v - z));
            if update_codes {
                self.codebook.grad[j * self.num_codes + self.code_index[i]] += scale * (z - v);
            }
        }
        &self.grad_e
    }

    fn sample(&self, n: usize, rng: &mut dyn RngCore) -> Option<Vec<f32>> {
        Some(codebook_prior(&self.codebook.value, self.num_codes, n, rng))
    }

    fn params_mut<'a>(&'a mut self, out: &mut Vec<&'a mut Param>) {
        out.push(&mut self.codebook);
    }

    fn named_tensors<'a>(&'a self, prefix: &str, out: &mut Vec<NamedTensor<'a>>) {
        out.push(named(prefix, "embeddings", &self.codebook));
    }

    fn named_tensors_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<NamedTensorMut<'a>>) {
        out.push(named_mut(prefix, "embeddings", &mut self.codebook));
    }

    fn param_count(&self) -> usize {
        self.codebook.len()
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn binary_search_agrees_with_the_linear_scan() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut vq = VectorQuantized::new(2, 64, 1.0, &mut rng);
        // duplicated codes exercise the tie rule
        vq.codebook.value[5] = vq.codebook.value[9];
        vq.codebook.value[64 + 1] = vq.codebook.value[64 + 60];
        for j in 0..2 {
            let sorted = SortedCodes::new(&vq.codebook.value[j * 64..(j + 1) * 64]);
            let mut probes: Vec<f32> = (0..2000).map(|_| rng.random_range(-0.03..0.03)).collect();
            probes.extend_from_slice(&vq.codebook.value[j * 64..(j + 1) * 64]);
            for v in probes {
                assert_eq!(sorted.nearest(v), vq.nearest(j, v), "dim {j} value {v}");
            }
        }
    }
}
