//! What a classifier's logits say about a set of images: how sure it is of each (its
//! confidence, the largest softmax probability) and how varied its predictions are (the
//! entropy of the histogram of predicted classes).

/// The largest softmax probability of each row of `logits` (`[rows, classes]`), in f64: the
/// classifier's confidence in its prediction, between `1 / classes` and 1.
///
/// # Panics
/// If `classes` is 0 or `logits` is not whole rows of `classes`.
pub fn confidences(logits: &[f32], classes: usize) -> Vec<f64> {
    rows(logits, classes)
        .map(|row| {
            let max = row
                .iter()
                .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
            // The largest probability is exp(max - max) / Σ exp(v - max).
            1.0 / row.iter().map(|&v| (f64::from(v) - max).exp()).sum::<f64>()
        })
        .collect()
}

/// The predicted class of each row of `logits` (`[rows, classes]`): the arg-max, the first
/// on ties (as `torch.argmax`).
///
/// # Panics
/// If `classes` is 0 or `logits` is not whole rows of `classes`.
pub fn predictions(logits: &[f32], classes: usize) -> Vec<usize> {
    rows(logits, classes)
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// How many of `predictions` fall on each of `classes` classes.
///
/// # Panics
/// If a prediction is not below `classes`.
pub fn class_histogram(predictions: &[usize], classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    for &p in predictions {
        assert!(
            p < classes,
            "prediction {p} out of range for {classes} classes"
        );
        counts[p] += 1;
    }
    counts
}

/// Entropy in nats (natural logarithm) of the distribution a histogram's counts describe,
/// `-Σ p ln p` over the non-empty bins: 0 when every count is in one bin, `ln(bins)` when
/// the counts are uniform (ln 10 ≈ 2.303 for ten classes); 0 for an empty histogram.
pub fn entropy_nats(counts: &[usize]) -> f64 {
    let total: usize = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    // Subtracting from +0.0 keeps a one-bin histogram at +0.0 (a sum of -0.0 terms is -0.0).
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / total)
        .fold(0.0, |h, p| h - p * p.ln())
}

/// Arithmetic mean, summed in order; NaN for no values.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn rows(logits: &[f32], classes: usize) -> std::slice::ChunksExact<'_, f32> {
    assert!(
        classes > 0 && logits.len().is_multiple_of(classes),
        "logits: {} values are not whole rows of {classes}",
        logits.len()
    );
    logits.chunks_exact(classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) {
        assert!((a - b).abs() < tolerance, "{a} vs {b}");
    }

    #[test]
    fn confidence_is_the_largest_softmax_probability() {
        // Row 1: logits (0, ln 3) -> probabilities (1/4, 3/4). Row 2: equal logits -> 1/2.
        // Row 3: a large logit does not overflow: (1000, 1000 + ln 4) -> 4/5. (The logits are
        // f32: ln 3 is off by 1e-8, 1000 + ln 4 by 3e-5.)
        let logits = [0.0, 3f32.ln(), 7.0, 7.0, 1000.0, 1000.0 + 4f32.ln()];
        let c = confidences(&logits, 2);
        close(c[0], 0.75, 1e-7);
        close(c[1], 0.5, 1e-12);
        close(c[2], 0.8, 1e-4);
        close(mean(&c[..2]), 0.625, 1e-7);
    }

    #[test]
    fn predictions_take_the_first_maximum_and_fill_the_histogram() {
        let logits = [
            1.0, 3.0, 3.0, /* */ 5.0, 0.0, 0.0, /* */ 0.0, 0.0, 0.0,
        ];
        let p = predictions(&logits, 3);
        assert_eq!(p, [1, 0, 0]);
        assert_eq!(class_histogram(&p, 3), [2, 1, 0]);
    }

    #[test]
    fn entropy_in_nats_of_hand_computed_histograms() {
        // One class: 0. Two equal classes: ln 2. Ten equal classes: ln 10.
        assert_eq!(entropy_nats(&[5, 0, 0]), 0.0);
        assert!(entropy_nats(&[5, 0, 0]).is_sign_positive());
        close(entropy_nats(&[3, 3]), 2f64.ln(), 1e-12);
        close(entropy_nats(&[7; 10]), 10f64.ln(), 1e-12);
        // (1/4, 3/4): -(1/4 ln 1/4 + 3/4 ln 3/4) = 0.5623351446188083.
        close(entropy_nats(&[1, 3]), 0.5623351446188083, 1e-12);
        close(entropy_nats(&[]), 0.0, 1e-12);
    }

    #[test]
    #[should_panic(expected = "logits: 5 values are not whole rows of 2")]
    fn ragged_logits_name_themselves() {
        confidences(&[0.0; 5], 2);
    }
}
