//! The Fréchet distance between two sets of feature vectors, each summarised by the Gaussian
//! of its mean and covariance: what the Fréchet inception distance (FID) computes on
//! Inception features, here on any features (the study uses a classifier's penultimate
//! layer: the Fréchet classifier distance, FCD).
//!
//! `d² = ||μ₁ - μ₂||² + tr(Σ₁) + tr(Σ₂) - 2 tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})`, in f64 with
//! symmetric eigendecompositions (faer, sequential, so the value does not depend on the
//! thread count); eigenvalues below zero (rounding) count as zero. The covariance is the
//! unbiased one (divided by n - 1), as `numpy.cov` and the reference FID code compute it.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Mat, MatRef, Par};

/// The mean and covariance of a set of feature vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    /// Mean of each feature.
    pub mean: Vec<f64>,
    /// Covariance, `dim x dim` row-major, unbiased (divided by n - 1).
    pub covariance: Vec<f64>,
}

impl Gaussian {
    /// The Gaussian of the rows of `features` (`[rows, dim]`, row-major), accumulated in f64
    /// in row order.
    ///
    /// # Panics
    /// If `dim` is 0, `features` is not whole rows of `dim`, or there are fewer than two
    /// rows (no covariance).
    pub fn fit(features: &[f32], dim: usize) -> Self {
        assert!(
            dim > 0 && features.len().is_multiple_of(dim),
            "features: {} values are not whole rows of {dim}",
            features.len()
        );
        let n = features.len() / dim;
        assert!(
            n >= 2,
            "a covariance needs at least two feature vectors, got {n}"
        );
        let mut mean = vec![0.0f64; dim];
        for row in features.chunks_exact(dim) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        for m in &mut mean {
            *m /= n as f64;
        }
        let mut covariance = vec![0.0f64; dim * dim];
        let mut centred = vec![0.0f64; dim];
        for row in features.chunks_exact(dim) {
            for ((c, &x), m) in centred.iter_mut().zip(row).zip(&mean) {
                *c = f64::from(x) - m;
            }
            for (i, &ci) in centred.iter().enumerate() {
                // Upper triangle only; mirrored below.
                for (j, &cj) in centred.iter().enumerate().skip(i) {
                    covariance[i * dim + j] += ci * cj;
                }
            }
        }
        let scale = 1.0 / (n - 1) as f64;
        for i in 0..dim {
            for j in i..dim {
                let v = covariance[i * dim + j] * scale;
                covariance[i * dim + j] = v;
                covariance[j * dim + i] = v;
            }
        }
        Self { mean, covariance }
    }

    /// Number of features.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    fn covariance_matrix(&self) -> Mat<f64> {
        let d = self.dim();
        Mat::from_fn(d, d, |i, j| self.covariance[i * d + j])
    }
}

/// The Fréchet distance (squared, as FID reports it) between the Gaussians `a` and `b`; never
/// negative.
///
/// # Panics
/// If the two have different dimensions.
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> f64 {
    assert_eq!(
        a.dim(),
        b.dim(),
        "Fréchet distance between Gaussians of different dimensions"
    );
    let mean_term: f64 = a
        .mean
        .iter()
        .zip(&b.mean)
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    let (s1, s2) = (a.covariance_matrix(), b.covariance_matrix());
    let trace = |m: &Mat<f64>| (0..m.nrows()).map(|i| m[(i, i)]).sum::<f64>();
    let root = symmetric_sqrt(s1.as_ref());
    let product = &root * &s2 * &root;
    let cross: f64 = eigenvalues(symmetrised(product).as_ref(), false)
        .0
        .iter()
        .map(|&l| l.max(0.0).sqrt())
        .sum();
    (mean_term + trace(&s1) + trace(&s2) - 2.0 * cross).max(0.0)
}

/// `(m + mᵀ) / 2`: removes the rounding asymmetry of a product of symmetric matrices.
fn symmetrised(m: Mat<f64>) -> Mat<f64> {
    let n = m.nrows();
    Mat::from_fn(n, n, |i, j| 0.5 * (m[(i, j)] + m[(j, i)]))
}

/// The principal square root `U diag(sqrt(max(λ, 0))) Uᵀ` of a symmetric matrix.
fn symmetric_sqrt(m: MatRef<'_, f64>) -> Mat<f64> {
    let (values, vectors) = eigenvalues(m, true);
    let u = vectors.expect("eigenvectors were asked for");
    let n = m.nrows();
    let scaled = Mat::from_fn(n, n, |i, j| u[(i, j)] * values[j].max(0.0).sqrt());
    &scaled * u.transpose()
}

/// Eigenvalues (ascending) of a symmetric matrix (its lower triangle is read), and its
/// eigenvectors as columns when `vectors`; sequential, so independent of the thread count.
fn eigenvalues(m: MatRef<'_, f64>, vectors: bool) -> (Vec<f64>, Option<Mat<f64>>) {
    let n = m.nrows();
    let compute = if vectors {
        ComputeEigenvectors::Yes
    } else {
        ComputeEigenvectors::No
    };
    let mut s = Diag::<f64>::zeros(n);
    let mut u = vectors.then(|| Mat::<f64>::zeros(n, n));
    let params = Default::default();
    let mut buffer = MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(
        n,
        compute,
        Par::Seq,
        params,
    ));
    evd::self_adjoint_evd(
        m,
        s.as_mut(),
        u.as_mut().map(|u| u.as_mut()),
        Par::Seq,
        MemStack::new(&mut buffer),
        params,
    )
    .expect("the eigendecomposition of a finite symmetric matrix converges");
    let values = (0..n).map(|i| s[i]).collect();
    (values, u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian(mean: &[f64], covariance: &[f64]) -> Gaussian {
        Gaussian {
            mean: mean.to_vec(),
            covariance: covariance.to_vec(),
        }
    }

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn one_dimension_is_the_mean_and_sd_differences_squared() {
        // N(1, 2²) and N(4, 5²): (1 - 4)² + (2 - 5)² = 18.
        let d = frechet_distance(&gaussian(&[1.0], &[4.0]), &gaussian(&[4.0], &[25.0]));
        close(d, 18.0, 1e-12);
    }

    #[test]
    fn diagonal_covariances_add_up_per_dimension() {
        // Means (0, 1) and (2, -1): 4 + 4 = 8. Variances (1, 4) and (9, 16): per dimension
        // (sd1 - sd2)² = (1 - 3)² + (2 - 4)² = 8. Total 16.
        let a = gaussian(&[0.0, 1.0], &[1.0, 0.0, 0.0, 4.0]);
        let b = gaussian(&[2.0, -1.0], &[9.0, 0.0, 0.0, 16.0]);
        close(frechet_distance(&a, &b), 16.0, 1e-12);
        close(frechet_distance(&b, &a), 16.0, 1e-12);
    }

    #[test]
    fn a_rotated_covariance_against_itself_is_zero_and_against_the_identity_known() {
        // Σ = R diag(4, 1) Rᵀ with R a rotation by 30°: [[3.25, 1.299], [1.299, 1.75]].
        // Against itself: 0. Against I: tr Σ + 2 - 2 tr Σ^{1/2} = 5 + 2 - 2 (2 + 1) = 1.
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let sigma = [
            4.0 * c * c + s * s,
            3.0 * c * s,
            3.0 * c * s,
            4.0 * s * s + c * c,
        ];
        let a = gaussian(&[0.5, 0.5], &sigma);
        close(frechet_distance(&a, &a), 0.0, 1e-12);
        let identity = gaussian(&[0.5, 0.5], &[1.0, 0.0, 0.0, 1.0]);
        close(frechet_distance(&a, &identity), 1.0, 1e-12);
    }

    #[test]
    fn fitted_gaussians_match_numpy_and_scipy() {
        // Two sets of five 3-d vectors (f32, as the features are), the value computed with
        // numpy 2.4.6 / scipy 1.17.1:
        //   import numpy as np, scipy.linalg as sl
        //   a = np.array([[0.1, 1.0, -0.5], [0.7, 0.2, 0.3], [1.5, -0.4, 0.9],
        //                 [-0.3, 0.8, 0.0], [0.6, 0.6, 1.2]], dtype=np.float32).astype(float)
        //   b = np.array([[1.1, 0.0, 0.5], [0.2, -0.7, 1.3], [0.9, 0.4, -0.2],
        //                 [1.6, 1.1, 0.4], [0.0, -0.3, 0.8]], dtype=np.float32).astype(float)
        //   m1, m2 = a.mean(0), b.mean(0)
        //   s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        //   covmean = sl.sqrtm(s1 @ s2).real
        //   print(repr(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)))
        // -> 1.3216675431106395
        let a: [f32; 15] = [
            0.1, 1.0, -0.5, 0.7, 0.2, 0.3, 1.5, -0.4, 0.9, -0.3, 0.8, 0.0, 0.6, 0.6, 1.2,
        ];
        let b: [f32; 15] = [
            1.1, 0.0, 0.5, 0.2, -0.7, 1.3, 0.9, 0.4, -0.2, 1.6, 1.1, 0.4, 0.0, -0.3, 0.8,
        ];
        let (ga, gb) = (Gaussian::fit(&a, 3), Gaussian::fit(&b, 3));
        // np.cov(a, rowvar=False)[0][0] = var([0.1, 0.7, 1.5, -0.3, 0.6], ddof=1) = 0.462.
        close(ga.covariance[0], 0.462, 1e-7);
        close(ga.mean[0], 0.52, 1e-7);
        close(frechet_distance(&ga, &gb), 1.3216675431106395, 1e-9);
    }

    #[test]
    fn identical_sets_are_at_distance_zero_and_a_shift_adds_its_square() {
        let points: Vec<f32> = (0..40).map(|i| ((i * 7919) % 31) as f32 / 31.0).collect();
        let g = Gaussian::fit(&points, 4);
        close(frechet_distance(&g, &g), 0.0, 1e-9);
        // Shifting every first feature by 0.5 moves the mean only: 0.25.
        let shifted: Vec<f32> = points
            .iter()
            .enumerate()
            .map(|(i, &x)| if i % 4 == 0 { x + 0.5 } else { x })
            .collect();
        close(
            frechet_distance(&g, &Gaussian::fit(&shifted, 4)),
            0.25,
            1e-6,
        );
    }

    #[test]
    fn singular_covariances_are_fine() {
        // Every vector on a line: rank-1 covariances, eigenvalues 0 up to rounding.
        let a: Vec<f32> = (0..10).flat_map(|i| [i as f32, i as f32]).collect();
        let b: Vec<f32> = (0..10)
            .flat_map(|i| [2.0 * i as f32, 2.0 * i as f32])
            .collect();
        let (ga, gb) = (Gaussian::fit(&a, 2), Gaussian::fit(&b, 2));
        // Along (1, 1)/√2 the sds are √2 sd(0..9) and 2√2 sd(0..9); the means differ by
        // 4.5 in each coordinate: 2 · 4.5² + 2 var(0..9) = 40.5 + 2 · 55/6.
        let var = 55.0 / 6.0;
        close(frechet_distance(&ga, &gb), 40.5 + 2.0 * var, 1e-9);
    }

    #[test]
    #[should_panic(expected = "at least two feature vectors")]
    fn one_vector_has_no_covariance() {
        Gaussian::fit(&[1.0, 2.0], 2);
    }
}
