//! The converged linear probe: the standard linear-evaluation protocol of representation
//! learning, beside the reference's Adam probe of [`super::probe`] (which stays as it is).
//!
//! Protocol: the frozen model's codes of the 550 labelled training images, the validation
//! images and the test images; every feature standardised with the *training* images'
//! per-feature mean and standard deviation (a feature constant on the training images is
//! only centred); a multinomial logistic regression trained to convergence for every L2
//! strength of a small grid; the strength with the best validation accuracy (the strongest
//! one on ties: the simplest model that does as well); its test accuracy.
//!
//! The objective, for `n` training rows with standardised features `x_i`, labels `y_i`,
//! weights `W` (`dim x classes`) and intercepts `b`:
//!
//! `f(W, b) = (1/n) sum_i [logsumexp(x_i W + b) - (x_i W + b)_{y_i}] + (l2 / 2) ||W||^2`,
//!
//! the mean cross-entropy plus an L2 penalty on the weights (not the intercepts), so `l2`
//! does not depend on the number of training rows. In scikit-learn's terms
//! (`LogisticRegression(C)`, which minimises `C * sum of losses + ||W||^2 / 2`) it is
//! `l2 = 1 / (n C)`; in linfa-logistic's (`alpha`, summed loss) it is `l2 = alpha / n`.
//!
//! The solver is L-BFGS (10 correction pairs, backtracking Armijo line search) from zero
//! weights, in `f64`, stopping once every gradient component is below
//! [`LogisticProbeConfig::gradient_tolerance`]. It is written here rather than taken from
//! linfa-logistic 0.8.1: that crate's `log_sum_exp` subtracts the maximum of the *whole*
//! logit matrix, not of each row, and clamps each row's sum at `1e-15`, so any row whose
//! largest logit lies more than ~34.5 below the largest logit of the data set gets a wrong
//! loss and gradient, which is exactly the weakly penalised end of a grid. The objective is
//! strictly convex in `W` and smooth, where plain L-BFGS with an Armijo search is reliable;
//! the solver uses no randomness and runs single-threaded in a fixed order, so a fit is
//! bit-identical on every run and thread count. A test checks it against scikit-learn.

use std::collections::VecDeque;

use ae_data::INPUT_DIM;
use ae_models::classifier::DenseEncoder;
use ae_models::{LatentMode, Model};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::probe::{ProbeData, BASELINE_LATENT_DIM};
use super::TaskError;

/// Settings of the converged probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticProbeConfig {
    /// L2 strengths tried (scaled to the mean loss, see the module doc); each finite and
    /// positive.
    pub l2_grid: Vec<f64>,
    /// Upper bound on L-BFGS iterations per fit; a fit that needs more is an error.
    pub max_iterations: u64,
    /// Convergence: every component of the objective's gradient at most this in magnitude.
    pub gradient_tolerance: f64,
}

impl Default for LogisticProbeConfig {
    /// Six decades, `l2` from 1e-5 (almost unpenalised: scikit-learn's `C` = 182 for 550
    /// images) to 1 (weights shrunk towards the class-mean differences: `C` = 0.0018);
    /// scikit-learn's default `C = 1` is `l2` = 0.0018. At most 10,000 iterations, gradient
    /// tolerance 1e-6.
    fn default() -> Self {
        Self {
            l2_grid: vec![1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0],
            max_iterations: 10_000,
            gradient_tolerance: 1e-6,
        }
    }
}

/// Outcome of the converged probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticProbeResult {
    /// Test accuracy of the chosen strength's fit, in [0, 1].
    pub test_accuracy: f64,
    /// Its validation accuracy (the best of the grid).
    pub validation_accuracy: f64,
    /// The chosen L2 strength.
    pub l2: f64,
    /// (l2, validation accuracy) of every grid point, in grid order.
    pub grid: Vec<(f64, f64)>,
}

/// Codes of one labelled set: n x dim row-major f32 and n labels.
#[derive(Clone, Copy, Debug)]
pub struct Features<'a> {
    /// `labels.len() x dim` codes, one row per image.
    pub codes: &'a [f32],
    /// Width of a code.
    pub dim: usize,
    /// Class of each row.
    pub labels: &'a [u8],
}

/// Why the converged probe could not run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// A set has no rows.
    #[error("the {set} set is empty")]
    EmptySet {
        /// Which set: training, validation or test.
        set: &'static str,
    },
    /// Codes and labels do not fit together.
    #[error("the {set} set has {values} code values, not {rows} labels x {dim} dimensions")]
    Shape {
        /// Which set.
        set: &'static str,
        /// Number of code values.
        values: usize,
        /// Number of labels.
        rows: usize,
        /// Stated code width.
        dim: usize,
    },
    /// A set's code width differs from the training set's.
    #[error("the {set} set has {dim}-dimensional codes, the training set {train_dim}")]
    DimensionMismatch {
        /// Which set.
        set: &'static str,
        /// Its code width.
        dim: usize,
        /// The training set's code width.
        train_dim: usize,
    },
    /// A code value is NaN or infinite.
    #[error("the {set} set's feature {column} of row {row} is not finite ({value})")]
    NonFiniteFeature {
        /// Which set.
        set: &'static str,
        /// Row of the value.
        row: usize,
        /// Feature of the value.
        column: usize,
        /// The value.
        value: f32,
    },
    /// The configuration's grid has no strength.
    #[error("the l2 grid is empty")]
    EmptyGrid,
    /// A strength of the grid is not a finite positive number.
    #[error("l2 strength {value} is not finite and positive")]
    InvalidL2 {
        /// The offending strength.
        value: f64,
    },
    /// L-BFGS did not reach the gradient tolerance.
    #[error(
        "logistic regression with l2 {l2} did not converge in {iterations} iterations \
         (largest gradient component {gradient:e})"
    )]
    NotConverged {
        /// The strength being fitted.
        l2: f64,
        /// Iterations run.
        iterations: u64,
        /// Largest gradient component magnitude when it stopped.
        gradient: f64,
    },
}

/// Fits the probe for every strength of `config.l2_grid` on the standardised training
/// codes, scores each on the validation codes, and returns the test accuracy of the best
/// (ties: the largest strength).
///
/// # Errors
/// A set that is empty, malformed or holds a non-finite value, an invalid grid, or a fit
/// that does not converge.
pub fn fit_logistic_probe(
    train: &Features,
    validation: &Features,
    test: &Features,
    config: &LogisticProbeConfig,
) -> Result<LogisticProbeResult, ProbeError> {
    check_config(config)?;
    check_set("training", train, train.dim)?;
    check_set("validation", validation, train.dim)?;
    check_set("test", test, train.dim)?;
    let standardiser = Standardiser::fit(train.codes, train.dim);
    let data = TrainingSet::new(standardiser.apply(train.codes), train.dim, train.labels);
    let (x_validation, x_test) = (
        standardiser.apply(validation.codes),
        standardiser.apply(test.codes),
    );
    let mut grid = Vec::with_capacity(config.l2_grid.len());
    let mut best: Option<(f64, f64, Softmax)> = None;
    for &l2 in &config.l2_grid {
        let model = fit_softmax(&data, l2, config)?;
        let accuracy = model.accuracy(&x_validation, validation.labels);
        grid.push((l2, accuracy));
        let better = best.as_ref().is_none_or(|&(best_accuracy, best_l2, _)| {
            accuracy > best_accuracy || (accuracy == best_accuracy && l2 > best_l2)
        });
        if better {
            best = Some((accuracy, l2, model));
        }
    }
    let (validation_accuracy, l2, model) = best.expect("the grid is not empty");
    Ok(LogisticProbeResult {
        test_accuracy: model.accuracy(&x_test, test.labels),
        validation_accuracy,
        l2,
        grid,
    })
}

/// The frozen model's codes (eval mode; `mode` Sampled draws eps once per image for the
/// VAE family, Mean uses mu) for the three sets, then [`fit_logistic_probe`].
///
/// # Errors
/// If the model fails, or as [`fit_logistic_probe`].
pub fn converged_probe(
    model: &dyn Model,
    data: &ProbeData<'_>,
    mode: LatentMode,
    config: &LogisticProbeConfig,
    rng: &mut dyn RngCore,
) -> Result<LogisticProbeResult, TaskError> {
    let dim = model.latent_dim();
    let train = model.latent_codes(&data.train.images.pixels, mode, rng)?;
    let validation = model.latent_codes(&data.validation.images.pixels, mode, rng)?;
    let test = model.latent_codes(&data.test.images.pixels, mode, rng)?;
    Ok(fit_on_codes(
        data,
        [&train, &validation, &test],
        dim,
        config,
    )?)
}

/// The same protocol on the random_encoder baseline's features: a randomly initialised
/// dense latent-20 encoder (drawn from `rng` exactly as [`super::random_encoder`] draws
/// it) whose BatchNorm layers normalise with the 550 training images' own statistics
/// ([`DenseEncoder::fit_batch_norm_statistics`]: per layer, the mean and biased variance of
/// its pre-normalisation activations over all 550 images, what a training-mode pass over
/// all of them at once computes), frozen and used in eval mode for all three sets. So the
/// features are a fixed function of the image, the same for every set, unlike the
/// reference's baseline whose statistics drift with the training batches.
///
/// # Errors
/// As [`fit_logistic_probe`].
pub fn converged_random_encoder(
    data: &ProbeData<'_>,
    config: &LogisticProbeConfig,
    rng: &mut dyn RngCore,
) -> Result<LogisticProbeResult, ProbeError> {
    let mut encoder = DenseEncoder::new(INPUT_DIM, BASELINE_LATENT_DIM, rng);
    encoder.fit_batch_norm_statistics(&data.train.images.pixels);
    let dim = encoder.out_dim();
    let train = encoder.encode(&data.train.images.pixels);
    let validation = encoder.encode(&data.validation.images.pixels);
    let test = encoder.encode(&data.test.images.pixels);
    fit_on_codes(data, [&train, &validation, &test], dim, config)
}

/// Fits the probe on the codes of the training, validation and test images of `data`.
fn fit_on_codes(
    data: &ProbeData<'_>,
    [train, validation, test]: [&[f32]; 3],
    dim: usize,
    config: &LogisticProbeConfig,
) -> Result<LogisticProbeResult, ProbeError> {
    let features = |codes, labels| Features { codes, dim, labels };
    fit_logistic_probe(
        &features(train, &data.train.labels),
        &features(validation, &data.validation.labels),
        &features(test, &data.test.labels),
        config,
    )
}

fn check_config(config: &LogisticProbeConfig) -> Result<(), ProbeError> {
    if config.l2_grid.is_empty() {
        return Err(ProbeError::EmptyGrid);
    }
    match config
        .l2_grid
        .iter()
        .find(|l2| !(l2.is_finite() && **l2 > 0.0))
    {
        Some(&value) => Err(ProbeError::InvalidL2 { value }),
        None => Ok(()),
    }
}

fn check_set(set: &'static str, f: &Features, train_dim: usize) -> Result<(), ProbeError> {
    let rows = f.labels.len();
    if rows == 0 {
        return Err(ProbeError::EmptySet { set });
    }
    if f.dim == 0 || f.codes.len() != rows * f.dim {
        return Err(ProbeError::Shape {
            set,
            values: f.codes.len(),
            rows,
            dim: f.dim,
        });
    }
    if f.dim != train_dim {
        return Err(ProbeError::DimensionMismatch {
            set,
            dim: f.dim,
            train_dim,
        });
    }
    match f.codes.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(ProbeError::NonFiniteFeature {
            set,
            row: i / f.dim,
            column: i % f.dim,
            value: f.codes[i],
        }),
        None => Ok(()),
    }
}

/// Per-feature centring and scaling learnt from the training codes only.
#[derive(Clone, Debug, PartialEq)]
struct Standardiser {
    dim: usize,
    mean: Vec<f64>,
    /// Population standard deviation (divisor n); 1 for a feature constant on the
    /// training codes, which is then only centred.
    scale: Vec<f64>,
}

impl Standardiser {
    fn fit(codes: &[f32], dim: usize) -> Self {
        let n = codes.len() / dim;
        let (mut mean, mut scale) = (vec![0.0; dim], vec![1.0; dim]);
        for j in 0..dim {
            let column = || codes.iter().skip(j).step_by(dim).map(|&v| f64::from(v));
            let first = codes[j];
            if codes.iter().skip(j).step_by(dim).all(|&v| v == first) {
                // Exactly constant: centre on the value itself (a computed mean could be
                // off by a rounding error that scaling would blow up).
                mean[j] = f64::from(first);
                continue;
            }
            let m = column().sum::<f64>() / n as f64;
            let var = column().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
            mean[j] = m;
            scale[j] = var.sqrt();
        }
        Self { dim, mean, scale }
    }

    fn apply(&self, codes: &[f32]) -> Vec<f64> {
        codes
            .chunks_exact(self.dim)
            .flat_map(|row| {
                row.iter()
                    .zip(self.mean.iter().zip(&self.scale))
                    .map(|(&v, (m, s))| (f64::from(v) - m) / s)
            })
            .collect()
    }
}

/// Standardised training rows with their labels as indices into the sorted distinct
/// training labels (the classes the model can predict).
struct TrainingSet {
    x: Vec<f64>,
    dim: usize,
    targets: Vec<usize>,
    classes: Vec<u8>,
}

impl TrainingSet {
    fn new(x: Vec<f64>, dim: usize, labels: &[u8]) -> Self {
        let mut classes = labels.to_vec();
        classes.sort_unstable();
        classes.dedup();
        let targets = labels
            .iter()
            .map(|l| classes.binary_search(l).expect("a training label"))
            .collect();
        Self {
            x,
            dim,
            targets,
            classes,
        }
    }

    fn rows(&self) -> usize {
        self.targets.len()
    }

    /// Number of weights and intercepts: `dim x classes + classes`.
    fn param_count(&self) -> usize {
        (self.dim + 1) * self.classes.len()
    }

    /// The objective at `theta` (weights `dim x classes` row-major, then intercepts) and
    /// its gradient, written into `grad`.
    fn objective(&self, theta: &[f64], l2: f64, grad: &mut [f64]) -> f64 {
        let (d, k, n) = (self.dim, self.classes.len(), self.rows());
        let (w, b) = theta.split_at(d * k);
        grad.fill(0.0);
        let (grad_w, grad_b) = grad.split_at_mut(d * k);
        let mut z = vec![0.0; k];
        let mut loss = 0.0;
        for (x, &y) in self.x.chunks_exact(d).zip(&self.targets) {
            logits(x, w, b, &mut z);
            let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let lse = max + z.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
            loss += lse - z[y];
            // z becomes p - onehot(y), the logits' gradient.
            for (c, zc) in z.iter_mut().enumerate() {
                *zc = (*zc - lse).exp() - if c == y { 1.0 } else { 0.0 };
            }
            for (&xj, gw) in x.iter().zip(grad_w.chunks_exact_mut(k)) {
                for (g, &diff) in gw.iter_mut().zip(&z) {
                    *g += xj * diff;
                }
            }
            for (g, &diff) in grad_b.iter_mut().zip(&z) {
                *g += diff;
            }
        }
        let inv_n = 1.0 / n as f64;
        let mut penalty = 0.0;
        for (g, &wi) in grad_w.iter_mut().zip(w) {
            *g = *g * inv_n + l2 * wi;
            penalty += wi * wi;
        }
        grad_b.iter_mut().for_each(|g| *g *= inv_n);
        loss * inv_n + 0.5 * l2 * penalty
    }
}

/// `z = x W + b` for one row `x`.
fn logits(x: &[f64], w: &[f64], b: &[f64], z: &mut [f64]) {
    z.copy_from_slice(b);
    for (&xj, wj) in x.iter().zip(w.chunks_exact(b.len())) {
        for (zc, &wjc) in z.iter_mut().zip(wj) {
            *zc += xj * wjc;
        }
    }
}

/// A fitted multinomial logistic regression on standardised features.
struct Softmax {
    dim: usize,
    classes: Vec<u8>,
    theta: Vec<f64>,
}

impl Softmax {
    /// Fraction of rows of `x` whose most probable class (the first on ties) is the label.
    fn accuracy(&self, x: &[f64], labels: &[u8]) -> f64 {
        let k = self.classes.len();
        let (w, b) = self.theta.split_at(self.dim * k);
        let mut z = vec![0.0; k];
        let correct = x
            .chunks_exact(self.dim)
            .zip(labels)
            .filter(|(row, &label)| {
                logits(row, w, b, &mut z);
                let best = (1..k).fold(0, |best, c| if z[c] > z[best] { c } else { best });
                self.classes[best] == label
            })
            .count();
        correct as f64 / labels.len() as f64
    }
}

/// Correction pairs kept by L-BFGS.
const LBFGS_MEMORY: usize = 10;
/// Armijo's sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Step halvings before a line search gives up.
const MAX_HALVINGS: usize = 60;

/// Minimises the objective of `data` at strength `l2` from zero parameters with L-BFGS.
fn fit_softmax(
    data: &TrainingSet,
    l2: f64,
    config: &LogisticProbeConfig,
) -> Result<Softmax, ProbeError> {
    let p = data.param_count();
    let mut theta = vec![0.0; p];
    let mut grad = vec![0.0; p];
    let mut f = data.objective(&theta, l2, &mut grad);
    let (mut next, mut next_grad) = (vec![0.0; p], vec![0.0; p]);
    let mut history: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    let mut iterations = 0;
    loop {
        let largest = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        if largest <= config.gradient_tolerance {
            break;
        }
        if iterations == config.max_iterations {
            return Err(ProbeError::NotConverged {
                l2,
                iterations,
                gradient: largest,
            });
        }
        iterations += 1;
        let mut direction = lbfgs_direction(&grad, &history);
        let mut slope = dot(&direction, &grad);
        if slope >= 0.0 || history.is_empty() {
            // Steepest descent, first step scaled to unit length.
            history.clear();
            let norm = dot(&grad, &grad).sqrt();
            direction = grad.iter().map(|g| -g / norm.max(1.0)).collect();
            slope = dot(&direction, &grad);
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            for ((n, t), d) in next.iter_mut().zip(&theta).zip(&direction) {
                *n = t + step * d;
            }
            let f_next = data.objective(&next, l2, &mut next_grad);
            if f_next <= f + ARMIJO * step * slope {
                accepted = Some(f_next);
                break;
            }
            step *= 0.5;
        }
        let Some(f_next) = accepted else {
            // No decrease along a descent direction: the objective is flat to rounding
            // here, yet the gradient is above tolerance.
            return Err(ProbeError::NotConverged {
                l2,
                iterations,
                gradient: largest,
            });
        };
        let s: Vec<f64> = next.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = next_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        // Strict convexity in W makes s.y positive; skip pairs that rounding spoilt.
        if sy > 1e-12 * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
            if history.len() == LBFGS_MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        std::mem::swap(&mut theta, &mut next);
        std::mem::swap(&mut grad, &mut next_grad);
        f = f_next;
    }
    Ok(Softmax {
        dim: data.dim,
        classes: data.classes.clone(),
        theta,
    })
}

/// L-BFGS's two-loop recursion: `-H grad` for the inverse-Hessian estimate of `history`
/// (oldest pair first), scaled initially by `s.y / y.y` of the newest pair.
fn lbfgs_direction(grad: &[f64], history: &VecDeque<(Vec<f64>, Vec<f64>, f64)>) -> Vec<f64> {
    let mut q = grad.to_vec();
    let mut alphas = Vec::with_capacity(history.len());
    for (s, y, rho) in history.iter().rev() {
        let alpha = rho * dot(s, &q);
        q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= alpha * yi);
        alphas.push(alpha);
    }
    if let Some((s, y, _)) = history.back() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|qi| *qi *= gamma);
    }
    for ((s, y, rho), alpha) in history.iter().zip(alphas.iter().rev()) {
        let beta = rho * dot(y, &q);
        q.iter_mut()
            .zip(s)
            .for_each(|(qi, si)| *qi += (alpha - beta) * si);
    }
    q.iter_mut().for_each(|qi| *qi = -*qi);
    q
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    /// Codes and labels of one set, owned.
    struct Set {
        codes: Vec<f32>,
        dim: usize,
        labels: Vec<u8>,
    }

    impl Set {
        fn features(&self) -> Features<'_> {
            Features {
                codes: &self.codes,
                dim: self.dim,
                labels: &self.labels,
            }
        }
    }

    fn normal(rng: &mut ChaCha8Rng) -> f32 {
        StandardNormal.sample(rng)
    }

    fn fit(
        train: &Set,
        validation: &Set,
        test: &Set,
        config: &LogisticProbeConfig,
    ) -> LogisticProbeResult {
        fit_logistic_probe(
            &train.features(),
            &validation.features(),
            &test.features(),
            config,
        )
        .unwrap()
    }

    /// Four classes around the corners (+-4, +-4) of a square in 3-D (the third feature is
    /// noise), uniform noise of half-width 1: linearly separable with a wide margin.
    fn corners(n: usize, rng: &mut ChaCha8Rng) -> Set {
        let mut codes = Vec::with_capacity(3 * n);
        let labels: Vec<u8> = (0..n).map(|i| (i % 4) as u8).collect();
        for &label in &labels {
            let (cx, cy) = match label {
                0 => (4.0, 4.0),
                1 => (-4.0, 4.0),
                2 => (-4.0, -4.0),
                _ => (4.0, -4.0),
            };
            codes.push(cx + rng.random_range(-1.0..1.0));
            codes.push(cy + rng.random_range(-1.0..1.0));
            codes.push(rng.random_range(-1.0..1.0));
        }
        Set {
            codes,
            dim: 3,
            labels,
        }
    }

    #[test]
    fn separable_classes_are_learnt() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (train, validation, test) = (
            corners(80, &mut rng),
            corners(80, &mut rng),
            corners(400, &mut rng),
        );
        let r = fit(&train, &validation, &test, &LogisticProbeConfig::default());
        assert!(r.test_accuracy >= 0.99, "{r:?}");
        assert!(r.validation_accuracy >= 0.99, "{r:?}");
        assert_eq!(r.grid.len(), 6);
        let best = r.grid.iter().map(|g| g.1).fold(0.0, f64::max);
        assert_eq!(r.validation_accuracy, best);
        // Ties go to the strongest penalty: no stronger grid point reaches the best accuracy.
        assert!(
            r.grid.iter().all(|&(l2, acc)| l2 <= r.l2 || acc < best),
            "{r:?}"
        );
    }

    /// Two classes in `dim` dimensions, class means at -+0.35 in every coordinate, unit
    /// isotropic noise.
    fn isotropic(n: usize, dim: usize, rng: &mut ChaCha8Rng) -> Set {
        let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
        let mut codes = Vec::with_capacity(n * dim);
        for &label in &labels {
            let mean = if label == 1 { 0.35 } else { -0.35 };
            codes.extend((0..dim).map(|_| mean + normal(rng)));
        }
        Set { codes, dim, labels }
    }

    #[test]
    fn validation_favours_a_strong_penalty_when_training_points_are_few_and_noisy() {
        // 30 training points in 20 dimensions, isotropic classes: almost separable, so an
        // almost unpenalised fit follows the noise of the few points nearest the boundary;
        // a strong penalty shrinks the weights towards the difference of the class means,
        // which for isotropic classes is the optimal (Fisher) direction and is estimated
        // from every point. (Bayes accuracy: Phi(0.35 sqrt(20)) = 0.94.)
        let config = LogisticProbeConfig {
            l2_grid: vec![1e-4, 1.0],
            ..LogisticProbeConfig::default()
        };
        for seed in 0..3 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (train, validation, test) = (
                isotropic(30, 20, &mut rng),
                isotropic(2000, 20, &mut rng),
                isotropic(2000, 20, &mut rng),
            );
            let r = fit(&train, &validation, &test, &config);
            assert_eq!(r.l2, 1.0, "seed {seed}: {r:?}");
            assert!(r.grid[1].1 > r.grid[0].1 + 0.03, "seed {seed}: {r:?}");
            assert!(r.test_accuracy > 0.8, "seed {seed}: {r:?}");
        }
    }

    /// Two classes separated only along `x2 - x1`: `x1 = s`, `x2 = s -+ 0.5 + N(0, 0.1)`
    /// with `s` uniform on (-5, 5) for both classes.
    fn sheared(n: usize, rng: &mut ChaCha8Rng) -> Set {
        let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
        let mut codes = Vec::with_capacity(2 * n);
        for &label in &labels {
            let s: f32 = rng.random_range(-5.0..5.0);
            let offset = if label == 1 { 0.5 } else { -0.5 };
            codes.push(s);
            codes.push(s + offset + 0.1 * normal(rng));
        }
        Set {
            codes,
            dim: 2,
            labels,
        }
    }

    #[test]
    fn validation_favours_a_weak_penalty_when_the_class_means_point_the_wrong_way() {
        // The class means differ only in x2 (by 1), but x2 alone hardly separates the
        // classes (its spread, 10, swamps the offset); x2 - x1 separates them with margin
        // 0.5 against noise 0.1. An almost unpenalised fit finds x2 - x1 (accuracy ~1); a
        // strong penalty shrinks the weights towards the mean difference, i.e. x2 alone,
        // and the shared s dominates its score (accuracy near 0.5).
        let config = LogisticProbeConfig {
            l2_grid: vec![1e-4, 1.0],
            ..LogisticProbeConfig::default()
        };
        for seed in 0..3 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (train, validation, test) = (
                sheared(400, &mut rng),
                sheared(1000, &mut rng),
                sheared(1000, &mut rng),
            );
            let r = fit(&train, &validation, &test, &config);
            assert_eq!(r.l2, 1e-4, "seed {seed}: {r:?}");
            assert!(
                r.grid[0].1 > 0.95 && r.grid[1].1 < 0.75,
                "seed {seed}: {r:?}"
            );
            assert!(r.test_accuracy > 0.95, "seed {seed}: {r:?}");
        }
    }

    #[test]
    fn standardisation_uses_the_training_statistics_only() {
        // Feature 0 on the training rows: 1, 3 -> mean 2, population sd 1.
        // Feature 1: 4, 4 -> constant: centred on 4, not scaled.
        let s = Standardiser::fit(&[1.0, 4.0, 3.0, 4.0], 2);
        assert_eq!(s.mean, [2.0, 4.0]);
        assert_eq!(s.scale, [1.0, 1.0]);
        assert_eq!(s.apply(&[1.0, 4.0, 3.0, 4.0]), [-1.0, 0.0, 1.0, 0.0]);
        // Another set is transformed with the same numbers: (5 - 2) / 1 = 3, 6 - 4 = 2;
        // (2 - 2) / 1 = 0, 0 - 4 = -4.
        assert_eq!(s.apply(&[5.0, 6.0, 2.0, 0.0]), [3.0, 2.0, 0.0, -4.0]);
        // Feature 0: 0, 4, 8 -> mean 4, sd sqrt((16 + 0 + 16) / 3) = sqrt(32/3).
        let s = Standardiser::fit(&[0.0, 4.0, 8.0], 1);
        assert_eq!(s.mean, [4.0]);
        assert!((s.scale[0] - (32.0f64 / 3.0).sqrt()).abs() < 1e-15);
        // A constant 0.1 stays exactly 0 after centring (a computed mean 0.1 + 0.1 + 0.1
        // over 3 would not be exactly 0.1).
        let s = Standardiser::fit(&[0.1, 0.1, 0.1], 1);
        assert_eq!(s.apply(&[0.1]), [0.0]);
    }

    #[test]
    fn validation_and_test_sets_do_not_change_the_fit() {
        // The same training set with two different validation/test sets: identical
        // validation results when the validation set is the same, so nothing of the test
        // set leaks into standardisation or fitting.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (train, validation) = (corners(60, &mut rng), corners(60, &mut rng));
        let (test_a, mut test_b) = (corners(50, &mut rng), corners(50, &mut rng));
        test_b.codes.iter_mut().for_each(|v| *v *= 100.0);
        let config = LogisticProbeConfig::default();
        let (a, b) = (
            fit(&train, &validation, &test_a, &config),
            fit(&train, &validation, &test_b, &config),
        );
        assert_eq!(a.grid, b.grid);
        assert_eq!(a.l2, b.l2);
    }

    #[test]
    fn two_fits_are_bit_identical() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let (train, validation, test) = (
            isotropic(100, 20, &mut rng),
            isotropic(200, 20, &mut rng),
            isotropic(200, 20, &mut rng),
        );
        let config = LogisticProbeConfig::default();
        let (a, b) = (
            fit(&train, &validation, &test, &config),
            fit(&train, &validation, &test, &config),
        );
        assert_eq!(a, b);
        let x = Standardiser::fit(&train.codes, 20).apply(&train.codes);
        let data = TrainingSet::new(x, 20, &train.labels);
        let (p, q) = (
            fit_softmax(&data, 1e-3, &config).unwrap(),
            fit_softmax(&data, 1e-3, &config).unwrap(),
        );
        let bits = |m: &Softmax| m.theta.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&p), bits(&q));
    }

    #[test]
    fn objective_gradient_matches_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let set = corners(24, &mut rng);
        let x: Vec<f64> = set.codes.iter().map(|&v| f64::from(v) / 4.0).collect();
        let data = TrainingSet::new(x, 3, &set.labels);
        let theta: Vec<f64> = (0..data.param_count())
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let (mut grad, mut scratch) = (vec![0.0; theta.len()], vec![0.0; theta.len()]);
        data.objective(&theta, 0.3, &mut grad);
        let h = 1e-6;
        for i in 0..theta.len() {
            let (mut plus, mut minus) = (theta.clone(), theta.clone());
            plus[i] += h;
            minus[i] -= h;
            let numeric = (data.objective(&plus, 0.3, &mut scratch)
                - data.objective(&minus, 0.3, &mut scratch))
                / (2.0 * h);
            assert!(
                (numeric - grad[i]).abs() < 1e-7,
                "{i}: {numeric} vs {}",
                grad[i]
            );
        }
        // At zero parameters every class has probability 1/4: loss ln 4, no penalty.
        let zero = vec![0.0; theta.len()];
        assert!((data.objective(&zero, 0.3, &mut grad) - 4f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn agrees_with_scikit_learn() {
        // >>> X = np.array([[0,1],[1,.5],[.5,-1],[2,2],[-1,0],[1.5,-.5],
        // ...               [-2,1],[0,-2],[1,1.5],[-.5,-.5],[2.5,0],[-1.5,-1.5]])
        // >>> y = np.array([0,1,2,1,0,2,0,2,1,0,1,2])
        // >>> clf = LogisticRegression(C=1/(12*0.1), tol=1e-12, max_iter=10000).fit(X, y)
        // >>> clf.coef_       # scikit-learn 1.9.1, multinomial, lbfgs
        // [[-0.82071729,  0.40905885], [ 0.77900446,  0.67551672], [ 0.04171283, -1.08457557]]
        // >>> clf.intercept_
        // [ 0.42205166, -0.46010307,  0.03805141]
        let x = [
            0.0, 1.0, 1.0, 0.5, 0.5, -1.0, 2.0, 2.0, -1.0, 0.0, 1.5, -0.5, -2.0, 1.0, 0.0, -2.0,
            1.0, 1.5, -0.5, -0.5, 2.5, 0.0, -1.5, -1.5,
        ];
        let y = [0, 1, 2, 1, 0, 2, 0, 2, 1, 0, 1, 2];
        let data = TrainingSet::new(x.to_vec(), 2, &y);
        let config = LogisticProbeConfig {
            gradient_tolerance: 1e-10,
            ..LogisticProbeConfig::default()
        };
        let model = fit_softmax(&data, 0.1, &config).unwrap();
        let coef = [
            [-0.82071729, 0.40905885],
            [0.77900446, 0.67551672],
            [0.04171283, -1.08457557],
        ];
        let intercept = [0.42205166, -0.46010307, 0.03805141];
        for (c, (row, b)) in coef.iter().zip(intercept).enumerate() {
            for (j, w) in row.iter().enumerate() {
                let ours = model.theta[j * 3 + c];
                assert!((ours - w).abs() < 1e-7, "W[{j},{c}] = {ours}");
            }
            let ours = model.theta[6 + c];
            assert!((ours - b).abs() < 1e-7, "b[{c}] = {ours}");
        }
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let good = corners(20, &mut rng);
        let config = LogisticProbeConfig::default();
        let run = |train: &Set, validation: &Set, config: &LogisticProbeConfig| {
            fit_logistic_probe(
                &train.features(),
                &validation.features(),
                &good.features(),
                config,
            )
        };
        let mut nan = corners(20, &mut rng);
        nan.codes[7] = f32::NAN;
        let err = run(&good, &nan, &config).unwrap_err();
        assert!(
            matches!(err, ProbeError::NonFiniteFeature { set: "validation", row: 2, column: 1, value } if value.is_nan()),
            "{err:?}"
        );
        assert!(err
            .to_string()
            .contains("validation set's feature 1 of row 2"));
        let empty = Set {
            codes: vec![],
            dim: 3,
            labels: vec![],
        };
        assert_eq!(
            run(&empty, &good, &config),
            Err(ProbeError::EmptySet { set: "training" })
        );
        let short = Set {
            codes: vec![0.0; 5],
            dim: 3,
            labels: vec![0, 1],
        };
        assert!(matches!(
            run(&good, &short, &config),
            Err(ProbeError::Shape {
                set: "validation",
                values: 5,
                rows: 2,
                dim: 3
            })
        ));
        let wide = Set {
            codes: vec![0.0; 8],
            dim: 4,
            labels: vec![0, 1],
        };
        assert!(matches!(
            run(&good, &wide, &config),
            Err(ProbeError::DimensionMismatch {
                set: "validation",
                dim: 4,
                train_dim: 3
            })
        ));
        let no_grid = LogisticProbeConfig {
            l2_grid: vec![],
            ..config.clone()
        };
        assert_eq!(run(&good, &good, &no_grid), Err(ProbeError::EmptyGrid));
        let zero = LogisticProbeConfig {
            l2_grid: vec![1.0, 0.0],
            ..config.clone()
        };
        assert_eq!(
            run(&good, &good, &zero),
            Err(ProbeError::InvalidL2 { value: 0.0 })
        );
        let one_step = LogisticProbeConfig {
            max_iterations: 1,
            ..config
        };
        assert!(matches!(
            run(&good, &good, &one_step),
            Err(ProbeError::NotConverged { iterations: 1, .. })
        ));
    }
}
