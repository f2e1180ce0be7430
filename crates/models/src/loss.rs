//! Reconstruction loss: binary cross-entropy on the decoder's logits, in a stable form.

/// BCE of `sigmoid(logit)` against `target`, `max(l, 0) - l*t + ln(1 + exp(-|l|))`.
///
/// Equal to `-(t ln p + (1-t) ln(1-p))` with `p = sigmoid(l)` wherever that is finite, and
/// finite everywhere. (The reference evaluates the naive form on `p` with each log clamped
/// at -100, which only differs once `|l|` exceeds about 17 in single precision.)
#[inline]
pub fn bce_with_logit(logit: f32, target: f32) -> f32 {
    logit.max(0.0) - logit * target + (1.0 + (-logit.abs()).exp()).ln()
}

/// The logistic sigmoid.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Reconstruction loss of a batch: BCE summed over each image's pixels, averaged over the
/// `n` images; writes `d loss / d logits` into `grad` (`(sigmoid(l) - t) / n`).
///
/// Rows are spread over the rayon pool; each row's sum is kept and the rows are added in
/// order, so the result does not depend on how the work was split.
pub fn bce_loss_and_grad(logits: &[f32], targets: &[f32], n: usize, grad: &mut Vec<f32>) -> f64 {
    use rayon::prelude::*;
    grad.resize(logits.len(), 0.0);
    let inv_n = 1.0 / n as f32;
    let width = logits.len() / n;
    let row_sums: Vec<f64> = logits
        .par_chunks(width)
        .zip(targets.par_chunks(width))
        .zip(grad.par_chunks_mut(width))
        .map(|((row_l, row_t), row_g)| {
            let mut row_sum = 0.0f64;
            for ((&l, &t), g) in row_l.iter().zip(row_t).zip(row_g.iter_mut()) {
                // one exp serves both the loss and the sigmoid
                let e = (-l.abs()).exp();
                row_sum += (l.max(0.0) - l * t + (1.0 + e).ln()) as f64;
                let p = if l >= 0.0 {
                    1.0 / (1.0 + e)
                } else {
                    e / (1.0 + e)
                };
                *g = (p - t) * inv_n;
            }
            row_sum
        })
        .collect();
    row_sums.iter().sum::<f64>() / n as f64
}

/// Per-image BCE summed over pixels (`width` pixels per image): the anomaly score and the
/// per-image reconstruction error.
pub fn bce_per_image(logits: &[f32], targets: &[f32], width: usize) -> Vec<f32> {
    logits
        .chunks_exact(width)
        .zip(targets.chunks_exact(width))
        .map(|(l, t)| {
            l.iter()
                .zip(t)
                .map(|(&l, &t)| bce_with_logit(l, t) as f64)
                .sum::<f64>() as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            }
        }
        // hand-computed: BCE(sigmoid(0), 1) = ln 2
        assert!((bce_with_logit(0.0, 1.0) - std::f32::consts::LN_2).abs() < 1e-7);
    }

    #[test]
    fn stable_form_stays_finite_at_saturated_outputs() {
        // sigmoid(±200) rounds to exactly 1 or 0 in f32, where the naive form is infinite.
        assert!(naive_bce(sigmoid(200.0) as f64, 0.0).is_infinite());
        assert_eq!(bce_with_logit(200.0, 0.0), 200.0);
        assert_eq!(bce_with_logit(-200.0, 1.0), 200.0);
        assert!(bce_with_logit(200.0, 1.0).abs() < 1e-6);
        assert!(bce_with_logit(-200.0, 0.0).abs() < 1e-6);
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
}
