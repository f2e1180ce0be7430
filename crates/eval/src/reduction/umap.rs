//! UMAP (McInnes, Healy & Melville 2018) as the reference runs it: umap-learn 0.4.6's
//! `umap.UMAP()` defaults (euclidean, min_dist 0.1, spread 1, spectral initialisation,
//! SGD with learning rate 1, 5 negative samples per edge, gamma 1, 500 epochs up to
//! 10,000 points and 200 above).
//!
//! The fuzzy graph is built here after umap-learn's `smooth_knn_dist`,
//! `compute_membership_strengths`, fuzzy union and weak-edge pruning, on exact neighbours
//! (umap-learn switches to approximate NN-descent from 4,096 points on), and so is the SGD
//! layout (`optimize_layout_euclidean`). manifolds-rs supplies the spectral initialisation
//! only: its graph construction differs from umap-learn's (bandwidth target ln k instead of
//! log2 k, bisection tolerance 1 instead of 1e-5, k neighbours besides the point instead of
//! k - 1), and its SGD clips the repulsion coefficient instead of the gradient, so with
//! min_dist 0.1 (b < 1) attraction beats repulsion at short range and every cluster collapses
//! to a point.

use faer::MatRef;
use manifolds_rs::data::init::spectral_layout;
use manifolds_rs::data::structures::CoordinateList;
use manifolds_rs::errors::ManifoldsError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::neighbours::knn;

/// Curve parameters `a`, `b` of the low-dimensional similarity `1 / (1 + a d^(2b))` that
/// umap-learn 0.4.6 fits for min_dist 0.1 and spread 1.0:
/// ```python
/// # umap-learn 0.4.6 find_ab_params(spread=1.0, min_dist=0.1), scipy 1.16
/// xv = np.linspace(0, spread * 3, 300)
/// yv = np.zeros(xv.shape); yv[xv < min_dist] = 1.0
/// yv[xv >= min_dist] = np.exp(-(xv[xv >= min_dist] - min_dist) / spread)
/// curve_fit(lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b)), xv, yv)[0]
/// # -> [1.5769434602697652, 0.8950608778515733]
/// ```
const CURVE_A: f32 = 1.576_943_5;
/// See [`CURVE_A`].
const CURVE_B: f32 = 0.895_060_9;
/// umap-learn's `min_dist` default.
pub(crate) const MIN_DIST: f32 = 0.1;
/// umap-learn's `n_neighbors` default (the point itself counts as one of them).
pub(crate) const NEIGHBOURS: usize = 15;
/// umap-learn's `SMOOTH_K_TOLERANCE`: bisection stops when the membership sum is this close.
const SMOOTH_K_TOLERANCE: f64 = 1e-5;
/// umap-learn's `MIN_K_DIST_SCALE`: lower bound on sigma relative to the mean distance.
const MIN_K_DIST_SCALE: f64 = 1e-3;
/// Bisection steps of `smooth_knn_dist`.
const SMOOTH_K_ITERATIONS: usize = 64;
/// Negative samples per positive edge sample.
const NEGATIVE_SAMPLE_RATE: usize = 5;

/// Number of SGD epochs umap-learn 0.4.6 picks for a graph of `n` points.
pub(crate) fn epochs(n: usize) -> usize {
    if n <= 10_000 {
        500
    } else {
        200
    }
}

/// Per-point bandwidth sigma and nearest non-zero distance rho, as umap-learn's
/// `smooth_knn_dist` with local connectivity 1 and bandwidth 1: the memberships
/// `exp(-max(d - rho, 0) / sigma)` of the `k - 1` neighbours besides the point sum to
/// `log2(k)`. Each row of `dists` holds the point itself (distance 0) and then its
/// `k - 1` neighbours' euclidean distances, ascending.
fn smooth_knn_dist(dists: &[Vec<f64>], k: usize) -> (Vec<f64>, Vec<f64>) {
    let target = (k as f64).log2();
    let count = dists.iter().map(Vec::len).sum::<usize>().max(1);
    let mean_all = dists.iter().flatten().sum::<f64>() / count as f64;
    dists
        .iter()
        .map(|row| {
            let rho = row.iter().copied().find(|&d| d > 0.0).unwrap_or(0.0);
            let (mut lo, mut hi, mut mid) = (0.0f64, f64::INFINITY, 1.0f64);
            for _ in 0..SMOOTH_K_ITERATIONS {
                let psum: f64 = row[1..]
                    .iter()
                    .map(|&d| {
                        if d - rho > 0.0 {
                            (-(d - rho) / mid).exp()
                        } else {
                            1.0
                        }
                    })
                    .sum();
                if (psum - target).abs() < SMOOTH_K_TOLERANCE {
                    break;
                }
                if psum > target {
                    hi = mid;
                    mid = (lo + hi) / 2.0;
                } else {
                    lo = mid;
                    mid = if hi.is_infinite() {
                        mid * 2.0
                    } else {
                        (lo + hi) / 2.0
                    };
                }
            }
            let mean = if rho > 0.0 {
                row.iter().sum::<f64>() / row.len() as f64
            } else {
                mean_all
            };
            (mid.max(MIN_K_DIST_SCALE * mean), rho)
        })
        .unzip()
}

/// The symmetric fuzzy graph of umap-learn's `fuzzy_simplicial_set` over the exact
/// `k`-nearest-neighbour sets (the point itself counted) of the `n x dim` row-major `data`:
/// directed memberships `p(i -> j) = exp(-max(d_ij - rho_i, 0) / sigma_i)`, combined by
/// the fuzzy union `p(i -> j) + p(j -> i) - p(i -> j) p(j -> i)`. Row `i` lists
/// `(j, weight)` by ascending `j`; zero weights are left out.
pub(crate) fn fuzzy_graph(data: &[f64], dim: usize, k: usize) -> Vec<Vec<(usize, f64)>> {
    let n = data.len() / dim;
    let neighbours = knn(data, dim, k - 1);
    let dists: Vec<Vec<f64>> = neighbours
        .iter()
        .map(|row| {
            std::iter::once(0.0)
                .chain(row.iter().map(|&(d2, _)| d2.sqrt()))
                .collect()
        })
        .collect();
    let (sigmas, rhos) = smooth_knn_dist(&dists, k);
    // (row, column, p(row -> column), p(column -> row)); each ordered pair occurs at most
    // once in each direction, so merging adds to zero and the result is order-free.
    let mut entries: Vec<(usize, usize, f64, f64)> = Vec::with_capacity(2 * n * (k - 1));
    for (i, row) in neighbours.iter().enumerate() {
        for (&(_, j), &d) in row.iter().zip(&dists[i][1..]) {
            let p = if d - rhos[i] <= 0.0 || sigmas[i] == 0.0 {
                1.0
            } else {
                (-(d - rhos[i]) / sigmas[i]).exp()
            };
            if p > 0.0 {
                entries.push((i, j, p, 0.0));
                entries.push((j, i, 0.0, p));
            }
        }
    }
    entries.sort_unstable_by_key(|e| (e.0, e.1));
    let mut graph = vec![Vec::new(); n];
    for chunk in entries.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (i, j) = (chunk[0].0, chunk[0].1);
        let forward: f64 = chunk.iter().map(|e| e.2).sum();
        let backward: f64 = chunk.iter().map(|e| e.3).sum();
        let w = forward + backward - forward * backward;
        if w > 0.0 {
            graph[i].push((j, w));
        }
    }
    graph
}

/// Drops the edges lighter than `max weight / n_epochs`, as umap-learn's
/// `simplicial_set_embedding` does: they would not be sampled once in the whole run.
fn prune(graph: &mut [Vec<(usize, f64)>], n_epochs: usize) {
    let max = graph.iter().flatten().map(|e| e.1).fold(0.0, f64::max);
    let min = max / n_epochs as f64;
    for row in graph {
        row.retain(|e| e.1 >= min);
    }
}

/// UMAP of the `n x dim` row-major `codes` into the plane with `k` neighbours (the point
/// itself counted, `2 <= k <= n`), min_dist [`MIN_DIST`] and [`epochs`]`(n)` SGD epochs:
/// the pruned fuzzy graph, manifolds-rs's spectral initialisation (scaled to a largest
/// coordinate of 10 plus N(0, 1e-4) noise, one layout per connected component placed by
/// the components' centroids), each coordinate rescaled to [0, 10] as umap-learn does, then
/// the SGD. The initialisation and the negative sampling are seeded from `seed`, and
/// nothing depends on the number of threads.
pub(crate) fn umap(
    codes: &[f32],
    dim: usize,
    k: usize,
    seed: u64,
) -> Result<Vec<[f32; 2]>, ManifoldsError> {
    let n = codes.len() / dim;
    let data: Vec<f64> = codes.iter().map(|&x| f64::from(x)).collect();
    let mut graph = fuzzy_graph(&data, dim, k);
    let n_epochs = epochs(n);
    prune(&mut graph, n_epochs);
    let mut coo = CoordinateList {
        row_indices: Vec::new(),
        col_indices: Vec::new(),
        values: Vec::new(),
        n_samples: n,
    };
    for (i, row) in graph.iter().enumerate() {
        for &(j, w) in row {
            coo.row_indices.push(i);
            coo.col_indices.push(j);
            coo.values.push(w as f32);
        }
    }
    // manifolds-rs adds small offsets to the seed (per component, per stage): keep it far
    // from overflowing.
    let seed = seed & (u64::MAX >> 1);
    let data_f32 = MatRef::from_row_major_slice(codes, n, dim);
    let embedding = spectral_layout(&coo, 2, seed, None, Some(data_f32))?;
    let mut layout: Vec<[f64; 2]> = embedding
        .iter()
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect();
    rescale_to_ten(&mut layout);
    optimize_layout(&mut layout, &graph, n_epochs, seed);
    Ok(layout
        .into_iter()
        .map(|[x, y]| [x as f32, y as f32])
        .collect())
}

/// Maps each coordinate linearly onto [0, 10], as umap-learn 0.4.6 does between the
/// initialisation and the optimisation (a constant coordinate becomes 0).
fn rescale_to_ten(layout: &mut [[f64; 2]]) {
    for d in 0..2 {
        let (lo, hi) = layout
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p[d]), hi.max(p[d]))
            });
        let span = hi - lo;
        for p in layout.iter_mut() {
            p[d] = if span > 0.0 {
                10.0 * (p[d] - lo) / span
            } else {
                0.0
            };
        }
    }
}

/// umap-learn 0.4.6's gradient clip.
fn clip(g: f64) -> f64 {
    g.clamp(-4.0, 4.0)
}

/// umap-learn 0.4.6's `optimize_layout_euclidean` (sequential, `move_other`): `n_epochs`
/// epochs of SGD on the fuzzy set cross-entropy with the learning rate decaying linearly from
/// 1, each edge sampled in proportion to its weight, with [`NEGATIVE_SAMPLE_RATE`] negative
/// samples per sample; gradients clipped to [-4, 4] per coordinate. The negative samples are
/// drawn from one `ChaCha8Rng` seeded with `seed` (umap-learn uses its own Tausworthe
/// generator, so the samples, not the procedure, differ).
fn optimize_layout(
    layout: &mut [[f64; 2]],
    graph: &[Vec<(usize, f64)>],
    n_epochs: usize,
    seed: u64,
) {
    let n = layout.len();
    let edges: Vec<(usize, usize, f64)> = graph
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row.iter().map(move |&(j, w)| (i, j, w)))
        .collect();
    let max = edges.iter().map(|e| e.2).fold(0.0, f64::max);
    // make_epochs_per_sample: n_epochs / (n_epochs * w / max).
    let per_sample: Vec<f64> = edges
        .iter()
        .map(|e| n_epochs as f64 / (n_epochs as f64 * (e.2 / max)))
        .collect();
    let per_negative: Vec<f64> = per_sample
        .iter()
        .map(|p| p / NEGATIVE_SAMPLE_RATE as f64)
        .collect();
    let mut next_sample = per_sample.clone();
    let mut next_negative = per_negative.clone();
    let (a, b, gamma) = (f64::from(CURVE_A), f64::from(CURVE_B), 1.0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut alpha = 1.0;
    let dist2 = |p: [f64; 2], q: [f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
    for epoch in 0..n_epochs {
        let now = epoch as f64;
        for (e, &(j, k, _)) in edges.iter().enumerate() {
            if next_sample[e] > now {
                continue;
            }
            let d2 = dist2(layout[j], layout[k]);
            let coeff = if d2 > 0.0 {
                -2.0 * a * b * d2.powf(b - 1.0) / (a * d2.powf(b) + 1.0)
            } else {
                0.0
            };
            // Each coordinate's step reads only that coordinate: computing both first is the same.
            let g = [0, 1].map(|d| clip(coeff * (layout[j][d] - layout[k][d])));
            for (d, g) in g.into_iter().enumerate() {
                layout[j][d] += g * alpha;
                layout[k][d] -= g * alpha;
            }
            next_sample[e] += per_sample[e];
            let negatives = ((now - next_negative[e]) / per_negative[e]) as usize;
            for _ in 0..negatives {
                let other = rng.random_range(0..n);
                let d2 = dist2(layout[j], layout[other]);
                let coeff = if d2 > 0.0 {
                    2.0 * gamma * b / ((0.001 + d2) * (a * d2.powf(b) + 1.0))
                } else if j == other {
                    continue;
                } else {
                    0.0
                };
                let g = [0, 1].map(|d| {
                    if coeff > 0.0 {
                        clip(coeff * (layout[j][d] - layout[other][d]))
                    } else {
                        4.0
                    }
                });
                for (x, g) in layout[j].iter_mut().zip(g) {
                    *x += g * alpha;
                }
            }
            next_negative[e] += negatives as f64 * per_negative[e];
        }
        alpha = 1.0 - now / n_epochs as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six points in two clusters of three, k = 3 (each point and its two nearest).
    const POINTS: [f64; 12] = [0.0, 0.0, 1.0, 0.0, 0.0, 2.0, 4.0, 4.0, 5.0, 4.0, 4.0, 6.5];

    #[test]
    fn bandwidths_match_umap_learn() {
        // Each point's two neighbours: the nearer gets membership 1 (it sets rho), the other
        // exp(-(d2 - rho) / sigma) = log2(3) - 1 = 0.58496, so sigma = (d2 - rho) / -ln(0.58496).
        // Point 0: d = (1, 2) -> sigma = 1 / 0.53621 = 1.8649. umap-learn 0.4.6 itself, run with
        // NUMBA_DISABLE_JIT=1 on the same exact neighbours:
        // ```python
        // X = np.array([[0, 0], [1, 0], [0, 2], [4, 4], [5, 4], [4, 6.5]])
        // d = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
        // idx = np.argsort(d, axis=1, kind="stable")[:, :3]
        // dist = np.take_along_axis(d, idx, axis=1)
        // smooth_knn_dist(dist.astype(np.float32), 3.0)
        // # sigmas 1.864990234375, 2.30517578125, 0.44024658203125, 2.79736328125,
        // #        3.156494140625, 0.359161376953125; rhos 1, 1, 2, 1, 1, 2.5
        // ```
        let rows: Vec<Vec<f64>> = knn(&POINTS, 2, 2)
            .iter()
            .map(|r| {
                std::iter::once(0.0)
                    .chain(r.iter().map(|e| e.0.sqrt()))
                    .collect()
            })
            .collect();
        let (sigmas, rhos) = smooth_knn_dist(&rows, 3);
        let expected = [
            1.864990234375,
            2.30517578125,
            0.44024658203125,
            2.79736328125,
            3.156494140625,
            0.359161376953125,
        ];
        for (s, e) in sigmas.iter().zip(expected) {
            assert!((s - e).abs() < 1e-6 * e, "sigma {s} vs umap-learn {e}");
        }
        assert_eq!(rhos, vec![1.0, 1.0, 2.0, 1.0, 1.0, 2.5]);
        // Point 0 by hand: 1 / -ln(log2(3) - 1), within the bisection's tolerance.
        let by_hand = 1.0 / -(3f64.log2() - 1.0).ln();
        assert!((sigmas[0] - by_hand).abs() < 1e-3, "{}", sigmas[0]);
    }

    #[test]
    fn fuzzy_union_matches_umap_learn() {
        // Fuzzy union w = p + q - pq. Pair (0, 2): p(0 -> 2) = 0.585, p(2 -> 0) = 1 -> w = 1.
        // Pair (1, 2): both directions 0.585 -> w = 2(0.58496) - 0.58496^2 = 0.82774.
        // umap-learn 0.4.6 fuzzy_simplicial_set(X, 3, None, "euclidean", knn_indices=idx,
        // knn_dists=dist) with NUMBA_DISABLE_JIT=1, as CSR rows:
        // 0 [(1, 1.0), (2, 1.0)]   1 [(0, 1.0), (2, 0.8277398347854614)]
        // 2 [(0, 1.0), (1, 0.8277398347854614)]   3 [(4, 1.0), (5, 1.0)]
        // 4 [(3, 1.0), (5, 0.8277420401573181)]   5 [(3, 1.0), (4, 0.8277420401573181)]
        let g = fuzzy_graph(&POINTS, 2, 3);
        let expected: [&[(usize, f64)]; 6] = [
            &[(1, 1.0), (2, 1.0)],
            &[(0, 1.0), (2, 0.8277398347854614)],
            &[(0, 1.0), (1, 0.8277398347854614)],
            &[(4, 1.0), (5, 1.0)],
            &[(3, 1.0), (5, 0.8277420401573181)],
            &[(3, 1.0), (4, 0.8277420401573181)],
        ];
        for (row, want) in g.iter().zip(expected) {
            assert_eq!(row.len(), want.len());
            for (&(j, w), &(wj, ww)) in row.iter().zip(want) {
                assert_eq!(j, wj);
                assert!((w - ww).abs() < 1e-5, "{w} vs {ww}");
            }
        }
        let q = 3f64.log2() - 1.0;
        assert!((g[1][1].1 - (2.0 * q - q * q)).abs() < 1e-5);
    }

    #[test]
    fn weak_edges_are_pruned_and_epochs_follow_umap_learn() {
        let mut g = vec![vec![(1, 1.0), (2, 0.001)], vec![(0, 1.0)], vec![(0, 0.001)]];
        // 1 / 500 = 0.002 > 0.001: the weak pair goes, the strong one stays.
        prune(&mut g, 500);
        assert_eq!(g, vec![vec![(1, 1.0)], vec![(0, 1.0)], vec![]]);
        assert_eq!((epochs(10_000), epochs(10_001)), (500, 200));
    }
}
