//! How much of a ranking of the variants survives a change of conditions: between held-out
//! classes (does the best anomaly detector depend on which class is held out?) and between
//! probe protocols (does the ranking by probe accuracy survive a converged probe?).

use ae_eval::stats::spearman;

use crate::tables::MetricTable;

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

/// 1-based ranks of `values` (1 = best), ties sharing the better rank.
pub fn ranks(values: &[f64], higher_is_better: bool) -> Vec<usize> {
    values
        .iter()
        .map(|&x| {
            1 + values
                .iter()
                .filter(|&&y| if higher_is_better { y > x } else { y < x })
                .count()
        })
        .collect()
}

/// The agreement of the variants' rankings between the held-out classes of a
/// leave-one-class-out table: the mean over seeds of each (variant, digit) cell, rows with
/// every digit only, then the mean pairwise Spearman correlation between the digits.
pub fn between_held_out_classes(table: &MetricTable, digits: usize) -> Option<(f64, usize)> {
    let rows: Vec<Vec<f64>> = table
        .rows
        .iter()
        .filter_map(|row| {
            (0..digits)
                .map(|m| row.summary(m).map(|s| s.mean))
                .collect::<Option<Vec<f64>>>()
        })
        .collect();
    if rows.len() < 3 {
        return None;
    }
    let columns: Vec<Vec<f64>> = (0..digits)
        .map(|d| rows.iter().map(|r| r[d]).collect())
        .collect();
    mean_pairwise_spearman(&columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_put_the_best_first_and_share_ties() {
        assert_eq!(ranks(&[0.5, 0.9, 0.7, 0.9], true), [4, 1, 3, 1]);
        assert_eq!(ranks(&[64.0, 123.0, 70.0], false), [1, 3, 2]);
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
