//! ROC curves and their area (AUC) for anomaly detection scores.

use crate::stats::average_ranks;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a ROC curve or AUC could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RocError {
    /// `scores` and `is_positive` have different lengths.
    #[error("{scores} scores but {labels} labels")]
    LengthMismatch {
        /// Number of scores given.
        scores: usize,
        /// Number of labels given.
        labels: usize,
    },
    /// No sample is labelled positive, so the true positive rate is undefined.
    #[error("no positive samples")]
    NoPositives,
    /// No sample is labelled negative, so the false positive rate is undefined.
    #[error("no negative samples")]
    NoNegatives,
    /// A score is NaN or infinite.
    #[error("score {index} is not finite")]
    NonFiniteScore {
        /// Position of the first offending score.
        index: usize,
    },
}

/// A receiver operating characteristic curve, with scikit-learn's
/// `roc_curve(..., drop_intermediate=False)` semantics.
///
/// Point `i` is obtained by predicting "positive" for every score
/// `>= thresholds[i]`. `thresholds[0]` is `+inf` (nothing predicted
/// positive, the point (0, 0)); the following thresholds are the distinct
/// scores in decreasing order, the last one the smallest score (everything
/// predicted positive, the point (1, 1)). Tied scores share one point.
///
/// JSON cannot hold infinity, so the leading `+inf` threshold serialises as
/// `null` (and `null` reads back as `+inf`); every other threshold serialises as a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// False positive rate of each point, non-decreasing from 0 to 1.
    pub fpr: Vec<f64>,
    /// True positive rate of each point, non-decreasing from 0 to 1.
    pub tpr: Vec<f64>,
    /// Score threshold of each point, decreasing; the first is `+inf`.
    #[serde(
        serialize_with = "finite_or_null",
        deserialize_with = "null_as_infinity"
    )]
    pub thresholds: Vec<f64>,
}

impl RocCurve {
    /// The curve with fewer points, for storing and drawing: the first and last points and
    /// every point at least `resolution` away (in fpr or tpr) from the last point kept. No
    /// drawn point moves, and the drawn curve stays within `resolution` of the full one; the
    /// AUC is computed from the full curve, never from this one.
    pub fn thinned(&self, resolution: f64) -> RocCurve {
        let n = self.fpr.len();
        let mut keep = Vec::with_capacity(n.min(2 + (2.0 / resolution) as usize));
        for i in 0..n {
            let far = keep.last().is_none_or(|&k: &usize| {
                (self.fpr[i] - self.fpr[k]).abs() >= resolution
                    || (self.tpr[i] - self.tpr[k]).abs() >= resolution
            });
            if far || i + 1 == n {
                keep.push(i);
            }
        }
        RocCurve {
            fpr: keep.iter().map(|&i| self.fpr[i]).collect(),
            tpr: keep.iter().map(|&i| self.tpr[i]).collect(),
            thresholds: keep.iter().map(|&i| self.thresholds[i]).collect(),
        }
    }

    /// The curve's corners only (scikit-learn's `drop_intermediate`): every point that lies
    /// on the straight segment between its neighbours (both of the same fpr or both of the
    /// same tpr) goes. Lossless: it draws the same curve and has the same area.
    pub fn corners(&self) -> RocCurve {
        let (fpr, tpr) = (&self.fpr, &self.tpr);
        let n = fpr.len().min(tpr.len());
        let keep: Vec<usize> = (0..n)
            .filter(|&i| {
                let interior = i > 0 && i + 1 < n;
                !(interior
                    && ((fpr[i - 1] == fpr[i] && fpr[i] == fpr[i + 1])
                        || (tpr[i - 1] == tpr[i] && tpr[i] == tpr[i + 1])))
            })
            .collect();
        RocCurve {
            fpr: keep.iter().map(|&i| fpr[i]).collect(),
            tpr: keep.iter().map(|&i| tpr[i]).collect(),
            thresholds: keep.iter().map(|&i| self.thresholds[i]).collect(),
        }
    }

    /// Area under the curve by the trapezoid rule; equals [`auc`] of the same data.
    pub fn trapezoid_area(&self) -> f64 {
        self.fpr
            .windows(2)
            .zip(self.tpr.windows(2))
            .map(|(x, y)| (x[1] - x[0]) * (y[0] + y[1]) / 2.0)
            .sum()
    }
}

fn finite_or_null<S: Serializer>(values: &[f64], ser: S) -> Result<S::Ok, S::Error> {
    ser.collect_seq(values.iter().map(|v| v.is_finite().then_some(*v)))
}

fn null_as_infinity<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<f64>, D::Error> {
    let values = Vec::<Option<f64>>::deserialize(de)?;
    Ok(values
        .into_iter()
        .map(|v| v.unwrap_or(f64::INFINITY))
        .collect())
}

/// Counts positives and negatives after checking the inputs.
fn check(scores: &[f32], is_positive: &[bool]) -> Result<(usize, usize), RocError> {
    if scores.len() != is_positive.len() {
        return Err(RocError::LengthMismatch {
            scores: scores.len(),
            labels: is_positive.len(),
        });
    }
    if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
        return Err(RocError::NonFiniteScore { index });
    }
    let positives = is_positive.iter().filter(|&&p| p).count();
    let negatives = is_positive.len() - positives;
    match (positives, negatives) {
        (0, _) => Err(RocError::NoPositives),
        (_, 0) => Err(RocError::NoNegatives),
        counts => Ok(counts),
    }
}

/// Indices of `scores` sorted by decreasing score.
fn order_desc(scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

/// The ROC curve of `scores` (higher means "more positive") against the
/// ground truth `is_positive`. See [`RocCurve`] for the exact semantics.
///
/// # Errors
/// Lengths differ, a score is not finite, or there are no positives or no
/// negatives.
pub fn roc_curve(scores: &[f32], is_positive: &[bool]) -> Result<RocCurve, RocError> {
    let (positives, negatives) = check(scores, is_positive)?;
    let order = order_desc(scores);
    let mut curve = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    let (mut tp, mut fp) = (0usize, 0usize);
    for (rank, &i) in order.iter().enumerate() {
        if is_positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let group_ends = order
            .get(rank + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if group_ends {
            curve.fpr.push(fp as f64 / negatives as f64);
            curve.tpr.push(tp as f64 / positives as f64);
            curve.thresholds.push(f64::from(scores[i]));
        }
    }
    Ok(curve)
}

/// Area under the ROC curve: the probability that a random positive scores
/// higher than a random negative, ties counting one half (the Mann-Whitney U
/// statistic divided by `positives * negatives`), in O(n log n).
///
/// # Errors
/// As [`roc_curve`].
pub fn auc(scores: &[f32], is_positive: &[bool]) -> Result<f64, RocError> {
    let (positives, negatives) = check(scores, is_positive)?;
    // Sum of the (1-based, tie-averaged) ascending ranks of the positives.
    let scores: Vec<f64> = scores.iter().map(|&s| f64::from(s)).collect();
    let rank_sum: f64 = average_ranks(&scores)
        .iter()
        .zip(is_positive)
        .filter(|(_, &positive)| positive)
        .map(|(r, _)| r)
        .sum();
    let p = positives as f64;
    let u = rank_sum - p * (p + 1.0) / 2.0;
    Ok(u / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    const T: bool = true;
    const F: bool = false;

    #[test]
    fn thinning_keeps_the_ends_and_points_a_resolution_apart() {
        // fpr 0, 0.1, 0.15, 0.3, 1 and tpr 0, 0.5, 0.55, 0.9, 1: at resolution 0.1 the
        // point (0.15, 0.55) is within 0.1 of (0.1, 0.5) in both rates and goes; (0.3, 0.9)
        // is 0.2 and 0.4 away from it and stays; the last point always stays.
        let curve = RocCurve {
            fpr: vec![0.0, 0.1, 0.15, 0.3, 1.0],
            tpr: vec![0.0, 0.5, 0.55, 0.9, 1.0],
            thresholds: vec![f64::INFINITY, 5.0, 4.0, 3.0, 2.0],
        };
        let thin = curve.thinned(0.1);
        assert_eq!(thin.fpr, [0.0, 0.1, 0.3, 1.0]);
        assert_eq!(thin.tpr, [0.0, 0.5, 0.9, 1.0]);
        assert_eq!(thin.thresholds, [f64::INFINITY, 5.0, 3.0, 2.0]);
        // A fine resolution keeps everything.
        assert_eq!(curve.thinned(1e-9), curve);
    }

    #[test]
    fn corners_keep_the_shape_and_the_area() {
        let curve = RocCurve {
            fpr: vec![0.0, 0.0, 0.0, 0.5, 1.0, 1.0],
            tpr: vec![0.0, 0.5, 1.0, 1.0, 1.0, 1.0],
            thresholds: vec![f64::INFINITY, 6.0, 5.0, 4.0, 3.0, 2.0],
        };
        let c = curve.corners();
        assert_eq!(c.fpr, [0.0, 0.0, 1.0]);
        assert_eq!(c.tpr, [0.0, 1.0, 1.0]);
        assert_eq!(c.thresholds, [f64::INFINITY, 5.0, 2.0]);
        assert_eq!(c.trapezoid_area(), curve.trapezoid_area());
    }

    #[test]
    fn sklearn_example() {
        let scores = [0.1, 0.4, 0.35, 0.8];
        let labels = [F, F, T, T];
        assert_eq!(auc(&scores, &labels).unwrap(), 0.75);
        let c = roc_curve(&scores, &labels).unwrap();
        assert_eq!(c.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(c.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(c.thresholds[0], f64::INFINITY);
        assert_eq!(c.thresholds[1..], [0.8f32, 0.4, 0.35, 0.1].map(f64::from));
        assert_eq!(c.trapezoid_area(), 0.75);
    }

    #[test]
    fn ties_share_a_point_and_count_half() {
        // Pairs (pos, neg): (0.5 vs 0.5) = 1/2, (0.5 vs 0.2) = 1,
        // (0.9 vs 0.5) = 1, (0.9 vs 0.2) = 1 -> 3.5 / 4.
        let scores = [0.5, 0.5, 0.9, 0.2];
        let labels = [T, F, T, F];
        assert_eq!(auc(&scores, &labels).unwrap(), 0.875);
        let c = roc_curve(&scores, &labels).unwrap();
        assert_eq!(c.fpr, vec![0.0, 0.0, 0.5, 1.0]);
        assert_eq!(c.tpr, vec![0.0, 0.5, 1.0, 1.0]);
        assert_eq!(c.trapezoid_area(), 0.875);
    }

    #[test]
    fn all_equal_perfect_inverted() {
        let labels = [T, F, T, F, F];
        assert_eq!(auc(&[0.3; 5], &labels).unwrap(), 0.5);
        let c = roc_curve(&[0.3; 5], &labels).unwrap();
        assert_eq!(
            (c.fpr.clone(), c.tpr.clone()),
            (vec![0.0, 1.0], vec![0.0, 1.0])
        );
        let perfect = [0.9, 0.1, 0.8, 0.2, 0.3];
        assert_eq!(auc(&perfect, &labels).unwrap(), 1.0);
        let inverted = perfect.map(|s| -s);
        assert_eq!(auc(&inverted, &labels).unwrap(), 0.0);
        assert_eq!(roc_curve(&inverted, &labels).unwrap().trapezoid_area(), 0.0);
    }

    #[test]
    fn endpoints_and_auc_match_trapezoid_on_random_data() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n = 500;
        // Coarse scores so that ties occur.
        let labels: Vec<bool> = (0..n).map(|_| rng.random_bool(0.3)).collect();
        let scores: Vec<f32> = labels
            .iter()
            .map(|&p| (rng.random_range(0..40) + if p { 8 } else { 0 }) as f32 / 10.0)
            .collect();
        let c = roc_curve(&scores, &labels).unwrap();
        assert_eq!((c.fpr[0], c.tpr[0]), (0.0, 0.0));
        assert_eq!((*c.fpr.last().unwrap(), *c.tpr.last().unwrap()), (1.0, 1.0));
        assert!(c.thresholds.windows(2).all(|w| w[0] > w[1]));
        let a = auc(&scores, &labels).unwrap();
        assert!((a - c.trapezoid_area()).abs() < 1e-12, "{a}");
        assert!(a > 0.5 && a < 1.0);
    }

    #[test]
    fn errors() {
        assert_eq!(auc(&[0.1, 0.2], &[T, T]), Err(RocError::NoNegatives));
        assert_eq!(auc(&[0.1, 0.2], &[F, F]), Err(RocError::NoPositives));
        assert!(matches!(
            roc_curve(&[0.1], &[T, F]),
            Err(RocError::LengthMismatch { .. })
        ));
        assert_eq!(
            auc(&[0.1, f32::NAN], &[T, F]),
            Err(RocError::NonFiniteScore { index: 1 })
        );
    }

    #[test]
    fn infinite_threshold_serialises_as_null_and_reads_back() {
        let c = roc_curve(&[0.5, 0.25], &[T, F]).unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"fpr":[0.0,0.0,1.0],"tpr":[0.0,1.0,1.0],"thresholds":[null,0.5,0.25]}"#
        );
        let back: RocCurve = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.thresholds[0], f64::INFINITY);
        // A threshold that is neither a number nor null is an error, not a silent +inf.
        let bad = r#"{"fpr":[0.0],"tpr":[0.0],"thresholds":["x"]}"#;
        assert!(serde_json::from_str::<RocCurve>(bad).is_err());
    }
}
