//! Row-major matrix products for the training engine, on the `gemm` crate that candle uses.
//!
//! With activations stored one column per sample (see [`crate::kernels::layout`]) every product the
//! networks need is `a·b` (the forward pass `W·x`, the weight gradient `dz·xᵀ` with `xᵀ`
//! copied to rows) or `aᵀ·b` (the input gradient `Wᵀ·dz`): the two forms `gemm` runs
//! fastest for these shapes. The form `a·bᵀ` measured a third slower; only the autograd
//! backend, whose activations are row-major, uses it (`x·Wᵀ`, through [`matmul_strided`]),
//! and only for its narrower layers: its 1024-wide input is transposed to the fast form.

use gemm::Parallelism;

/// Products smaller than this many multiply-adds run on the calling thread: splitting them
/// across threads costs more than it saves.
const PARALLEL_MIN_WORK: usize = 1 << 18;

#[allow(clippy::too_many_arguments)]
fn gemm_strided(
    out: &mut [f32],
    a: &[f32],
    a_row_stride: usize,
    a_col_stride: usize,
    b: &[f32],
    b_row_stride: usize,
    b_col_stride: usize,
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    assert!(out.len() >= m * n, "output buffer too small");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out[..m * n].fill(0.0);
        }
        return;
    }
    let parallelism = if m * n * k >= PARALLEL_MIN_WORK {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    // SAFETY: the asserts in the public wrappers guarantee that every index the strides
    // reach lies inside the slices; `out` does not alias `a` or `b` (borrow rules).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_col_stride as isize,
            a_row_stride as isize,
            b.as_ptr(),
            b_col_stride as isize,
            b_row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `out[m,n] (+)= a[m,k] · b[k,n]`: the forward product `W·x` and the weight gradient.
pub fn matmul_a_b(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    assert!(
        a.len() >= m * k && b.len() >= k * n,
        "matmul_a_b: operand too small"
    );
    gemm_strided(out, a, k, 1, b, n, 1, (m, k, n), accumulate);
}

/// `out[m,n] (+)= a[k,m]ᵀ · b[k,n]`: the input gradient `Wᵀ·dz`.
pub fn matmul_at_b(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    assert!(
        a.len() >= k * m && b.len() >= k * n,
        "matmul_at_b: operand too small"
    );
    gemm_strided(out, a, 1, m, b, n, 1, (m, k, n), accumulate);
}

/// `out[m,n] (+)= a[m,k] · b[k,n]` for operands given by their first element and their
/// (row, column) strides: the autograd backend's products on row-major activations and on
/// weights that may be transposed views ([`crate::autograd::ops::linear`]).
#[allow(clippy::too_many_arguments)]
pub fn matmul_strided(
    out: &mut [f32],
    a: &[f32],
    a_strides: (usize, usize),
    b: &[f32],
    b_strides: (usize, usize),
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    let last = |(rs, cs): (usize, usize), rows: usize, cols: usize| {
        (rows.max(1) - 1) * rs + (cols.max(1) - 1) * cs
    };
    assert!(
        (m * k == 0 || last(a_strides, m, k) < a.len())
            && (k * n == 0 || last(b_strides, k, n) < b.len()),
        "matmul_strided: operand too small"
    );
    gemm_strided(
        out,
        a,
        a_strides.0,
        a_strides.1,
        b,
        b_strides.0,
        b_strides.1,
        (m, k, n),
        accumulate,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(
        a: impl Fn(usize, usize) -> f32,
        b: impl Fn(usize, usize) -> f32,
        m: usize,
        k: usize,
        n: usize,
    ) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a(i, p) * b(p, j)).sum();
            }
        }
        out
    }

    fn close(x: &[f32], y: &[f32]) {
        for (p, q) in x.iter().zip(y) {
            assert!((p - q).abs() < 1e-3 * (1.0 + q.abs()), "{p} vs {q}");
        }
    }

    #[test]
    fn every_shape_matches_a_naive_product() {
        let (m, k, n) = (67, 129, 45);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0)
            .collect();
        let mut out = vec![0.0; m * n];
        let b: Vec<f32> = (0..k * n)
            .map(|i| ((i * 3 % 17) as f32 - 8.0) / 7.0)
            .collect();
        matmul_a_b(&mut out, &a, &b, m, k, n, false);
        close(
            &out,
            &naive(|i, p| a[i * k + p], |p, j| b[p * n + j], m, k, n),
        );

        let at: Vec<f32> = (0..k * m)
            .map(|i| ((i * 11 % 19) as f32 - 9.0) / 4.0)
            .collect();
        matmul_at_b(&mut out, &at, &b, m, k, n, false);
        let expected = naive(|i, p| at[p * m + i], |p, j| b[p * n + j], m, k, n);
        close(&out, &expected);

        matmul_at_b(&mut out, &at, &b, m, k, n, true);
        let doubled: Vec<f32> = expected.iter().map(|v| 2.0 * v).collect();
        close(&out, &doubled);

        let bt: Vec<f32> = (0..n * k)
            .map(|i| ((i * 5 % 23) as f32 - 11.0) / 6.0)
            .collect();
        let expected = naive(|i, p| a[i * k + p], |p, j| bt[j * k + p], m, k, n);
        matmul_strided(&mut out, &a, (k, 1), &bt, (1, k), (m, k, n), false);
        close(&out, &expected);
    }
}
