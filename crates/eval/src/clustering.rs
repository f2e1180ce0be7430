//! K-means clustering of latent codes and its agreement with the true classes
//! (Kuhn-Munkres-matched accuracy, normalised mutual information).

use std::collections::HashMap;

use linfa::prelude::*;
use linfa_clustering::KMeans;
use ndarray::Array2;
use pathfinding::prelude::{kuhn_munkres, Matrix};
use rand_xoshiro::rand_core::SeedableRng as _;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

/// Number of clusters used by [`cluster_latents`]: the ten MNIST digits.
pub const N_CLASSES: usize = 10;

/// A k-means fit that failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClusteringError {
    /// linfa could not fit k-means (e.g. non-finite codes).
    #[error("k-means failed: {0}")]
    KMeans(String),
}

/// How well k-means clusters of the latent codes match the digit classes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClusteringScores {
    /// Fraction of samples whose cluster maps to their class under the best
    /// one-to-one cluster-to-class matching, in [0, 1].
    pub accuracy: f64,
    /// Normalised mutual information (arithmetic-mean normalisation), in [0, 1].
    pub nmi: f64,
}

/// Clusters the `n x dim` row-major `codes` into `k` clusters with k-means
/// (k-means++ initialisation, linfa's default 10 runs keeping the lowest
/// inertia) and returns each row's cluster in `0..k`. Deterministic for a
/// given `seed`.
///
/// # Errors
/// [`ClusteringError::KMeans`] if linfa cannot fit the model.
///
/// # Panics
/// If `dim == 0`, `codes.len()` is not a multiple of `dim`, there are fewer
/// rows than `k`, or `k == 0`.
pub fn kmeans(
    codes: &[f32],
    dim: usize,
    k: usize,
    seed: u64,
) -> Result<Vec<usize>, ClusteringError> {
    assert!(
        dim > 0 && codes.len().is_multiple_of(dim),
        "codes must be n x dim"
    );
    let n = codes.len() / dim;
    assert!(k > 0 && n >= k, "need at least k = {k} rows, got {n}");
    let records = Array2::from_shape_fn((n, dim), |(i, j)| f64::from(codes[i * dim + j]));
    let dataset = DatasetBase::from(records);
    let rng = Xoshiro256Plus::seed_from_u64(seed);
    let model = KMeans::params_with_rng(k, rng)
        .max_n_iterations(300)
        .tolerance(1e-6)
        .fit(&dataset)
        .map_err(|e| ClusteringError::KMeans(e.to_string()))?;
    Ok(model.predict(dataset.records()).to_vec())
}

/// Maps arbitrary labels to dense indices `0..m` in order of first appearance.
fn dense<T: Copy + Eq + std::hash::Hash>(labels: &[T]) -> (Vec<usize>, usize) {
    let mut ids = HashMap::new();
    let dense = labels
        .iter()
        .map(|l| {
            let next = ids.len();
            *ids.entry(*l).or_insert(next)
        })
        .collect();
    (dense, ids.len())
}

/// Contingency table `counts[p][t]` of dense predicted and true labels.
fn contingency(pred: &[usize], truth: &[u8]) -> Vec<Vec<u64>> {
    assert_eq!(pred.len(), truth.len(), "pred and truth lengths differ");
    assert!(!pred.is_empty(), "no samples");
    let (p, np) = dense(pred);
    let (t, nt) = dense(truth);
    let mut counts = vec![vec![0u64; nt]; np];
    for (&a, &b) in p.iter().zip(&t) {
        counts[a][b] += 1;
    }
    counts
}

/// Clustering accuracy: the fraction of samples correctly labelled under the
/// one-to-one matching of clusters to classes that maximises it (Kuhn-Munkres
/// on the contingency table, padded square with zeros). Clusters left
/// unmatched (more clusters than classes) count as wrong.
///
/// # Panics
/// If the lengths differ or the inputs are empty.
pub fn clustering_accuracy(pred: &[usize], truth: &[u8]) -> f64 {
    let counts = contingency(pred, truth);
    let size = counts.len().max(counts[0].len());
    // Every count and every sum of them is at most `pred.len()`: exact in an i64.
    let weights = Matrix::from_fn(size, size, |(i, j)| {
        counts
            .get(i)
            .and_then(|r| r.get(j))
            .map_or(0, |&c| i64::try_from(c).expect("count fits in i64"))
    });
    let (matched, _) = kuhn_munkres(&weights);
    matched as f64 / pred.len() as f64
}

/// Normalised mutual information `MI / mean(H(pred), H(truth))` with natural
/// logarithms, as scikit-learn's default (`average_method="arithmetic"`).
/// Defined as 1 when both labellings consist of a single cluster.
///
/// # Panics
/// If the lengths differ or the inputs are empty.
pub fn normalized_mutual_info(pred: &[usize], truth: &[u8]) -> f64 {
    let counts = contingency(pred, truth);
    let n = pred.len() as f64;
    let rows: Vec<f64> = counts
        .iter()
        .map(|r| r.iter().sum::<u64>() as f64)
        .collect();
    let cols: Vec<f64> = (0..counts[0].len())
        .map(|j| counts.iter().map(|r| r[j]).sum::<u64>() as f64)
        .collect();
    if rows.len() == 1 && cols.len() == 1 {
        return 1.0;
    }
    let entropy =
        |sizes: &[f64]| -> f64 { -sizes.iter().map(|&s| s / n * (s / n).ln()).sum::<f64>() };
    let mut mi = 0.0;
    for (i, row) in counts.iter().enumerate() {
        for (j, &c) in row.iter().enumerate() {
            if c > 0 {
                let c = c as f64;
                mi += c / n * (n * c / (rows[i] * cols[j])).ln();
            }
        }
    }
    let mean_entropy = (entropy(&rows) + entropy(&cols)) / 2.0;
    (mi.max(0.0) / mean_entropy.max(f64::EPSILON)).min(1.0)
}

/// K-means with k = [`N_CLASSES`] on the `n x dim` latent `codes`, scored
/// against the digit `labels`.
///
/// # Errors
/// As [`kmeans`].
///
/// # Panics
/// As [`kmeans`], or if `labels` does not have one entry per row.
pub fn cluster_latents(
    codes: &[f32],
    dim: usize,
    labels: &[u8],
    seed: u64,
) -> Result<ClusteringScores, ClusteringError> {
    let pred = kmeans(codes, dim, N_CLASSES, seed)?;
    Ok(ClusteringScores {
        accuracy: clustering_accuracy(&pred, labels),
        nmi: normalized_mutual_info(&pred, labels),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn perfect_and_permuted_labelling() {
        let truth: Vec<u8> = (0..50).map(|i| (i % 5) as u8).collect();
        let same: Vec<usize> = truth.iter().map(|&t| t as usize).collect();
        assert_eq!(clustering_accuracy(&same, &truth), 1.0);
        assert!((normalized_mutual_info(&same, &truth) - 1.0).abs() < 1e-12);
        let permuted: Vec<usize> = truth
            .iter()
            .map(|&t| [3, 0, 4, 1, 2][t as usize] + 7)
            .collect();
        assert_eq!(clustering_accuracy(&permuted, &truth), 1.0);
        assert!((normalized_mutual_info(&permuted, &truth) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn small_hand_computed_case() {
        // Contingency (rows pred, cols truth): pred 0 -> {0: 2}, pred 1 -> {0: 1, 1: 1}.
        // Accuracy: match 0->0 (2) and 1->1 (1): 3/4.
        // MI = 2/4 ln(4*2/(2*3)) + 1/4 ln(4*1/(2*3)) + 1/4 ln(4*1/(2*1))
        //    = 0.5 ln(4/3) + 0.25 ln(2/3) + 0.25 ln 2 = 0.2157616...
        // H(pred) = ln 2 = 0.6931472, H(truth) = -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.5623351
        // NMI = 0.2157616 / ((0.6931472 + 0.5623351) / 2) = 0.3437110...
        let pred = [0, 0, 1, 1];
        let truth = [0, 0, 0, 1];
        assert_eq!(clustering_accuracy(&pred, &truth), 0.75);
        let mi = 0.5 * (4.0f64 / 3.0).ln() + 0.25 * (2.0f64 / 3.0).ln() + 0.25 * 2.0f64.ln();
        let h_truth = -(0.75 * 0.75f64.ln() + 0.25 * 0.25f64.ln());
        let expected = mi / ((2.0f64.ln() + h_truth) / 2.0);
        let nmi = normalized_mutual_info(&pred, &truth);
        assert!((nmi - expected).abs() < 1e-12);
        assert!((nmi - 0.343711).abs() < 1e-6, "{nmi}");
    }

    #[test]
    fn degenerate_labellings() {
        assert_eq!(normalized_mutual_info(&[4, 4, 4], &[1, 1, 1]), 1.0);
        assert_eq!(normalized_mutual_info(&[4, 4, 4, 4], &[1, 2, 1, 2]), 0.0);
        assert_eq!(clustering_accuracy(&[4, 4, 4, 4], &[1, 2, 1, 2]), 0.5);
        // More clusters than classes: the extra cluster is wrong.
        assert_eq!(clustering_accuracy(&[0, 1, 2, 2], &[0, 0, 1, 1]), 0.75);
    }

    /// All permutations of `0..n`.
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for pos in 0..n {
                let mut q = p.clone();
                q.insert(pos, n - 1);
                out.push(q);
            }
        }
        out
    }

    /// The accuracy by brute force: the best of every one-to-one matching of the
    /// (padded square) contingency table.
    fn brute_force_accuracy(pred: &[usize], truth: &[u8]) -> f64 {
        let counts = contingency(pred, truth);
        let size = counts.len().max(counts[0].len());
        let count = |i: usize, j: usize| counts.get(i).and_then(|r| r.get(j)).copied();
        let best = permutations(size)
            .iter()
            .map(|p| {
                p.iter()
                    .enumerate()
                    .map(|(i, &j)| count(i, j).unwrap_or(0))
                    .sum::<u64>()
            })
            .max()
            .unwrap();
        best as f64 / pred.len() as f64
    }

    #[test]
    fn accuracy_matches_brute_force_on_seeded_random_labellings() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for clusters in 1..=6 {
            for classes in 1..=6u8 {
                for _ in 0..10 {
                    let n = rng.random_range(1..60);
                    let pred: Vec<usize> = (0..n).map(|_| rng.random_range(0..clusters)).collect();
                    let truth: Vec<u8> = (0..n).map(|_| rng.random_range(0..classes)).collect();
                    assert_eq!(
                        clustering_accuracy(&pred, &truth),
                        brute_force_accuracy(&pred, &truth),
                        "{pred:?} {truth:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn kmeans_reports_a_failed_fit_as_an_error() {
        let codes = [0.0, 1.0, f32::NAN, 2.0, 3.0, 4.0];
        let result = std::panic::catch_unwind(|| kmeans(&codes, 2, 2, 0));
        match result {
            Ok(Err(ClusteringError::KMeans(_))) => {}
            other => panic!("expected a k-means error, got {other:?}"),
        }
    }

    /// Three well separated Gaussian blobs in 4-D, 40 points each.
    fn blobs(seed: u64) -> (Vec<f32>, Vec<u8>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres = [
            [0.0, 0.0, 0.0, 0.0],
            [10.0, 0.0, 5.0, 0.0],
            [0.0, -10.0, 0.0, 8.0],
        ];
        let (mut codes, mut labels) = (Vec::new(), Vec::new());
        for i in 0..120 {
            let c = i % 3;
            labels.push(c as u8);
            codes.extend(
                centres[c]
                    .iter()
                    .map(|&x: &f32| x + rng.random_range(-1.0..1.0)),
            );
        }
        (codes, labels)
    }

    #[test]
    fn kmeans_recovers_blobs_deterministically() {
        let (codes, labels) = blobs(1);
        let pred = kmeans(&codes, 4, 3, 42).unwrap();
        assert_eq!(pred.len(), 120);
        assert_eq!(clustering_accuracy(&pred, &labels), 1.0);
        assert!((normalized_mutual_info(&pred, &labels) - 1.0).abs() < 1e-12);
        assert_eq!(pred, kmeans(&codes, 4, 3, 42).unwrap());
    }

    #[test]
    fn cluster_latents_uses_ten_clusters() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (mut codes, mut labels) = (Vec::new(), Vec::new());
        for i in 0..200 {
            let c = i % 10;
            labels.push(c as u8);
            codes.push(c as f32 * 20.0 + rng.random_range(-1.0..1.0));
            codes.push(rng.random_range(-1.0..1.0));
        }
        let scores = cluster_latents(&codes, 2, &labels, 9).unwrap();
        assert_eq!(scores, cluster_latents(&codes, 2, &labels, 9).unwrap());
        assert!(scores.accuracy > 0.85, "{scores:?}");
        assert!(scores.nmi > 0.85, "{scores:?}");
    }
}
