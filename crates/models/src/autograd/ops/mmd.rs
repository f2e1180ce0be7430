//! The squared maximum mean discrepancy (MMD) with the inverse multiquadratic kernel as one
//! candle node: the Wasserstein autoencoder's penalty. Written in candle's tensor operations
//! (the form the tests below keep as the oracle) it is about 30 nodes on `[n, n]` kernel
//! matrices, whose backward pass cost 2.4 ms of a 14 ms training step at batch 256 on two
//! cores; here the forward pass computes the value and the gradients with three `gemm`
//! products per kernel matrix, and the backward pass scales them.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};

use super::values;
use crate::kernels::matmul::matmul_strided;

/// The unbiased MMD estimate between the rows of `z` and `prior` (both `[n, d]`) with the
/// kernel `k(a, b) = C / (C + ||a - b||^2)`, `C = 2d`: the mean kernel over distinct pairs
/// within each, minus twice the mean over all pairs across (a batch of one has no distinct
/// pairs: its within terms are 0).
///
/// # Errors
/// If the shapes differ or are not 2-D, or the tensors are not `f32` on the host.
pub fn imq_mmd(z: &Tensor, prior: &Tensor) -> Result<Tensor> {
    z.contiguous()?.apply_op2(
        &prior.contiguous()?,
        ImqMmd {
            grads: Mutex::new((Vec::new(), Vec::new())),
        },
    )
}

/// [`imq_mmd`]'s operation; keeps the gradients (of `z`, of `prior`) its forward pass
/// computed.
struct ImqMmd {
    grads: Mutex<(Vec<f32>, Vec<f32>)>,
}

/// `Σ_{i,j} k(a_i, b_j)` over the `d`-wide rows of `a` and `b`, skipping `i == j` where
/// `distinct`, with each pair's `dk/da_i` and `dk/db_j` (`dk/da = -2 k² (a - b) / C`) times
/// `scale` added to `grad_a` and `grad_b`. The pairs' work is three `gemm` products: the
/// squared distances come from `|a|² + |b|² - 2 a·bᵀ`, and with the weights
/// `w_ij = -2 k_ij² scale / C` the gradients are `Σ_j w_ij (a_i - b_j)`, that is
/// `a_i Σ_j w_ij - (W·b)_i`, and `-Σ_i w_ij (a_i - b_j)`, that is `b_j Σ_i w_ij - (Wᵀ·a)_j`.
fn kernel_sum(
    (a, b): (&[f32], &[f32]),
    d: usize,
    c: f32,
    distinct: bool,
    scale: f32,
    (grad_a, grad_b): (&mut [f32], &mut [f32]),
) -> f64 {
    let (n_a, n_b) = (a.len() / d, b.len() / d);
    let norms = |x: &[f32]| -> Vec<f32> {
        (x.chunks_exact(d))
            .map(|row| row.iter().map(|v| v * v).sum())
            .collect()
    };
    let (a_norms, b_norms) = (norms(a), norms(b));
    // a·bᵀ: bᵀ's element (p, j) is b's (j, p).
    let mut weights = vec![0f32; n_a * n_b];
    matmul_strided(&mut weights, a, (d, 1), b, (1, d), (n_a, d, n_b), false);
    let mut total = 0f64;
    let mut col_sums = vec![0f32; n_b];
    let mut row_sums = vec![0f32; n_a];
    let factor = -2.0 * scale / c;
    for (i, (row, &a_norm)) in weights.chunks_exact_mut(n_b).zip(&a_norms).enumerate() {
        for (w, &b_norm) in row.iter_mut().zip(&b_norms) {
            *w = c / (c + (a_norm + b_norm - 2.0 * *w).max(0.0));
        }
        if distinct {
            row[i] = 0.0;
        }
        total += f64::from(lane_sum(row));
        row.iter_mut().for_each(|w| *w = factor * *w * *w);
        row_sums[i] = lane_sum(row);
        col_sums
            .iter_mut()
            .zip(row.iter())
            .for_each(|(s, w)| *s += w);
    }
    let mut weighted = vec![0f32; n_a.max(n_b) * d];
    // grad a_i += a_i Σ_j w_ij - (W·b)_i
    matmul_strided(
        &mut weighted,
        &weights,
        (n_b, 1),
        b,
        (d, 1),
        (n_a, n_b, d),
        false,
    );
    for (i, grad) in grad_a.chunks_exact_mut(d).enumerate() {
        for (p, g) in grad.iter_mut().enumerate() {
            *g += row_sums[i] * a[i * d + p] - weighted[i * d + p];
        }
    }
    // grad b_j += b_j Σ_i w_ij - (Wᵀ·a)_j
    matmul_strided(
        &mut weighted,
        &weights,
        (1, n_b),
        a,
        (d, 1),
        (n_b, n_a, d),
        false,
    );
    for (j, grad) in grad_b.chunks_exact_mut(d).enumerate() {
        for (p, g) in grad.iter_mut().enumerate() {
            *g += col_sums[j] * b[j * d + p] - weighted[j * d + p];
        }
    }
    total
}

/// The sum of `x` in eight interleaved lanes (a loop the compiler vectorises).
fn lane_sum(x: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        lanes.iter_mut().zip(chunk).for_each(|(l, v)| *l += v);
    }
    lanes.iter().sum::<f32>() + rest
}

impl CustomOp2 for ImqMmd {
    fn name(&self) -> &'static str {
        "imq-mmd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let &[n, d] = l1.dims() else {
            candle_core::bail!("imq-mmd: codes {:?}", l1.shape());
        };
        if l1.shape() != l2.shape() || d == 0 {
            candle_core::bail!("imq-mmd: codes {:?}, prior {:?}", l1.shape(), l2.shape());
        }
        let (z, prior) = (values(s1, l1)?, values(s2, l2)?);
        let c = 2.0 * d as f32;
        let pairs = (n * n.saturating_sub(1)).max(1) as f32;
        let across_pairs = (n * n) as f32;
        let (mut grad_z, mut grad_prior) = (vec![0f32; n * d], vec![0f32; n * d]);
        // Within a set, pair (i, j) and pair (j, i) both count: each adds to both rows.
        let within = |x: &[f32], grad: &mut [f32]| {
            let mut other = vec![0f32; n * d];
            let sum = kernel_sum((x, x), d, c, true, 1.0 / pairs, (grad, &mut other));
            grad.iter_mut().zip(&other).for_each(|(g, o)| *g += o);
            sum / f64::from(pairs)
        };
        let within_z = within(z, &mut grad_z);
        let within_prior = within(prior, &mut grad_prior);
        let across = kernel_sum(
            (z, prior),
            d,
            c,
            false,
            -2.0 / across_pairs,
            (&mut grad_z, &mut grad_prior),
        ) / f64::from(across_pairs);
        let value = within_z + within_prior - 2.0 * across;
        *self.grads.lock().expect("no thread panics holding it") = (grad_z, grad_prior);
        Ok((CpuStorage::F32(vec![value as f32]), Shape::from(())))
    }

    fn bwd(
        &self,
        z: &Tensor,
        prior: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let scale = grad_res.to_scalar::<f32>()?;
        let grads = self.grads.lock().expect("no thread panics holding it");
        let grad = |g: &[f32], like: &Tensor| {
            let g = g.iter().map(|v| v * scale).collect();
            Tensor::from_vec(g, like.shape(), like.device())
        };
        let grad_prior = if prior.track_op() {
            Some(grad(&grads.1, prior)?)
        } else {
            None
        };
        Ok((Some(grad(&grads.0, z)?), grad_prior))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    /// The MMD in candle's tensor operations: the oracle.
    fn candle_mmd(z: &Tensor, prior: &Tensor) -> Result<Tensor> {
        let (n, d) = z.dims2()?;
        let c = 2.0 * d as f64;
        let kernel = |a: &Tensor, b: &Tensor| {
            // ||a_i - b_j||^2 = |a_i|^2 + |b_j|^2 - 2 a_i . b_j
            let (a2, b2) = (a.sqr()?.sum_keepdim(1)?, b.sqr()?.sum_keepdim(1)?.t()?);
            let sq = (a2.broadcast_add(&b2)? - (a.matmul(&b.t()?)? * 2.0)?)?;
            (sq + c)?.recip()? * c
        };
        let pairs = (n * n.saturating_sub(1)).max(1) as f64;
        let within = |a: &Tensor| (kernel(a, a)?.sum_all()? - n as f64)? / pairs;
        let across = (kernel(z, prior)?.sum_all()? / (n * n) as f64)?;
        (within(z)? + within(prior)?)? - (across * 2.0)?
    }

    fn scalar(t: &Tensor) -> f32 {
        t.to_scalar::<f32>().unwrap()
    }

    #[test]
    fn mmd_matches_hand_computation() {
        let dev = Device::Cpu;
        // d = 1, C = 2, k(a, b) = 2 / (2 + (a - b)^2); z = {0, 1}, prior = {0, 2}.
        // within z: k(0, 1) = 2/3 over 2 ordered pairs -> 2/3
        // within prior: k(0, 2) = 1/3 -> 1/3
        // across: (k(0,0) + k(0,2) + k(1,0) + k(1,2)) / 4 = (1 + 1/3 + 2/3 + 2/3) / 4 = 2/3
        // MMD = 2/3 + 1/3 - 2 * 2/3 = -1/3 (the unbiased estimate can be negative)
        let z = Tensor::new(&[[0f32], [1.0]], &dev).unwrap();
        let prior = Tensor::new(&[[0f32], [2.0]], &dev).unwrap();
        assert!((scalar(&imq_mmd(&z, &prior).unwrap()) + 1.0 / 3.0).abs() < 1e-6);
        // one sample: no distinct pairs within; across k(0, 2) = 1/3 -> -2/3
        let one = imq_mmd(&z.narrow(0, 0, 1).unwrap(), &prior.narrow(0, 1, 1).unwrap());
        assert!((scalar(&one.unwrap()) + 2.0 / 3.0).abs() < 1e-6);
        // d/dz_0 by hand: within, 2 pairs of (0, 1) over 2: 2 * (-2 k² (0 - 1) / C) / 2 = 4/9;
        // across, -2/4 * Σ_j -2 k² (0 - y_j) / C = -1/2 * (0 + 2/9) = -1/9. Sum: 1/3.
        let z = Var::from_tensor(&z).unwrap();
        let grads = imq_mmd(z.as_tensor(), &prior).unwrap().backward().unwrap();
        let dz = grads.get(z.as_tensor()).unwrap().to_vec2::<f32>().unwrap();
        assert!((dz[0][0] - 1.0 / 3.0).abs() < 1e-6, "{dz:?}");
    }

    #[test]
    fn mmd_and_its_gradients_equal_candles_operations() {
        let dev = Device::Cpu;
        let draw = |len: usize, step: usize| -> Vec<f32> {
            (0..len)
                .map(|i| ((i * step) % 101) as f32 / 40.0 - 1.2)
                .collect()
        };
        let z = Var::from_vec(draw(9 * 4, 7919), (9, 4), &dev).unwrap();
        let prior = Var::from_vec(draw(9 * 4, 31), (9, 4), &dev).unwrap();
        let fast = imq_mmd(z.as_tensor(), prior.as_tensor()).unwrap();
        let plain = candle_mmd(z.as_tensor(), prior.as_tensor()).unwrap();
        assert!((scalar(&fast) - scalar(&plain)).abs() < 1e-5);
        let (fast, plain) = (
            (fast * 3.0).unwrap().backward().unwrap(),
            (plain * 3.0).unwrap().backward().unwrap(),
        );
        for var in [&z, &prior] {
            let t = var.as_tensor();
            let f = fast.get(t).unwrap().flatten_all().unwrap();
            let p = plain.get(t).unwrap().flatten_all().unwrap();
            for (a, b) in (f.to_vec1::<f32>().unwrap().iter()).zip(p.to_vec1::<f32>().unwrap()) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
        let err = imq_mmd(z.as_tensor(), &prior.as_tensor().narrow(0, 0, 3).unwrap());
        assert!(err.unwrap_err().to_string().contains("prior"));
    }
}
