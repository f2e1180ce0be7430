//! Statistics over repeated runs (seeds): mean, sample standard deviation and a Student-t
//! confidence interval of the mean, paired differences, Spearman rank correlation, range.
//!
//! The t quantile comes from a table, not a crate: [`t_quantile_975`] holds scipy's
//! `t.ppf(0.975, df)` for `df` 1 to 30 (full double precision) and beyond that the
//! Cornish-Fisher expansion of the t quantile around the normal one, to the fourth order
//! in `1/df` (Abramowitz & Stegun 26.7.5). Checked against scipy, the expansion is off by
//! 3.1e-8 at df 30, 7.3e-9 at df 40, 7.4e-11 at df 100, and less beyond, far below the
//! precision any interval here is reported with. A crate (statrs) would give the same
//! numbers for one value of one function at the cost of a large dependency tree (nalgebra).
//!
//! Every function is deterministic: sums run in slice order in `f64`.

use serde::{Deserialize, Serialize};

/// n, mean, sample sd and a two-sided 95% Student-t confidence interval of the mean.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divisor `n - 1`); `None` for `n < 2`.
    pub sd: Option<f64>,
    /// Lower end of the 95% interval, `mean - t(0.975, n - 1) * sd / sqrt(n)`; `None` for
    /// `n < 2`.
    pub ci_low: Option<f64>,
    /// Upper end of the 95% interval; `None` for `n < 2`.
    pub ci_high: Option<f64>,
}

impl Summary {
    /// Half-width of the 95% interval (None for n < 2).
    pub fn half_width(&self) -> Option<f64> {
        Some((self.ci_high? - self.ci_low?) / 2.0)
    }

    /// The 95% prediction interval for one more value drawn like these (one more seed):
    /// `mean ± t(0.975, n - 1) · sd · sqrt(1 + 1/n)`; `None` for `n < 2`. A published
    /// number from one run of the same study falls outside it 5% of the time, where it
    /// would fall outside the range of five seeds a third of the time.
    pub fn prediction_interval(&self) -> Option<(f64, f64)> {
        let sd = self.sd?;
        let half = t_quantile_975(self.n - 1) * sd * (1.0 + 1.0 / self.n as f64).sqrt();
        Some((self.mean - half, self.mean + half))
    }
}

/// Summary of `values`: `None` for an empty slice or if any value is NaN or infinite (no
/// meaningful mean); sd and interval `None` for a single value (no interval, no crash).
pub fn summarize(values: &[f64]) -> Option<Summary> {
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Some(Summary {
            n,
            mean,
            sd: None,
            ci_low: None,
            ci_high: None,
        });
    }
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    let sd = (squares / (n - 1) as f64).sqrt();
    let half = t_quantile_975(n - 1) * sd / (n as f64).sqrt();
    Some(Summary {
        n,
        mean,
        sd: Some(sd),
        ci_low: Some(mean - half),
        ci_high: Some(mean + half),
    })
}

/// scipy's `t.ppf(0.975, df)` for `df` 1 to 30.
const T_975: [f64; 30] = [
    12.706204736174694,
    4.302652729749462,
    3.1824463052837078,
    2.7764451051977934,
    2.5705818356363146,
    2.4469118511449786,
    2.364624251592784,
    2.306004135204166,
    2.262157162798205,
    2.228138851986274,
    2.200985160091639,
    2.1788128296672284,
    2.1603686564627913,
    2.144786687917804,
    2.131449545559776,
    2.1199052992212546,
    2.1098155778333156,
    2.1009220402410382,
    2.0930240544083087,
    2.085963447265864,
    2.0796138447276795,
    2.0738730679040254,
    2.0686576104190486,
    2.0638985616280245,
    2.0595385527532972,
    2.0555294386428735,
    2.0518305164802846,
    2.0484071417952454,
    2.045229642132703,
    2.0422724563012378,
];

/// The standard normal's 0.975 quantile, scipy's `norm.ppf(0.975)`.
const Z_975: f64 = 1.959963984540054;

/// The 0.975 quantile of Student's t with `df` degrees of freedom (df >= 1): exact (to
/// double precision) up to df 30, the fourth-order Cornish-Fisher expansion beyond (error
/// below 3e-8; see the module doc).
///
/// # Panics
/// If `df == 0`.
pub fn t_quantile_975(df: usize) -> f64 {
    assert!(df >= 1, "Student's t needs at least one degree of freedom");
    if let Some(&t) = T_975.get(df - 1) {
        return t;
    }
    let (z, v) = (Z_975, df as f64);
    let z2 = z * z;
    let g1 = z * (z2 + 1.0) / 4.0;
    let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v)
}

/// Summary of the paired differences a[i] - b[i] (None if lengths differ or empty, or a
/// value is not finite).
pub fn paired_difference(a: &[f64], b: &[f64]) -> Option<Summary> {
    if a.len() != b.len() {
        return None;
    }
    let differences: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    summarize(&differences)
}

/// Spearman rank correlation with average ranks for ties (Pearson on ranks); None if n < 2,
/// the lengths differ, a value is NaN, or either side is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 2 || a.iter().chain(b).any(|v| v.is_nan()) {
        return None;
    }
    pearson(&average_ranks(a), &average_ranks(b))
}

/// 1-based ascending ranks of `values`, tied values sharing the mean of the ranks they span
/// (the ranks of Spearman's correlation and of the Mann-Whitney AUC, [`crate::roc::auc`]).
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1 ..= end; their mean:
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Pearson correlation; `None` if either side has zero variance.
fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let (mean_a, mean_b) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - mean_a, y - mean_b);
        cov += dx * dy;
        var_a += dx * dx;
        var_b += dy * dy;
    }
    if var_a == 0.0 || var_b == 0.0 {
        return None;
    }
    Some((cov / (var_a * var_b).sqrt()).clamp(-1.0, 1.0))
}

/// min and max of a non-empty slice (None if empty or a value is NaN).
pub fn range(values: &[f64]) -> Option<(f64, f64)> {
    let (&first, rest) = values.split_first()?;
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    Some(
        rest.iter()
            .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn one_value_has_a_mean_and_no_interval() {
        let s = summarize(&[0.7835]).unwrap();
        assert_eq!(s.n, 1);
        assert_eq!(s.mean, 0.7835);
        assert_eq!((s.sd, s.ci_low, s.ci_high), (None, None, None));
        assert_eq!(s.half_width(), None);
        assert_eq!(s.prediction_interval(), None);
    }

    #[test]
    fn empty_and_non_finite_inputs_have_no_summary() {
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[1.0, f64::NAN]), None);
        assert_eq!(summarize(&[1.0, f64::INFINITY]), None);
    }

    #[test]
    fn two_values_hand_computed() {
        // [1, 3]: mean 2; sd = sqrt(((1-2)^2 + (3-2)^2) / 1) = sqrt(2);
        // half-width = t(1) * sqrt(2) / sqrt(2) = t(1) = 12.706204736174694.
        let s = summarize(&[1.0, 3.0]).unwrap();
        assert_eq!((s.n, s.mean), (2, 2.0));
        assert!(close(s.sd.unwrap(), 2f64.sqrt(), 1e-15));
        assert!(close(s.ci_low.unwrap(), 2.0 - 12.706204736174694, 1e-12));
        assert!(close(s.ci_high.unwrap(), 2.0 + 12.706204736174694, 1e-12));
        assert!(close(s.half_width().unwrap(), 12.706204736174694, 1e-12));
    }

    #[test]
    fn five_values_hand_computed() {
        // [1,2,3,4,5]: mean 3; squares 4+1+0+1+4 = 10, sd = sqrt(10/4) = sqrt(2.5);
        // half-width = t(4) * sqrt(2.5) / sqrt(5) = 2.7764451051977934 * sqrt(0.5)
        //            = 1.9632432648... (sqrt(0.5) = 0.70710678118654757).
        let s = summarize(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((s.n, s.mean), (5, 3.0));
        assert!(close(s.sd.unwrap(), 2.5f64.sqrt(), 1e-15));
        let half = 2.7764451051977934 * 0.5f64.sqrt();
        assert!(close(half, 1.963243, 1e-6));
        assert!(close(s.half_width().unwrap(), half, 1e-12));
        assert!(close(s.ci_low.unwrap(), 3.0 - half, 1e-12));
        assert!(close(s.ci_high.unwrap(), 3.0 + half, 1e-12));
        // Prediction interval: 3 +- t(4) * sqrt(2.5) * sqrt(1.2) = 3 +- 2.7764451 * sqrt(3)
        //                     = 3 +- 4.808944 (Python: 2.7764451051977934 * math.sqrt(3)).
        let (lo, hi) = s.prediction_interval().unwrap();
        assert!(close(lo, 3.0 - 4.808944, 1e-6) && close(hi, 3.0 + 4.808944, 1e-6));
    }

    #[test]
    fn t_quantiles_match_scipy() {
        // >>> [scipy.stats.t.ppf(0.975, df) for df in (1, 2, 4, 9, 30, 31, 40, 60, 120, 1000, 10**6)]
        let scipy = [
            (1, 12.706204736174694),
            (2, 4.302652729749462),
            (4, 2.7764451051977934),
            (9, 2.262157162798205),
            (30, 2.0422724563012378),
            (31, 2.039513446396408),
            (40, 2.021075390306273),
            (60, 2.0002978220142604),
            (120, 1.9799304050824402),
            (1000, 1.9623390808264083),
            (1_000_000, 1.959966356814107),
        ];
        for (df, expected) in scipy {
            let t = t_quantile_975(df);
            assert!(close(t, expected, 3e-8), "df {df}: {t} vs {expected}");
        }
        // The brief's rounded values.
        for (df, rounded) in [
            (1, 12.706205),
            (2, 4.302653),
            (4, 2.776445),
            (9, 2.262157),
            (30, 2.042272),
        ] {
            assert!(close(t_quantile_975(df), rounded, 5e-7), "df {df}");
        }
        // Decreasing in df (also across the switch from table to expansion at 30/31), and
        // above the normal quantile (>>> scipy.stats.norm.ppf(0.975) -> 1.959963984540054).
        for df in 1..200 {
            assert!(t_quantile_975(df + 1) < t_quantile_975(df), "df {df}");
            assert!(t_quantile_975(df) > Z_975, "df {df}");
        }
    }

    #[test]
    fn paired_difference_hand_computed() {
        // a - b = [0.02, 0.04, 0.00] (three seeds): mean 0.02;
        // squares 0 + 0.0004 + 0.0004 = 0.0008, sd = sqrt(0.0008 / 2) = 0.02;
        // half-width = t(2) * 0.02 / sqrt(3) = 4.302652729749462 * 0.011547005383792516
        //            = 0.049683 -> interval [-0.029683, 0.069683] contains 0.
        let s = paired_difference(&[0.80, 0.82, 0.78], &[0.78, 0.78, 0.78]).unwrap();
        assert_eq!(s.n, 3);
        assert!(close(s.mean, 0.02, 1e-12));
        assert!(close(s.sd.unwrap(), 0.02, 1e-12));
        let half = 4.302652729749462 * 0.02 / 3f64.sqrt();
        assert!(close(half, 0.049683, 1e-6));
        assert!(close(s.ci_low.unwrap(), 0.02 - half, 1e-12));
        assert!(close(s.ci_high.unwrap(), 0.02 + half, 1e-12));
        assert_eq!(paired_difference(&[1.0, 2.0], &[1.0]), None);
        assert_eq!(paired_difference(&[], &[]), None);
    }

    #[test]
    fn spearman_with_ties_hand_computed() {
        // a = [1, 2, 2, 3] -> ranks [1, 2.5, 2.5, 4]; b = [10, 30, 20, 40] -> ranks [1, 3, 2, 4].
        // Rank means 2.5 and 2.5; deviations a: [-1.5, 0, 0, 1.5], b: [-1.5, 0.5, -0.5, 1.5].
        // cov = 2.25 + 0 + 0 + 2.25 = 4.5; var_a = 4.5; var_b = 2.25+0.25+0.25+2.25 = 5.
        // rho = 4.5 / sqrt(4.5 * 5) = sqrt(0.9) = 0.9486832980505138
        // (scipy.stats.spearmanr([1,2,2,3], [10,30,20,40]) -> 0.9486832980505139).
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[10.0, 30.0, 20.0, 40.0]).unwrap();
        assert!(close(rho, 0.9f64.sqrt(), 1e-12), "{rho}");
        assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 3.0]), [3.0, 1.0, 3.0, 3.0]);
        assert_eq!(average_ranks(&[0.5, 0.1, 0.9]), [2.0, 1.0, 3.0]);
    }

    #[test]
    fn spearman_perfect_and_undefined_cases() {
        // Monotone but not linear: ranks agree exactly.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let squares = [1.0, 4.0, 9.0, 16.0, 25.0];
        assert_eq!(spearman(&a, &squares), Some(1.0));
        let reversed = [0.9, 0.5, 0.1, -3.0, -7.0];
        assert_eq!(spearman(&a, &reversed), Some(-1.0));
        assert_eq!(spearman(&a, &[2.0; 5]), None, "constant side");
        assert_eq!(spearman(&[1.0], &[2.0]), None, "n < 2");
        assert_eq!(spearman(&a, &a[..4]), None, "lengths differ");
        assert_eq!(spearman(&[1.0, f64::NAN], &[1.0, 2.0]), None);
    }

    #[test]
    fn range_of_values() {
        assert_eq!(range(&[0.3, -1.0, 2.5, 0.0]), Some((-1.0, 2.5)));
        assert_eq!(range(&[4.0]), Some((4.0, 4.0)));
        assert_eq!(range(&[]), None);
        assert_eq!(range(&[1.0, f64::NAN]), None);
    }
}
