//! Sparse input affinities P of t-SNE: exact k nearest neighbours and a
//! per-point Gaussian calibrated to the perplexity, then symmetrised.

use super::neighbours::knn;

/// Symmetric sparse joint probabilities in compressed-row form.
pub(crate) struct SparseP {
    /// Row `i` spans `cols[starts[i]..starts[i + 1]]`.
    pub starts: Vec<usize>,
    /// Column (neighbour) index of each entry.
    pub cols: Vec<usize>,
    /// Joint probability of each entry; all entries sum to 1.
    pub vals: Vec<f64>,
}

/// Conditional probabilities p(j|i) over the neighbours `d2` (squared
/// distances) whose entropy is ln(perplexity), found by bisection on the
/// Gaussian precision as in scikit-learn.
fn calibrate(d2: &[f64], perplexity: f64) -> Vec<f64> {
    let target = perplexity.ln();
    let d_min = d2.iter().copied().fold(f64::INFINITY, f64::min);
    let (mut beta, mut lo, mut hi) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
    let mut p = vec![0.0; d2.len()];
    for _ in 0..200 {
        // Shifting by the nearest distance changes nothing after normalising
        // but keeps exp() from underflowing on far-apart data.
        let mut sum = 0.0;
        for (pj, &d) in p.iter_mut().zip(d2) {
            *pj = (-(d - d_min) * beta).exp();
            sum += *pj;
        }
        let mean_d: f64 = p
            .iter()
            .zip(d2)
            .map(|(pj, d)| pj * (d - d_min))
            .sum::<f64>()
            / sum;
        let entropy = sum.ln() + beta * mean_d;
        p.iter_mut().for_each(|pj| *pj /= sum);
        let diff = entropy - target;
        if diff.abs() <= 1e-5 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi.is_infinite() {
                beta * 2.0
            } else {
                (beta + hi) / 2.0
            };
        } else {
            hi = beta;
            beta = if lo.is_infinite() {
                beta / 2.0
            } else {
                (beta + lo) / 2.0
            };
        }
    }
    p
}

/// Joint probabilities `(p(j|i) + p(i|j)) / 2n` over the `3 * perplexity + 1`
/// nearest neighbours of each point (at most `n - 1`).
pub(crate) fn joint_probabilities(data: &[f64], dim: usize, perplexity: f64) -> SparseP {
    let n = data.len() / dim;
    let k = ((3.0 * perplexity) as usize + 1).min(n - 1);
    let mut triplets: Vec<(usize, usize, f64)> = Vec::with_capacity(2 * n * k);
    for (i, neighbours) in knn(data, dim, k).into_iter().enumerate() {
        let d2: Vec<f64> = neighbours.iter().map(|&(d, _)| d).collect();
        for (&(_, j), p) in neighbours.iter().zip(calibrate(&d2, perplexity)) {
            triplets.push((i, j, p));
            triplets.push((j, i, p));
        }
    }
    triplets.sort_unstable_by_key(|t| (t.0, t.1));
    let total: f64 = triplets.iter().map(|t| t.2).sum();
    let mut out = SparseP {
        starts: vec![0; n + 1],
        cols: Vec::new(),
        vals: Vec::new(),
    };
    let mut prev = None;
    for (i, j, p) in triplets {
        if prev == Some((i, j)) {
            *out.vals.last_mut().expect("entry exists") += p / total;
        } else {
            out.cols.push(j);
            out.vals.push(p / total);
        }
        prev = Some((i, j));
        out.starts[i + 1] = out.cols.len();
    }
    // Rows without entries (impossible for n >= 2, kept for safety) end where the previous row ends.
    for i in 0..n {
        out.starts[i + 1] = out.starts[i + 1].max(out.starts[i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_hits_the_perplexity() {
        let d2: Vec<f64> = (1..=40).map(|i| f64::from(i) * 3.7).collect();
        let p = calibrate(&d2, 10.0);
        let entropy: f64 = -p
            .iter()
            .filter(|&&x| x > 0.0)
            .map(|x| x * x.ln())
            .sum::<f64>();
        assert!((entropy - 10f64.ln()).abs() < 1e-4, "{entropy}");
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn joint_probabilities_are_symmetric_and_normalised() {
        let data: Vec<f64> = (0..60).map(|i| f64::from((i * 37) % 23)).collect();
        let p = joint_probabilities(&data, 3, 4.0);
        assert!((p.vals.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let get = |i: usize, j: usize| {
            (p.starts[i]..p.starts[i + 1])
                .find(|&e| p.cols[e] == j)
                .map_or(0.0, |e| p.vals[e])
        };
        for i in 0..20 {
            for e in p.starts[i]..p.starts[i + 1] {
                assert_ne!(p.cols[e], i);
                assert!((p.vals[e] - get(p.cols[e], i)).abs() < 1e-15);
            }
        }
    }
}
