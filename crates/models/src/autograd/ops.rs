//! The fused engine's building blocks as candle operations: the bridge between the two
//! backends. Each replaces a chain of candle tensor operations (each allocating its output,
//! each a node of the graph, each with its own backward node) by one node whose forward and
//! backward passes are single loops on the host:
//!
//! - [`linear`]: `x·Wᵀ + b` on the fused engine's `gemm` products, one node where candle-nn's
//!   `Linear` makes a transpose, a product and a broadcast addition.
//! - [`matmul`]: `a·b`, either operand possibly a transposed view, read by strides.
//! - [`bce_mean`]: sigmoid + binary cross-entropy, summed over pixels and averaged over
//!   images, with the gradient computed in the same pass (the fused engine's
//!   [`crate::kernels::loss::bce_loss_and_grad`]); nine tensor operations and their backward nodes
//!   before.
//! - [`batch_norm_relu`]: BatchNorm in training mode (batch statistics, running statistics
//!   moved as candle-nn's `BatchNorm` moves them) followed by ReLU; about fourteen operations
//!   and a transposed copy before.
//! - [`scale_columns`] and [`quadratic_rows`]: the contractive penalty's `P·diag(s)` and
//!   `p_i·G·p_iᵀ`, whose backward passes skip candle's strided reductions and reuse the
//!   forward pass's `P·G`.
//! - [`imq_mmd`]: the Wasserstein autoencoder's MMD penalty with its gradients, from three
//!   `gemm` products per kernel matrix (`ops/mmd.rs`).
//! - [`Stack`]: a whole dense network (the fused engine's `Linear -> [BatchNorm] -> [ReLU]`
//!   blocks) as one node, in the fused engine's column layout (`ops/stack.rs`); a family
//!   whose graph needs no gradient of a weight trains through these
//!   ([`super::parts::Parts::with_fused_stacks`]).
//! - [`Adam`]: PyTorch's Adam updating each variable in place in one pass
//!   (the kernels' `optim::update_chunk`), where candle-nn's `AdamW` runs about fifteen allocating
//!   tensor operations per variable.
//!
//! Every loop runs in a fixed order on one thread or in fixed chunks, so the results do not
//! depend on the number of threads. `tests/fused_equals_autograd.rs` and the tests below
//! check each against the plain candle operations it replaces.

mod mmd;
mod stack;

pub use self::mmd::imq_mmd;
pub use self::stack::Stack;

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use candle_core::backprop::GradStore;
use candle_core::{
    CpuStorage, CustomOp2, CustomOp3, InplaceOp2, Layout, Result, Shape, Tensor, Var,
};
use candle_nn::BatchNorm;

use crate::kernels::layout::transpose_into;
use crate::kernels::loss::bce_loss_and_grad;
use crate::kernels::matmul::{matmul_at_b, matmul_strided};
use crate::kernels::optim::{update_chunk, AdamConfig};
use crate::kernels::simd::multiversion;

/// The contiguous `f32` values of a host tensor's storage.
fn values<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("a fused operation needs contiguous inputs");
    };
    Ok(&storage.as_slice::<f32>()?[start..end])
}

/// A matrix's values from its first element, and its (row, column) strides.
type Matrix<'a> = (&'a [f32], (usize, usize));

/// A 2-D host matrix in place, as a slice from its first element and its (row, column)
/// strides, when it is row-major or a transposed view of a row-major one (a tied decoder's
/// `Wᵀ`); `None` for other layouts.
fn matrix<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<Option<Matrix<'a>>> {
    let (&[rows, cols], &[rs, cs]) = (layout.dims(), layout.stride()) else {
        return Ok(None);
    };
    let plain = (cs == 1 && rs == cols) || (rs == 1 && cs == rows);
    let values = &storage.as_slice::<f32>()?[layout.start_offset()..];
    Ok(plain.then_some((values, (rs, cs))))
}

/// Whether `t` is a row-major matrix or a transposed view of one.
fn is_plain_matrix(t: &Tensor) -> bool {
    let layout = t.layout();
    matches!((layout.dims(), layout.stride()), (&[rows, cols], &[rs, cs])
        if (cs == 1 && rs == cols) || (rs == 1 && cs == rows))
}

/// Runs `f` on a plain matrix ([`is_plain_matrix`]) in place, with its strides.
fn with_matrix<R>(t: &Tensor, f: impl FnOnce(&[f32], (usize, usize)) -> R) -> Result<R> {
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        candle_core::Storage::Cpu(cpu) => match matrix(cpu, layout)? {
            Some((values, strides)) => Ok(f(values, strides)),
            None => candle_core::bail!("linear: the weight is no plain matrix"),
        },
        _ => candle_core::bail!("the fused operations run on the host"),
    }
}

/// The `f32` values of a host storage, to write.
fn values_mut(storage: &mut CpuStorage) -> Result<&mut [f32]> {
    match storage {
        CpuStorage::F32(values) => Ok(values),
        _ => candle_core::bail!("the fused operations compute in f32"),
    }
}

/// Runs `f` on the contiguous values of a host tensor.
fn with_values<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        candle_core::Storage::Cpu(cpu) => Ok(f(values(cpu, layout)?)),
        _ => candle_core::bail!("the fused operations run on the host"),
    }
}

/// Mean over the rows of `logits` (`[n, pixels]`) of the BCE of `sigmoid(logits)` against
/// `target`, summed over each row: `Parts::reconstruction`'s loss as one graph node.
///
/// # Errors
/// If the shapes differ or the tensors are not `f32` on the host.
pub fn bce_mean(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    let target = target.contiguous()?;
    logits.contiguous()?.apply_op2(
        &target,
        BceMean {
            grad: Mutex::new(Vec::new()),
        },
    )
}

/// [`bce_mean`]'s operation; keeps the gradient its forward pass computed.
struct BceMean {
    grad: Mutex<Vec<f32>>,
}

impl CustomOp2 for BceMean {
    fn name(&self) -> &'static str {
        "bce-mean"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        if l1.shape() != l2.shape() || l1.dims().len() != 2 {
            candle_core::bail!(
                "bce-mean: logits {:?}, targets {:?}",
                l1.shape(),
                l2.shape()
            );
        }
        let n = l1.dims()[0];
        let mut grad = self.grad.lock().expect("no thread panics holding it");
        let loss = bce_loss_and_grad(values(s1, l1)?, values(s2, l2)?, n, &mut grad);
        Ok((CpuStorage::F32(vec![loss as f32]), Shape::from(())))
    }

    fn bwd(
        &self,
        logits: &Tensor,
        target: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let scale = grad_res.to_scalar::<f32>()?;
        // A copy: a graph may be differentiated more than once.
        let grad: Vec<f32> = (self.grad.lock().expect("no thread panics").iter())
            .map(|g| g * scale)
            .collect();
        let d_logits = Tensor::from_vec(grad, logits.shape(), logits.device())?;
        // d/dt [relu(l) - l t + softplus(-|l|)] = -l, for a target that learns.
        let n = logits.dim(0)? as f64;
        let d_target = if target.track_op() {
            Some((logits * (-f64::from(scale) / n))?)
        } else {
            None
        };
        Ok((Some(d_logits), d_target))
    }
}

/// `x·Wᵀ + b` for `x` of `[n, in]`, `weight` of `[out, in]` and `bias` of `[out]` (a zero
/// bias where `None`): candle-nn's `Linear` as one graph node, on the fused engine's `gemm`
/// products, whose backward pass computes `dx = g·W`, `dW = gᵀ·x` and `db = Σ_rows g`, each
/// only for an operand that tracks gradients (a detached weight costs no `dW` product).
///
/// # Errors
/// If the shapes do not fit or the tensors are not `f32` on the host.
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let (out_dim, _) = weight.dims2()?;
    let zero;
    let bias = match bias {
        Some(b) => b,
        None => {
            zero = Tensor::zeros(out_dim, weight.dtype(), weight.device())?;
            &zero
        }
    };
    // A transposed weight (a tied decoder's) is read in place, through its strides.
    let weight = if is_plain_matrix(weight) {
        weight.clone()
    } else {
        weight.contiguous()?
    };
    x.contiguous()?
        .apply_op3(&weight, &bias.contiguous()?, Linear)
}

/// Inputs at least this wide take [`column_layout_product`]; narrower ones
/// [`row_major_product`], where the two transposes would cost more than they save.
const WIDE_INPUT: usize = 512;

/// `x·Wᵀ + b` (`x` `[n, k]` row-major, `W` `[m, k]` with strides `w_strides`, `b` `[m]`),
/// row-major `[n, m]`, by whichever form is faster for the input's width. Both give the same
/// bits (a test checks it), so the choice changes no result.
fn linear_forward(
    x: &[f32],
    w: &[f32],
    w_strides: (usize, usize),
    b: &[f32],
    dims: (usize, usize, usize),
) -> Vec<f32> {
    if dims.1 < WIDE_INPUT {
        row_major_product(x, w, w_strides, b, dims)
    } else {
        column_layout_product(x, w, w_strides, b, dims)
    }
}

/// [`linear_forward`] as `x·Wᵀ` on the row-major activations.
fn row_major_product(
    x: &[f32],
    w: &[f32],
    (rs, cs): (usize, usize),
    b: &[f32],
    (n, k, m): (usize, usize, usize),
) -> Vec<f32> {
    let mut out = vec![0f32; n * m];
    out.chunks_exact_mut(m)
        .for_each(|row| row.copy_from_slice(b));
    // x·Wᵀ: Wᵀ's element (p, j) is W's (j, p).
    matmul_strided(&mut out, x, (k, 1), w, (cs, rs), (n, k, m), true);
    out
}

/// [`linear_forward`] in the fused engine's column layout: `x` transposed, `W·xᵀ` (the fast
/// form, see [`crate::kernels::matmul`]), the product transposed back. For the encoder's
/// 1024-wide input at `n = 256`, `m = 341` it measured 1.1 ms against 2.3 ms for
/// [`row_major_product`] on two cores.
fn column_layout_product(
    x: &[f32],
    w: &[f32],
    w_strides: (usize, usize),
    b: &[f32],
    (n, k, m): (usize, usize, usize),
) -> Vec<f32> {
    let mut columns = Vec::new();
    transpose_into(x, n, k, &mut columns);
    let mut product: Vec<f32> = b.iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect();
    matmul_strided(
        &mut product,
        w,
        w_strides,
        &columns,
        (n, 1),
        (m, k, n),
        true,
    );
    let mut out = Vec::new();
    transpose_into(&product, m, n, &mut out);
    out
}

/// [`linear`]'s operation.
struct Linear;

impl CustomOp3 for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, b) = (values(s1, l1)?, values(s3, l3)?);
        let Some((w, (rs, cs))) = matrix(s2, l2)? else {
            candle_core::bail!("linear: weight layout {:?}", l2);
        };
        let (&[n, k], &[m, k2]) = (l1.dims(), l2.dims()) else {
            candle_core::bail!("linear: input {:?}, weight {:?}", l1.shape(), l2.shape());
        };
        if k != k2 || b.len() != m {
            candle_core::bail!("linear: input {:?}, weight {:?}", l1.shape(), l2.shape());
        }
        Ok((
            CpuStorage::F32(linear_forward(x, w, (rs, cs), b, (n, k, m))),
            Shape::from((n, m)),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        bias: &Tensor,
        _out: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let ((n, k), (m, _)) = (x.dims2()?, weight.dims2()?);
        let device = x.device();
        let (x_tracks, w_tracks) = (x.track_op(), weight.track_op());
        let (dx, dw, db) = with_values(grad, |g| {
            with_values(x, |x| {
                with_matrix(weight, |w, w_strides| {
                    let dx = x_tracks.then(|| {
                        let mut dx = vec![0f32; n * k];
                        matmul_strided(&mut dx, g, (m, 1), w, w_strides, (n, m, k), false);
                        dx
                    });
                    let dw = w_tracks.then(|| {
                        let mut dw = vec![0f32; m * k];
                        matmul_at_b(&mut dw, g, x, m, n, k, false);
                        dw
                    });
                    let mut db = vec![0f32; m];
                    for row in g.chunks_exact(m) {
                        db.iter_mut().zip(row).for_each(|(d, &v)| *d += v);
                    }
                    (dx, dw, db)
                })
            })
        })???;
        let x_grad = dx
            .map(|dx| Tensor::from_vec(dx, (n, k), device))
            .transpose()?;
        let w_grad = dw
            .map(|dw| Tensor::from_vec(dw, (m, k), device))
            .transpose()?;
        let b_grad = bias
            .track_op()
            .then(|| Tensor::from_vec(db, m, device))
            .transpose()?;
        Ok((x_grad, w_grad, b_grad))
    }
}

/// `a·b` for 2-D `a` of `[m, k]` and `b` of `[k, n]`, either of them possibly a transposed
/// view: candle's `matmul` as one node on the fused engine's `gemm` products, whose backward
/// pass computes `da = g·bᵀ` and `db = aᵀ·g` by strides instead of transposed copies.
///
/// # Errors
/// If the shapes do not fit or the tensors are not `f32` on the host.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let plain = |t: &Tensor| {
        if is_plain_matrix(t) {
            Ok(t.clone())
        } else {
            t.contiguous()
        }
    };
    plain(a)?.apply_op2(&plain(b)?, MatMul)
}

/// [`matmul`]'s operation.
struct MatMul;

impl CustomOp2 for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (Some((a, a_strides)), Some((b, b_strides))) = (matrix(s1, l1)?, matrix(s2, l2)?)
        else {
            candle_core::bail!("matmul: layouts {l1:?}, {l2:?}");
        };
        let (&[m, k], &[k2, n]) = (l1.dims(), l2.dims()) else {
            candle_core::bail!("matmul: shapes {:?}, {:?}", l1.shape(), l2.shape());
        };
        if k != k2 {
            candle_core::bail!("matmul: shapes {:?}, {:?}", l1.shape(), l2.shape());
        }
        let mut out = vec![0f32; m * n];
        matmul_strided(&mut out, a, a_strides, b, b_strides, (m, k, n), false);
        Ok((CpuStorage::F32(out), Shape::from((m, n))))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let ((m, k), (_, n)) = (a.dims2()?, b.dims2()?);
        let device = a.device();
        let a_tracks = a.track_op();
        let (da, db) = with_values(grad, |g| {
            with_matrix(a, |a, (ars, acs)| {
                with_matrix(b, |b, (brs, bcs)| {
                    // da[m,k] = g[m,n]·bᵀ (bᵀ's (p, j) is b's (j, p)); db[k,n] = aᵀ·g.
                    let da = a_tracks.then(|| {
                        let mut da = vec![0f32; m * k];
                        matmul_strided(&mut da, g, (n, 1), b, (bcs, brs), (m, n, k), false);
                        da
                    });
                    let mut db = vec![0f32; k * n];
                    matmul_strided(&mut db, a, (acs, ars), g, (n, 1), (k, m, n), false);
                    (da, db)
                })
            })
        })???;
        let a_grad = da
            .map(|da| Tensor::from_vec(da, (m, k), device))
            .transpose()?;
        let b_grad = b
            .track_op()
            .then(|| Tensor::from_vec(db, (k, n), device))
            .transpose()?;
        Ok((a_grad, b_grad))
    }
}

/// `p[i, k, j]·s[i, j]` for `p` of `[n, r, h]` and `s` of `[n, h]`: each sample's `r` rows
/// scaled column by column by its own `s` (a contractive encoder's `P·diag(s)`), as one node.
/// candle's broadcast multiplication gives the same values, but its backward pass reduces
/// `g·p` over a middle dimension by strides and allocates broadcast copies; here
/// `dp = g·s` and `ds[i, j] = Σ_k g[i, k, j]·p[i, k, j]` are single passes.
///
/// # Errors
/// If the shapes do not fit or the tensors are not `f32` on the host.
pub fn scale_columns(p: &Tensor, s: &Tensor) -> Result<Tensor> {
    p.contiguous()?.apply_op2(&s.contiguous()?, ScaleColumns)
}

/// [`scale_columns`]'s operation.
struct ScaleColumns;

impl ScaleColumns {
    /// `out[i, k, j] = p[i, k, j]·s[i, j]` for `h`-wide rows in groups of `r` per sample.
    fn apply(p: &[f32], s: &[f32], (r, h): (usize, usize)) -> Vec<f32> {
        let mut out = p.to_vec();
        for (sample, s) in out
            .chunks_exact_mut((r * h).max(1))
            .zip(s.chunks_exact(h.max(1)))
        {
            for row in sample.chunks_exact_mut(h.max(1)) {
                row.iter_mut().zip(s).for_each(|(v, s)| *v *= s);
            }
        }
        out
    }
}

impl CustomOp2 for ScaleColumns {
    fn name(&self) -> &'static str {
        "scale-columns"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (&[n, r, h], &[n2, h2]) = (l1.dims(), l2.dims()) else {
            candle_core::bail!("scale-columns: shapes {:?}, {:?}", l1.shape(), l2.shape());
        };
        if (n, h) != (n2, h2) {
            candle_core::bail!("scale-columns: shapes {:?}, {:?}", l1.shape(), l2.shape());
        }
        let out = Self::apply(values(s1, l1)?, values(s2, l2)?, (r, h));
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        p: &Tensor,
        s: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (n, r, h) = p.dims3()?;
        let device = p.device();
        let d_p = if p.track_op() {
            let d_p = with_values(grad, |g| with_values(s, |s| Self::apply(g, s, (r, h))))??;
            Some(Tensor::from_vec(d_p, (n, r, h), device)?)
        } else {
            None
        };
        let d_s = if s.track_op() {
            let d_s = with_values(grad, |g| {
                with_values(p, |p| {
                    let mut d_s = vec![0f32; n * h];
                    let rows = (g.chunks_exact(h.max(1))).zip(p.chunks_exact(h.max(1)));
                    for (k, (g, p)) in rows.enumerate() {
                        let d_s = &mut d_s[(k / r.max(1)) * h..][..h];
                        for ((d, g), p) in d_s.iter_mut().zip(g).zip(p) {
                            *d += g * p;
                        }
                    }
                    d_s
                })
            })??;
            Some(Tensor::from_vec(d_s, (n, h), device)?)
        } else {
            None
        };
        Ok((d_p, d_s))
    }
}

/// `q_i = p_i·G·p_iᵀ` for each row `p_i` of `p` (`[m, h]`) and a symmetric `gram` (`[h, h]`,
/// a Gram matrix `W·Wᵀ`): the contractive penalty's quadratic forms as one node. Its forward
/// pass keeps `P·G`, so the backward pass computes `dP = 2·diag(g)·P·G` without a product
/// (candle's `mul` and `matmul` backward spend one `[m, h] x [h, h]` product on it) and
/// `dG = Pᵀ·diag(g)·P` with one.
///
/// # Errors
/// If the shapes do not fit, `gram` is not symmetric, or the tensors are not `f32` on the host.
pub fn quadratic_rows(p: &Tensor, gram: &Tensor) -> Result<Tensor> {
    p.contiguous()?.apply_op2(
        &gram.contiguous()?,
        QuadraticRows {
            p_gram: Mutex::new(Vec::new()),
        },
    )
}

/// [`quadratic_rows`]'s operation; keeps the `P·G` its forward pass computed.
struct QuadraticRows {
    p_gram: Mutex<Vec<f32>>,
}

impl CustomOp2 for QuadraticRows {
    fn name(&self) -> &'static str {
        "quadratic-rows"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (&[m, h], &[h1, h2]) = (l1.dims(), l2.dims()) else {
            candle_core::bail!("quadratic-rows: shapes {:?}, {:?}", l1.shape(), l2.shape());
        };
        if h1 != h || h2 != h {
            candle_core::bail!("quadratic-rows: shapes {:?}, {:?}", l1.shape(), l2.shape());
        }
        let (p, gram) = (values(s1, l1)?, values(s2, l2)?);
        let asymmetric = (0..h).any(|i| {
            (0..i).any(|j| {
                let (a, b) = (gram[i * h + j], gram[j * h + i]);
                (a - b).abs() > 1e-4 * (1.0 + a.abs().max(b.abs()))
            })
        });
        if asymmetric {
            candle_core::bail!("quadratic-rows: the Gram matrix is not symmetric");
        }
        let mut p_gram = self.p_gram.lock().expect("no thread panics holding it");
        p_gram.clear();
        p_gram.resize(m * h, 0.0);
        matmul_strided(&mut p_gram, p, (h, 1), gram, (h, 1), (m, h, h), false);
        let q = (p.chunks_exact(h.max(1)).zip(p_gram.chunks_exact(h.max(1))))
            .map(|(row, row_gram)| row.iter().zip(row_gram).map(|(a, b)| a * b).sum())
            .collect();
        Ok((CpuStorage::F32(q), Shape::from(m)))
    }

    fn bwd(
        &self,
        p: &Tensor,
        gram: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (m, h) = p.dims2()?;
        let device = p.device();
        let g = grad.to_vec1::<f32>()?;
        let p_gram = self.p_gram.lock().expect("no thread panics holding it");
        let d_p = (p_gram.chunks_exact(h.max(1)).zip(&g))
            .flat_map(|(row, &g)| row.iter().map(move |v| 2.0 * g * v))
            .collect();
        let d_p = Tensor::from_vec(d_p, (m, h), device)?;
        let d_gram = if gram.track_op() {
            let d_gram = with_values(p, |p| {
                let scaled: Vec<f32> = (p.chunks_exact(h.max(1)).zip(&g))
                    .flat_map(|(row, &g)| row.iter().map(move |v| g * v))
                    .collect();
                let mut d_gram = vec![0f32; h * h];
                matmul_strided(&mut d_gram, p, (1, h), &scaled, (h, 1), (h, m, h), false);
                d_gram
            })?;
            Some(Tensor::from_vec(d_gram, (h, h), device)?)
        } else {
            None
        };
        Ok((Some(d_p), d_gram))
    }
}

/// `relu(batch_norm(h))` in training mode for `h` of `[n, features]`: normalised with the
/// batch's mean and biased variance, scaled by `bn`'s gamma and shifted by its beta; moves
/// `bn`'s running mean and (unbiased) variance by `momentum`, as candle-nn's `BatchNorm`
/// (and PyTorch's) does.
///
/// # Errors
/// If `bn` is not affine, or the shapes do not fit.
pub fn batch_norm_relu(h: &Tensor, bn: &BatchNorm, eps: f32, momentum: f32) -> Result<Tensor> {
    let Some((gamma, beta)) = bn.weight_and_bias() else {
        candle_core::bail!("batch_norm_relu needs an affine BatchNorm");
    };
    let stats = Arc::new(Mutex::new(ColumnStats::default()));
    let op = BatchNormRelu {
        eps,
        stats: Arc::clone(&stats),
    };
    let out = h.contiguous()?.apply_op3(gamma, beta, op)?;
    // The running statistics are buffers: moved in place, outside the graph.
    let stats = stats.lock().expect("no thread panics holding it");
    let (mean, var) = (stats.mean.clone(), stats.var_unbiased.clone());
    if h.dim(0)? > 1 {
        let mix = |running: &Tensor, batch: Vec<f32>| {
            running.inplace_op2(&Tensor::new(batch, running.device())?, &Mix(momentum))
        };
        mix(bn.running_mean(), mean)?;
        mix(bn.running_var(), var)?;
    }
    Ok(out)
}

/// Per-feature statistics of a batch.
#[derive(Clone, Debug, Default)]
struct ColumnStats {
    mean: Vec<f32>,
    /// `1 / sqrt(biased variance + eps)`.
    inv_std: Vec<f32>,
    var_unbiased: Vec<f32>,
}

impl ColumnStats {
    /// The statistics of the `[n, width]` rows of `h` (`None` for an empty batch), with
    /// sums in f64, row after row; `eps` guards the inverse standard deviation.
    fn of(h: &[f32], width: usize, eps: f32) -> Option<Self> {
        let n = h.len() / width;
        if n == 0 {
            return None;
        }
        let mut sum = vec![0f64; width];
        for row in h.chunks_exact(width) {
            sum.iter_mut()
                .zip(row)
                .for_each(|(s, &x)| *s += f64::from(x));
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
        let mut squares = vec![0f64; width];
        for row in h.chunks_exact(width) {
            for ((s, &x), m) in squares.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(x) - m).powi(2);
            }
        }
        Some(Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            inv_std: (squares.iter())
                .map(|s| 1.0 / ((s / n as f64) as f32 + eps).sqrt())
                .collect(),
            var_unbiased: squares
                .iter()
                .map(|s| (s / (n.max(2) - 1) as f64) as f32)
                .collect(),
        })
    }
}

/// [`batch_norm_relu`]'s operation; keeps the batch statistics for its backward pass.
struct BatchNormRelu {
    eps: f32,
    stats: Arc<Mutex<ColumnStats>>,
}

impl CustomOp3 for BatchNormRelu {
    fn name(&self) -> &'static str {
        "batch-norm-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (h, gamma, beta) = (values(s1, l1)?, values(s2, l2)?, values(s3, l3)?);
        let width = gamma.len();
        if l1.dims().len() != 2 || l1.dims()[1] != width || beta.len() != width {
            candle_core::bail!("batch-norm-relu: input {:?}, {width} features", l1.shape());
        }
        let stats = ColumnStats::of(h, width, self.eps).unwrap_or_default();
        // relu(x * scale + shift) with scale = gamma inv_std, shift = beta - mean scale.
        let scale: Vec<f32> = (gamma.iter().zip(&stats.inv_std))
            .map(|(g, s)| g * s)
            .collect();
        let shift: Vec<f32> = (beta.iter().zip(&stats.mean).zip(&scale))
            .map(|((b, m), s)| b - m * s)
            .collect();
        let mut out = vec![0f32; h.len()];
        for (row, out) in h.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
            affine_relu(row, &scale, &shift, out);
        }
        *self.stats.lock().expect("no thread panics holding it") = stats;
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        h: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        out: &Tensor,
        grad_out: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let stats = self.stats.lock().expect("no thread panics holding it");
        let (n, width) = h.dims2()?;
        let gamma = gamma.to_vec1::<f32>()?;
        let (mean, inv_std) = (&stats.mean, &stats.inv_std);
        // With g = d loss / d (BN output), zero where ReLU cut, and x_hat recomputed from h:
        // d_beta = Σ g, d_gamma = Σ g x_hat, d_h = gamma inv_std / n (n g - d_beta - x_hat d_gamma).
        let (d_h, d_gamma, d_beta) = with_values(h, |h| {
            with_values(out, |out| {
                with_values(grad_out, |grad| {
                    let (mut d_beta, mut d_gamma) = (vec![0f32; width], vec![0f32; width]);
                    let rows = h.chunks_exact(width).zip(out.chunks_exact(width));
                    for ((h, y), d) in rows.zip(grad.chunks_exact(width)) {
                        grad_sums(h, y, d, mean, inv_std, &mut d_beta, &mut d_gamma);
                    }
                    let k: Vec<f32> = (gamma.iter().zip(inv_std))
                        .map(|(g, s)| g * s / n as f32)
                        .collect();
                    let columns = Columns {
                        mean,
                        inv_std,
                        k: &k,
                        d_beta: &d_beta,
                        d_gamma: &d_gamma,
                    };
                    let mut d_h = vec![0f32; h.len()];
                    let rows = h.chunks_exact(width).zip(out.chunks_exact(width));
                    let rows = rows.zip(grad.chunks_exact(width));
                    for (((h, y), d), d_h) in rows.zip(d_h.chunks_exact_mut(width)) {
                        grad_input(h, y, d, &columns, n as f32, d_h);
                    }
                    (d_h, d_gamma, d_beta)
                })
            })
        })???;
        let device = h.device();
        Ok((
            Some(Tensor::from_vec(d_h, (n, width), device)?),
            Some(Tensor::from_vec(d_gamma, width, device)?),
            Some(Tensor::from_vec(d_beta, width, device)?),
        ))
    }
}

multiversion! {
    /// One row of BatchNorm + ReLU: `out = relu(x * scale + shift)`.
    fn affine_relu(x: &[f32], scale: &[f32], shift: &[f32], out: &mut [f32]) {
        for (((o, &x), &a), &b) in out.iter_mut().zip(x).zip(scale).zip(shift) {
            *o = (x * a + b).max(0.0);
        }
    }
}

multiversion! {
    /// Adds one row's `g` (the gradient `d`, zero where ReLU's output `y` is) to `d_beta` and
    /// `g * x_hat` to `d_gamma`.
    fn grad_sums(h: &[f32], y: &[f32], d: &[f32], mean: &[f32], inv_std: &[f32], d_beta: &mut [f32], d_gamma: &mut [f32]) {
        let columns = mean.iter().zip(inv_std).zip(d_beta.iter_mut()).zip(d_gamma.iter_mut());
        for (((&h, &y), &d), (((&m, &s), db), dg)) in h.iter().zip(y).zip(d).zip(columns) {
            let g = if y > 0.0 { d } else { 0.0 };
            *db += g;
            *dg += g * (h - m) * s;
        }
    }
}

/// Per-feature constants of BatchNorm's input gradient.
struct Columns<'a> {
    mean: &'a [f32],
    inv_std: &'a [f32],
    /// `gamma inv_std / n`.
    k: &'a [f32],
    d_beta: &'a [f32],
    d_gamma: &'a [f32],
}

multiversion! {
    /// One row of BatchNorm's input gradient:
    /// `d_h = k (n g - d_beta - x_hat d_gamma)`.
    fn grad_input(h: &[f32], y: &[f32], d: &[f32], c: &Columns<'_>, n: f32, d_h: &mut [f32]) {
        let stats = c.mean.iter().zip(c.inv_std).zip(c.k);
        let sums = c.d_beta.iter().zip(c.d_gamma);
        let columns = stats.zip(sums);
        for ((((out, &h), &y), &d), (((&m, &s), &k), (&db, &dg))) in
            d_h.iter_mut().zip(h).zip(y).zip(d).zip(columns)
        {
            let g = if y > 0.0 { d } else { 0.0 };
            *out = k * (n * g - db - (h - m) * s * dg);
        }
    }
}

/// `running = (1 - momentum) running + momentum batch`, in place.
struct Mix(f32);

impl InplaceOp2 for Mix {
    fn name(&self) -> &'static str {
        "running-statistics"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        src: &CpuStorage,
        src_l: &Layout,
    ) -> Result<()> {
        let batch = values(src, src_l)?.to_vec();
        let Some((start, end)) = dst_l.contiguous_offsets() else {
            candle_core::bail!("running statistics are contiguous");
        };
        let running = &mut values_mut(dst)?[start..end];
        for (r, b) in running.iter_mut().zip(batch) {
            *r = (1.0 - self.0) * *r + self.0 * b;
        }
        Ok(())
    }
}

/// PyTorch's Adam (no weight decay) over some variables, each updated in place in one pass
/// from its gradient; the moments live on the host beside it.
#[derive(Debug)]
pub struct Adam {
    vars: Vec<Var>,
    moments: Vec<(Vec<f32>, Vec<f32>)>,
    config: AdamConfig,
    steps: i32,
}

impl Adam {
    /// A fresh Adam over `vars` (updated in this order) at learning rate `lr`.
    pub fn new(vars: Vec<Var>, lr: f32) -> Self {
        let moments = vars
            .iter()
            .map(|v| (vec![0.0; v.elem_count()], vec![0.0; v.elem_count()]))
            .collect();
        Self {
            vars,
            moments,
            config: AdamConfig {
                lr,
                ..AdamConfig::default()
            },
            steps: 0,
        }
    }

    /// Sets the learning rate of the following steps.
    pub fn set_learning_rate(&mut self, lr: f32) {
        self.config.lr = lr;
    }

    /// One update of every variable with a gradient in `grads`.
    ///
    /// # Errors
    /// If a variable or gradient is not an `f32` host tensor.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.steps += 1;
        let c = self.config;
        let constants = [
            c.beta1,
            c.beta2,
            (1.0 - c.beta2.powi(self.steps)).sqrt(),
            c.eps,
            c.lr / (1.0 - c.beta1.powi(self.steps)),
        ];
        for (var, (m, v)) in self.vars.iter().zip(&mut self.moments) {
            if let Some(grad) = grads.get(var.as_tensor()) {
                let update = AdamUpdate {
                    moments: RefCell::new((m, v)),
                    constants,
                };
                var.as_tensor().inplace_op2(&grad.contiguous()?, &update)?;
            }
        }
        Ok(())
    }
}

/// One variable's Adam update, its moments borrowed from [`Adam`].
struct AdamUpdate<'a> {
    moments: RefCell<(&'a mut Vec<f32>, &'a mut Vec<f32>)>,
    constants: [f32; 5],
}

impl InplaceOp2 for AdamUpdate<'_> {
    fn name(&self) -> &'static str {
        "adam"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        grad: &CpuStorage,
        grad_l: &Layout,
    ) -> Result<()> {
        let Some((start, end)) = dst_l.contiguous_offsets() else {
            candle_core::bail!("a variable is contiguous");
        };
        let w = &mut values_mut(dst)?[start..end];
        let g = values(grad, grad_l)?;
        let mut moments = self.moments.borrow_mut();
        let (m, v) = &mut *moments;
        if g.len() != w.len() {
            candle_core::bail!("adam: {} values, {} gradients", w.len(), g.len());
        }
        update_chunk(w, g, m, v, self.constants);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::{BatchNormConfig, ModuleT, VarBuilder, VarMap};

    use super::*;
    use crate::autograd::bce_sum;

    fn close(a: &Tensor, b: &Tensor, tol: f32) {
        let (a, b) = (
            a.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            b.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        );
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    /// The two forms of [`linear_forward`] give the same bits, for a weight stored row-major
    /// and for a transposed view (a tied decoder's), so the width threshold changes no result.
    #[test]
    fn both_forms_of_the_linear_product_give_the_same_bits() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let dims @ (n, k, m) = (64, WIDE_INPUT + 3, 37);
        let mut draw =
            |len: usize| -> Vec<f32> { (0..len).map(|_| rng.random_range(-1.0..1.0)).collect() };
        let (x, w, b) = (draw(n * k), draw(m * k), draw(m));
        // W as stored `[m, k]`, and the same matrix as the transposed view of a `[k, m]` one.
        let mut w_t = vec![0f32; k * m];
        for (i, row) in w.chunks_exact(k).enumerate() {
            row.iter()
                .enumerate()
                .for_each(|(p, &v)| w_t[p * m + i] = v);
        }
        for (values, strides) in [(&w, (k, 1)), (&w_t, (1, m))] {
            let rows = row_major_product(&x, values, strides, &b, dims);
            let columns = column_layout_product(&x, values, strides, &b, dims);
            assert_eq!(rows.len(), n * m);
            assert!(rows
                .iter()
                .zip(&columns)
                .all(|(r, c)| r.to_bits() == c.to_bits()));
        }
    }

    fn grid(n: usize, m: usize, scale: f32, shift: f32) -> Vec<f32> {
        (0..n * m)
            .map(|i| ((i * 7919 % 101) as f32 / 101.0 - 0.5) * scale + shift)
            .collect()
    }

    #[test]
    fn linear_and_its_gradients_equal_candle_nns_linear() {
        use candle_nn::Module;
        let dev = Device::Cpu;
        let x = Var::from_vec(grid(5, 7, 2.0, 0.1), (5, 7), &dev).unwrap();
        let w = Var::from_vec(grid(3, 7, 1.0, -0.2), (3, 7), &dev).unwrap();
        let b = Var::from_vec(grid(1, 3, 1.0, 0.3), 3, &dev).unwrap();
        let weights = Tensor::new(grid(5, 3, 2.0, 0.0), &dev)
            .unwrap()
            .reshape((5, 3))
            .unwrap();
        let loss = |t: &Tensor| (t * &weights).unwrap().sum_all().unwrap();
        for bias in [Some(b.as_tensor()), None] {
            let fast = linear(x.as_tensor(), w.as_tensor(), bias).unwrap();
            let plain = candle_nn::Linear::new(w.as_tensor().clone(), bias.cloned())
                .forward(x.as_tensor())
                .unwrap();
            close(&fast, &plain, 1e-5);
            let (fast_grads, plain_grads) = (
                loss(&fast).backward().unwrap(),
                loss(&plain).backward().unwrap(),
            );
            for var in [&x, &w] {
                let t = var.as_tensor();
                close(
                    fast_grads.get(t).unwrap(),
                    plain_grads.get(t).unwrap(),
                    1e-5,
                );
            }
            if let Some(b) = bias {
                close(
                    fast_grads.get(b).unwrap(),
                    plain_grads.get(b).unwrap(),
                    1e-5,
                );
            }
        }
        // A transposed weight (a tied decoder's), read in place: the same values and the same
        // gradient for the matrix it views.
        let encoder_w = Var::from_vec(grid(7, 3, 1.0, 0.1), (7, 3), &dev).unwrap();
        let tied = encoder_w.as_tensor().t().unwrap();
        let fast = linear(x.as_tensor(), &tied, Some(b.as_tensor())).unwrap();
        let plain = candle_nn::Linear::new(tied.clone(), Some(b.as_tensor().clone()))
            .forward(x.as_tensor())
            .unwrap();
        close(&fast, &plain, 1e-5);
        let (fast_grads, plain_grads) = (
            loss(&fast).backward().unwrap(),
            loss(&plain).backward().unwrap(),
        );
        let viewed = encoder_w.as_tensor();
        close(
            fast_grads.get(viewed).unwrap(),
            plain_grads.get(viewed).unwrap(),
            1e-5,
        );
        // An input that learns nothing gets no gradient.
        let constant = x.as_tensor().detach();
        let out = linear(&constant, w.as_tensor(), None).unwrap();
        assert!(loss(&out).backward().unwrap().get(&constant).is_none());
        // Nor does a weight that learns nothing, while the input's gradient stands.
        let frozen = w.as_tensor().detach();
        let grads = loss(&linear(x.as_tensor(), &frozen, None).unwrap())
            .backward()
            .unwrap();
        assert!(grads.get(&frozen).is_none());
        let live = loss(&linear(x.as_tensor(), w.as_tensor(), None).unwrap())
            .backward()
            .unwrap();
        let dx = |g: &GradStore| g.get(x.as_tensor()).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(dx(&grads), dx(&live));
    }

    #[test]
    fn matmul_and_its_gradients_equal_candles_on_plain_and_transposed_operands() {
        let dev = Device::Cpu;
        let a = Var::from_vec(grid(5, 4, 2.0, 0.1), (5, 4), &dev).unwrap();
        let b = Var::from_vec(grid(4, 3, 1.0, -0.2), (4, 3), &dev).unwrap();
        let bt = Var::from_vec(grid(3, 4, 1.0, 0.3), (3, 4), &dev).unwrap();
        let weights = Tensor::new(grid(5, 3, 2.0, 0.0), &dev)
            .unwrap()
            .reshape((5, 3))
            .unwrap();
        let loss = |t: &Tensor| (t * &weights).unwrap().sum_all().unwrap();
        let transposed = bt.as_tensor().t().unwrap();
        for rhs in [b.as_tensor(), &transposed] {
            let fast = matmul(a.as_tensor(), rhs).unwrap();
            let plain = a.as_tensor().matmul(rhs).unwrap();
            close(&fast, &plain, 1e-5);
            let (fast_grads, plain_grads) = (
                loss(&fast).backward().unwrap(),
                loss(&plain).backward().unwrap(),
            );
            for var in [&a, &b, &bt] {
                let t = var.as_tensor();
                match (fast_grads.get(t), plain_grads.get(t)) {
                    (Some(f), Some(p)) => close(f, p, 1e-5),
                    (f, p) => assert_eq!(f.is_some(), p.is_some()),
                }
            }
        }
    }

    #[test]
    fn scale_columns_and_its_gradients_equal_candles_broadcast_product() {
        let dev = Device::Cpu;
        // By hand: sample 0's rows [1, 2] and [3, 4] times s = [10, -1].
        let hand = scale_columns(
            &Tensor::new(&[[[1f32, 2.0], [3.0, 4.0]]], &dev).unwrap(),
            &Tensor::new(&[[10f32, -1.0]], &dev).unwrap(),
        )
        .unwrap();
        assert_eq!(
            hand.to_vec3::<f32>().unwrap(),
            [[[10.0, -2.0], [30.0, -4.0]]]
        );
        let p = Var::from_vec(grid(3 * 4, 5, 2.0, 0.1), (3, 4, 5), &dev).unwrap();
        let s = Var::from_vec(grid(3, 5, 1.0, -0.2), (3, 5), &dev).unwrap();
        let weights = Tensor::new(grid(3 * 4, 5, 2.0, 0.5), &dev)
            .unwrap()
            .reshape((3, 4, 5))
            .unwrap();
        let fast = scale_columns(p.as_tensor(), s.as_tensor()).unwrap();
        let plain = p
            .as_tensor()
            .broadcast_mul(&s.as_tensor().unsqueeze(1).unwrap())
            .unwrap();
        close(&fast, &plain, 0.0);
        let loss = |t: &Tensor| (t * &weights).unwrap().sum_all().unwrap();
        let (fast_grads, plain_grads) = (
            loss(&fast).backward().unwrap(),
            loss(&plain).backward().unwrap(),
        );
        for var in [&p, &s] {
            let t = var.as_tensor();
            close(
                fast_grads.get(t).unwrap(),
                plain_grads.get(t).unwrap(),
                1e-6,
            );
        }
    }

    #[test]
    fn quadratic_rows_and_their_gradients_equal_candles() {
        let dev = Device::Cpu;
        // By hand: p = [1, 2], G = [[2, 1], [1, 3]]: 2 + 2·(1·2·1) + 3·4 = 18.
        let hand = quadratic_rows(
            &Tensor::new(&[[1f32, 2.0]], &dev).unwrap(),
            &Tensor::new(&[[2f32, 1.0], [1.0, 3.0]], &dev).unwrap(),
        )
        .unwrap();
        assert_eq!(hand.to_vec1::<f32>().unwrap(), [18.0]);
        let asymmetric = Tensor::new(&[[2f32, 1.0], [0.0, 3.0]], &dev).unwrap();
        let p = Tensor::new(&[[1f32, 2.0]], &dev).unwrap();
        let err = quadratic_rows(&p, &asymmetric).unwrap_err().to_string();
        assert!(err.contains("not symmetric"), "{err}");

        let p = Var::from_vec(grid(6, 4, 2.0, 0.1), (6, 4), &dev).unwrap();
        let w = Var::from_vec(grid(4, 3, 1.0, -0.2), (4, 3), &dev).unwrap();
        let weights = Tensor::new(grid(6, 1, 2.0, 0.5), &dev)
            .unwrap()
            .reshape(6)
            .unwrap();
        let gram = w.as_tensor().matmul(&w.as_tensor().t().unwrap()).unwrap();
        let fast = quadratic_rows(p.as_tensor(), &gram).unwrap();
        let plain = (p.as_tensor().matmul(&gram).unwrap() * p.as_tensor())
            .unwrap()
            .sum(1)
            .unwrap();
        close(&fast, &plain, 1e-5);
        let loss = |t: &Tensor| (t * &weights).unwrap().sum_all().unwrap();
        let (fast_grads, plain_grads) = (
            loss(&fast).backward().unwrap(),
            loss(&plain).backward().unwrap(),
        );
        for var in [&p, &w] {
            let t = var.as_tensor();
            close(
                fast_grads.get(t).unwrap(),
                plain_grads.get(t).unwrap(),
                1e-5,
            );
        }
    }

    #[test]
    fn bce_mean_and_its_gradient_equal_the_candle_operations() {
        let dev = Device::Cpu;
        let logits = Var::from_vec(grid(5, 6, 8.0, 0.3), (5, 6), &dev).unwrap();
        let target = Var::from_vec(grid(5, 6, 1.0, 0.5), (5, 6), &dev).unwrap();
        let fast = bce_mean(logits.as_tensor(), target.as_tensor()).unwrap();
        let plain = bce_sum(logits.as_tensor(), target.as_tensor())
            .unwrap()
            .sum(1)
            .unwrap()
            .mean_all()
            .unwrap();
        close(&fast, &plain, 1e-5);
        let (fast_grads, plain_grads) = (
            (fast * 3.0).unwrap().backward().unwrap(),
            (plain * 3.0).unwrap().backward().unwrap(),
        );
        for var in [&logits, &target] {
            let t = var.as_tensor();
            close(
                fast_grads.get(t).unwrap(),
                plain_grads.get(t).unwrap(),
                1e-5,
            );
        }
    }

    #[test]
    fn batch_norm_relu_equals_candle_nn_in_values_gradients_and_running_statistics() {
        let dev = Device::Cpu;
        let config = BatchNormConfig {
            eps: 1e-5,
            remove_mean: true,
            affine: true,
            momentum: 0.1,
        };
        let build = || {
            let varmap = VarMap::new();
            let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
            let bn = candle_nn::batch_norm(4, config, vb).unwrap();
            let (gamma, beta) = bn.weight_and_bias().unwrap();
            let set = |t: &Tensor, v: &[f32]| {
                t.inplace_op2(&Tensor::new(v, &dev).unwrap(), &Mix(1.0))
                    .unwrap()
            };
            set(gamma, &[1.5, -0.5, 1.0, 2.0]);
            set(beta, &[0.1, 0.2, -0.3, 0.0]);
            (varmap, bn)
        };
        let (fast_map, fast_bn) = build();
        let (plain_map, plain_bn) = build();
        let h = Var::from_vec(grid(6, 4, 3.0, 0.2), (6, 4), &dev).unwrap();
        let weights = Tensor::new(grid(6, 4, 2.0, 0.1), &dev)
            .unwrap()
            .reshape((6, 4))
            .unwrap();
        let fast = batch_norm_relu(h.as_tensor(), &fast_bn, 1e-5, 0.1).unwrap();
        let plain = plain_bn
            .forward_t(h.as_tensor(), true)
            .unwrap()
            .relu()
            .unwrap();
        close(&fast, &plain, 1e-5);
        let loss = |t: &Tensor| (t * &weights).unwrap().sum_all().unwrap();
        let (fast_grads, plain_grads) = (
            loss(&fast).backward().unwrap(),
            loss(&plain).backward().unwrap(),
        );
        close(
            fast_grads.get(h.as_tensor()).unwrap(),
            plain_grads.get(h.as_tensor()).unwrap(),
            1e-5,
        );
        let (fg, fb) = fast_bn.weight_and_bias().unwrap();
        let (pg, pb) = plain_bn.weight_and_bias().unwrap();
        close(
            fast_grads.get(fg).unwrap(),
            plain_grads.get(pg).unwrap(),
            1e-5,
        );
        close(
            fast_grads.get(fb).unwrap(),
            plain_grads.get(pb).unwrap(),
            1e-5,
        );
        close(fast_bn.running_mean(), plain_bn.running_mean(), 1e-6);
        close(fast_bn.running_var(), plain_bn.running_var(), 1e-6);
        drop((fast_map, plain_map));
    }

    #[test]
    fn adam_equals_candle_nns_adamw_without_weight_decay() {
        use candle_nn::{AdamW, Optimizer, ParamsAdamW};
        let dev = Device::Cpu;
        let start = grid(3, 4, 1.0, 0.0);
        let (fast_w, plain_w) = (
            Var::from_vec(start.clone(), (3, 4), &dev).unwrap(),
            Var::from_vec(start, (3, 4), &dev).unwrap(),
        );
        let mut fast = Adam::new(vec![fast_w.clone()], 1e-2);
        let params = ParamsAdamW {
            lr: 1e-2,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        };
        let mut plain = AdamW::new(vec![plain_w.clone()], params).unwrap();
        let target = Tensor::new(grid(3, 4, 2.0, 0.9), &dev)
            .unwrap()
            .reshape((3, 4))
            .unwrap();
        for _ in 0..20 {
            let loss = |w: &Var| (w.as_tensor() - &target).unwrap().sqr().unwrap().sum_all();
            fast.step(&loss(&fast_w).unwrap().backward().unwrap())
                .unwrap();
            plain
                .step(&loss(&plain_w).unwrap().backward().unwrap())
                .unwrap();
        }
        close(fast_w.as_tensor(), plain_w.as_tensor(), 1e-5);
        // Twenty steps moved the weights by far more than the tolerance.
        let moved = (fast_w.as_tensor()
            - Tensor::new(grid(3, 4, 1.0, 0.0), &dev)
                .unwrap()
                .reshape((3, 4))
                .unwrap())
        .unwrap()
        .abs()
        .unwrap()
        .min_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
        assert!(moved > 0.05, "{moved}");
    }
}
