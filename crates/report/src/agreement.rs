//! How much of a ranking of the variants survives a change of conditions: between held-out
//! classes (does the best anomaly detector depend on which class is held out?) and between
//! probe protocols (does the ranking by probe accuracy survive a converged probe?).

use ae_eval::stats::{spearman, summarize};

use ae_results::metrics::Metric;
use ae_results::study_results::StudyResults;

/// Mean of the Spearman correlations between every pair of `columns` (each one value per
/// row, rows aligned), with the number of pairs that had one; `None` with fewer than two
/// columns or no defined correlation.
pub fn mean_pairwise_spearman(columns: &[Vec<f64>]) -> Option<(f64, usize)> {
    let mut correlations = Vec::new();
    for i in 0..columns.len() {
        for j in i + 1..columns.len() {
            if let Some(r) = spearman(&columns[i], &columns[j]) {
                correlations.push(r);
            }
        }
    }
    (!correlations.is_empty()).then(|| {
        (
            correlations.iter().sum::<f64>() / correlations.len() as f64,
            correlations.len(),
        )
    })
}

/// 1-based ranks of the present `values` (1 = highest), ties sharing the better rank;
/// `None` where a value is missing.
pub fn ranks(values: &[Option<f64>]) -> Vec<Option<usize>> {
    values
        .iter()
        .map(|x| x.map(|x| 1 + values.iter().flatten().filter(|&&y| y > x).count()))
        .collect()
}

/// Spearman correlation of `a` and `b` over the entries both have.
pub fn spearman_present(a: &[Option<f64>], b: &[Option<f64>]) -> Option<f64> {
    let (x, y): (Vec<f64>, Vec<f64>) = a.iter().zip(b).filter_map(|(x, y)| x.zip(*y)).unzip();
    spearman(&x, &y)
}

/// Probe accuracy of every variant three ways: the reference's published number (MNIST
/// only), and our mean over the seeds under the reference protocol and converged.
pub struct ProbeAccuracies {
    /// Variants, in table order.
    pub variants: Vec<String>,
    /// The reference's published accuracy.
    pub published: Vec<Option<f64>>,
    /// Our mean under the reference protocol (sampled latent).
    pub reference_protocol: Vec<Option<f64>>,
    /// Our mean with the converged probe (sampled latent).
    pub converged: Vec<Option<f64>>,
}

impl ProbeAccuracies {
    /// The accuracies of `results`.
    pub fn of(results: &StudyResults) -> Self {
        let mean = |metric: Metric| -> Vec<Option<f64>> {
            results
                .variants
                .iter()
                .map(|v| summarize(&results.values(v, metric)).map(|s| s.mean))
                .collect()
        };
        let study = crate::reference::study(&results.study.dataset);
        Self {
            variants: results.variants.clone(),
            published: results
                .variants
                .iter()
                .map(|v| study.and_then(|s| s.row(v)).map(|r| r.probe_accuracy))
                .collect(),
            reference_protocol: mean(Metric::ReferenceProbe),
            converged: mean(Metric::ConvergedProbe),
        }
    }
}

/// How much the variants' ranking by anomaly AUC (per-image BCE score) depends on the
/// held-out class.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldOutAgreement {
    /// Mean pairwise Spearman correlation between the classes' rankings.
    pub rho: f64,
    /// Pairs of classes with a defined correlation.
    pub pairs: usize,
    /// The seeds it comes from: those that hold out every class.
    pub seeds: Vec<u64>,
}

/// The agreement of the variants' rankings between the held-out classes, from the seeds that
/// hold out every class only (each (variant, class) AUC the mean over those seeds; variants
/// with every class only): the mean pairwise Spearman correlation between the classes.
/// `None` with fewer than two classes, fewer than three complete variants or no such seed.
pub fn between_held_out_classes(results: &StudyResults) -> Option<HeldOutAgreement> {
    let anomaly = &results.study.anomaly;
    let seeds: Vec<&ae_results::study_results::SeedResults> = results
        .seeds
        .iter()
        .filter(|s| anomaly.holds_out_every_digit(s.seed))
        .collect();
    if anomaly.digits.len() < 2 || seeds.is_empty() {
        return None;
    }
    let rows: Vec<Vec<f64>> = results
        .variants
        .iter()
        .filter_map(|v| {
            anomaly
                .digits
                .iter()
                .map(|&d| {
                    let aucs: Option<Vec<f64>> = seeds
                        .iter()
                        .map(|s| s.variant(v)?.anomaly_for(d).map(|a| a.auc))
                        .collect();
                    summarize(&aucs?).map(|s| s.mean)
                })
                .collect::<Option<Vec<f64>>>()
        })
        .collect();
    if rows.len() < 3 {
        return None;
    }
    let columns: Vec<Vec<f64>> = (0..anomaly.digits.len())
        .map(|d| rows.iter().map(|r| r[d]).collect())
        .collect();
    let (rho, pairs) = mean_pairwise_spearman(&columns)?;
    Some(HeldOutAgreement {
        rho,
        pairs,
        seeds: seeds.iter().map(|s| s.seed).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_put_the_best_first_and_share_ties() {
        assert_eq!(
            ranks(&[Some(0.5), Some(0.9), None, Some(0.7), Some(0.9)]),
            [Some(4), Some(1), None, Some(3), Some(1)]
        );
    }

    #[test]
    fn spearman_skips_missing_entries() {
        // Over the three shared entries (1, 2, 3) against (3, 2, 1): -1.
        let a = [Some(1.0), Some(2.0), None, Some(3.0)];
        let b = [Some(3.0), Some(2.0), Some(9.0), Some(1.0)];
        assert_eq!(spearman_present(&a, &b), Some(-1.0));
    }

    #[test]
    fn pairwise_spearman_averages_the_pairs() {
        // Columns a = b (rho 1), c reverses them (rho -1 with a and with b):
        // mean = (1 - 1 - 1) / 3 = -1/3.
        let a = vec![1.0, 2.0, 3.0];
        let c = vec![3.0, 2.0, 1.0];
        let (mean, pairs) = mean_pairwise_spearman(&[a.clone(), a, c]).unwrap();
        assert_eq!(pairs, 3);
        assert!((mean + 1.0 / 3.0).abs() < 1e-12, "{mean}");
        assert!(mean_pairwise_spearman(&[vec![1.0, 2.0]]).is_none());
    }
}
