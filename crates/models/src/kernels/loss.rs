//! Reconstruction loss: binary cross-entropy on the decoder's logits, in a stable form.

use rayon::prelude::*;

use crate::kernels::simd::{exp_nonpositive, ln_1p_unit, multiversion};

/// Pixels (rows of the column layout) per parallel work item of [`bce_loss_and_grad`].
const ROWS_PER_TASK: usize = 32;

/// Accumulators per row sum: one AVX-512 register's worth.
const LANES: usize = 16;

/// BCE of `sigmoid(logit)` against `target` and `sigmoid(logit)` itself, sharing one `exp`:
/// `max(l, 0) - l*t + ln(1 + exp(-|l|))`.
///
/// Equal to `-(t ln p + (1-t) ln(1-p))` with `p = sigmoid(l)` wherever that is finite, and
/// finite everywhere. (The reference evaluates the naive form on `p` with each log clamped
/// at -100, which only differs once `|l|` exceeds about 17 in single precision.) Branch-free
/// so that loops over it vectorise; `exp` and `ln` are the polynomials of [`crate::kernels::simd`].
#[inline(always)]
fn bce_and_sigmoid(logit: f32, target: f32) -> (f32, f32) {
    let e = exp_nonpositive(-logit.abs());
    let loss = logit.max(0.0) - logit * target + ln_1p_unit(e);
    let r = 1.0 / (1.0 + e);
    let p = if logit >= 0.0 { r } else { e * r };
    (loss, p)
}

/// The logistic sigmoid.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Reconstruction loss of a batch in the column layout (`logits` and `targets` are
/// `[pixels, n]`): BCE summed over each image's pixels, averaged over the `n` images. Writes
/// `d loss / d logits` (`(sigmoid(l) - t) / n`) into `grad`.
///
/// Blocks of pixels are spread over the rayon pool; every pixel's sum is kept separately and
/// they are added in order, so the result does not depend on how the work was split.
pub fn bce_loss_and_grad(logits: &[f32], targets: &[f32], n: usize, grad: &mut Vec<f32>) -> f64 {
    assert_eq!(
        logits.len(),
        targets.len(),
        "logits and targets differ in size"
    );
    grad.resize(logits.len(), 0.0);
    let task = ROWS_PER_TASK * n;
    let sums: Vec<f64> = logits
        .par_chunks(task)
        .zip(targets.par_chunks(task))
        .zip(grad.par_chunks_mut(task))
        .map(|((l, t), g)| bce_rows(l, t, g, n))
        .collect();
    sums.iter().sum::<f64>() / n as f64
}

multiversion! {
    /// Loss and gradient of whole rows of `n` pixels; the sum of the rows' losses.
    fn bce_rows(logits: &[f32], targets: &[f32], grad: &mut [f32], n: usize) -> f64 {
        let inv_n = 1.0 / n as f32;
        let mut total = 0.0f64;
        for ((l, t), g) in logits.chunks(n).zip(targets.chunks(n)).zip(grad.chunks_mut(n)) {
            let mut acc = [0.0f32; LANES];
            let body = n / LANES * LANES;
            for ((cl, ct), cg) in l[..body]
                .chunks_exact(LANES)
                .zip(t[..body].chunks_exact(LANES))
                .zip(g[..body].chunks_exact_mut(LANES))
            {
                for k in 0..LANES {
                    let (loss, p) = bce_and_sigmoid(cl[k], ct[k]);
                    acc[k] += loss;
                    cg[k] = (p - ct[k]) * inv_n;
                }
            }
            let mut row = acc.iter().sum::<f32>();
            for ((&l, &t), g) in l[body..].iter().zip(&t[body..]).zip(&mut g[body..]) {
                let (loss, p) = bce_and_sigmoid(l, t);
                row += loss;
                *g = (p - t) * inv_n;
            }
            total += row as f64;
        }
        total
    }
}

multiversion! {
    /// BCE summed over paired logits and targets, in single precision.
    fn bce_sum(logits: &[f32], targets: &[f32]) -> f32 {
        crate::kernels::simd::sum_zip(logits, targets, |l, t| bce_and_sigmoid(l, t).0)
    }
}

/// Per-image BCE summed over pixels, for images stored one per row (`width` pixels per
/// image): the anomaly score and the per-image reconstruction error.
pub fn bce_per_image(logits: &[f32], targets: &[f32], width: usize) -> Vec<f32> {
    logits
        .chunks_exact(width)
        .zip(targets.chunks_exact(width))
        .map(|(l, t)| bce_sum(l, t))
        .collect()
}

/// BCE summed over every logit and its target, whatever their layout.
pub fn bce_total(logits: &[f32], targets: &[f32]) -> f64 {
    /// Values per single-precision partial sum.
    const BLOCK: usize = 1024;
    logits
        .chunks(BLOCK)
        .zip(targets.chunks(BLOCK))
        .map(|(l, t)| bce_sum(l, t) as f64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bce_with_logit(logit: f32, target: f32) -> f32 {
        bce_and_sigmoid(logit, target).0
    }

    fn naive_bce(p: f64, t: f64) -> f64 {
        -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
    }

    #[test]
    fn stable_form_equals_the_naive_form_where_both_are_finite() {
        for &l in &[-8.0f32, -2.5, -0.3, 0.0, 0.7, 3.0, 9.0] {
            for &t in &[0.0f32, 0.2, 0.5, 1.0] {
                let naive = naive_bce(1.0 / (1.0 + (-l as f64).exp()), t as f64);
                assert!(
                    (bce_with_logit(l, t) as f64 - naive).abs() < 1e-5 * (1.0 + naive),
                    "l={l} t={t}"
                );
                let p = bce_and_sigmoid(l, t).1;
                assert!((p - sigmoid(l)).abs() < 1e-6, "sigmoid({l})");
            }
        }
        // hand-computed: BCE(sigmoid(0), 1) = ln 2 (to the polynomial's few ulp)
        assert!((bce_with_logit(0.0, 1.0) - std::f32::consts::LN_2).abs() < 2e-7);
    }

    #[test]
    fn stable_form_stays_finite_at_saturated_outputs() {
        // sigmoid(±200) rounds to exactly 1 or 0 in f32, where the naive form is infinite.
        assert!(naive_bce(sigmoid(200.0) as f64, 0.0).is_infinite());
        assert_eq!(bce_with_logit(200.0, 0.0), 200.0);
        assert_eq!(bce_with_logit(-200.0, 1.0), 200.0);
        assert!(bce_with_logit(200.0, 1.0).abs() < 1e-6);
        assert!(bce_with_logit(-200.0, 0.0).abs() < 1e-6);
        assert!(bce_with_logit(f32::NAN, 0.0).is_nan());
    }

    #[test]
    fn batch_loss_sums_pixels_and_averages_images() {
        // two images of 1024 logits 0 against targets 1: each pixel costs ln 2.
        let logits = vec![0.0; 2048];
        let targets = vec![1.0; 2048];
        let mut grad = Vec::new();
        let loss = bce_loss_and_grad(&logits, &targets, 2, &mut grad);
        assert!((loss - 1024.0 * std::f64::consts::LN_2).abs() < 1e-3);
        assert!(grad.iter().all(|g| (g + 0.25).abs() < 1e-7)); // (0.5 - 1) / 2
        let per_image = bce_per_image(&logits, &targets, 1024);
        assert_eq!(per_image.len(), 2);
        assert!((per_image[0] as f64 - 1024.0 * std::f64::consts::LN_2).abs() < 1e-2);
    }

    #[test]
    fn batch_loss_does_not_depend_on_the_layout_of_the_work() {
        // 37 images (not a multiple of the lane count), 70 pixels: the column-layout batch
        // loss equals the mean of the per-image losses of the same images stored as rows.
        let (n, width) = (37, 70);
        let logits: Vec<f32> = (0..n * width)
            .map(|i| ((i * 13 % 29) as f32 - 14.0) / 3.0)
            .collect();
        let targets: Vec<f32> = (0..n * width).map(|i| (i * 7 % 11) as f32 / 10.0).collect();
        let mut grad = Vec::new();
        let loss = bce_loss_and_grad(&logits, &targets, n, &mut grad);
        let rows = crate::kernels::layout::to_rows(&logits, width, n);
        let trows = crate::kernels::layout::to_rows(&targets, width, n);
        let per_image: f64 = bce_per_image(&rows, &trows, width)
            .iter()
            .map(|&v| v as f64)
            .sum();
        assert!(
            (loss - per_image / n as f64).abs() < 1e-4,
            "{loss} vs {}",
            per_image / n as f64
        );
        let i = 5 * n + 3; // pixel 5 of image 3
        let expected = (sigmoid(logits[i]) - targets[i]) / n as f32;
        assert!((grad[i] - expected).abs() < 1e-7);
    }
}
