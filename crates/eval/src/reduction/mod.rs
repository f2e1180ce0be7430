//! Reduction of latent codes to 2-D for scatter plots: identity for one or two
//! dimensions, otherwise UMAP (as the reference) or t-SNE.

mod affinity;
mod neighbours;
mod quadtree;
mod tsne;
mod umap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use self::tsne::{tsne, TsneConfig};

/// t-SNE perplexity used for latent codes of more than two dimensions.
pub const PERPLEXITY: f64 = 30.0;
/// Barnes-Hut approximation threshold (theta) of the t-SNE.
pub const APPROX_THRESHOLD: f64 = 0.5;
/// Number of t-SNE gradient iterations, 250 of them early-exaggerated
/// (scikit-learn's default).
pub const MAX_ITER: usize = 1000;
/// UMAP neighbours, the point itself counted (umap-learn's `n_neighbors` default).
pub const UMAP_NEIGHBOURS: usize = umap::NEIGHBOURS;
/// UMAP's minimum distance between embedded points (umap-learn's default).
pub const UMAP_MIN_DIST: f32 = umap::MIN_DIST;

/// How codes of more than two dimensions are put in the plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// UMAP with umap-learn 0.4.6's defaults (the reference's `umap.UMAP()`): 15
    /// neighbours, min_dist 0.1, spectral initialisation, exact neighbours.
    #[default]
    Umap,
    /// Barnes-Hut t-SNE (perplexity [`PERPLEXITY`], scikit-learn's optimiser settings).
    Tsne,
}

impl Reduction {
    /// The method's name as plots print it: "UMAP" or "t-SNE".
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Umap => "UMAP",
            Reduction::Tsne => "t-SNE",
        }
    }
}

/// A reduction that could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReductionError {
    /// A code holds NaN or an infinity.
    #[error("latent code {row} is not finite")]
    NonFiniteCode {
        /// Row of the first such code.
        row: usize,
    },
    /// manifolds-rs rejected the UMAP graph in the spectral initialisation.
    #[error("UMAP failed: {0}")]
    Umap(String),
}

/// Latent codes placed in the plane, with how they got there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reduced2d {
    /// One point per input code, in input order.
    pub points: Vec<[f32; 2]>,
    /// Human-readable description of the reduction, for plot captions.
    pub method: String,
}

/// Puts the `n x dim` row-major `codes` in the plane.
///
/// `dim == 2`: the codes themselves ("latent (2-D, no reduction)");
/// `dim == 1`: the code on the x axis and 0 on y. Otherwise `reduction`, seeded
/// from `seed` so that the result is deterministic for `seed` and does not depend
/// on the number of threads:
/// - [`Reduction::Umap`]: UMAP with [`UMAP_NEIGHBOURS`] neighbours, min_dist
///   [`UMAP_MIN_DIST`], spectral initialisation and 500 SGD epochs up to 10,000
///   codes (200 above), umap-learn 0.4.6's defaults, on exact neighbours
///   ("UMAP (15 neighbours, min_dist 0.1)"). With 15 codes or fewer the
///   neighbours are lowered to `n - 1`, as umap-learn does.
/// - [`Reduction::Tsne`]: a Barnes-Hut t-SNE (this crate's own, exact neighbours,
///   scikit-learn's optimiser settings) with perplexity [`PERPLEXITY`], theta
///   [`APPROX_THRESHOLD`], [`MAX_ITER`] iterations and random initialisation
///   ("t-SNE (perplexity 30)"). t-SNE needs `n - 1 >= 3 * perplexity`; with
///   fewer codes the perplexity is lowered to `(n - 1) / 3` and the method
///   string says so.
///
/// With fewer than 4 codes every point is the origin.
///
/// # Errors
/// A code of more than two dimensions that is not finite, or UMAP's layout failing.
///
/// # Panics
/// If `dim == 0` or `codes.len()` is not a multiple of `dim`.
pub fn reduce_to_2d(
    codes: &[f32],
    dim: usize,
    seed: u64,
    reduction: Reduction,
) -> Result<Reduced2d, ReductionError> {
    assert!(
        dim > 0 && codes.len().is_multiple_of(dim),
        "codes must be n x dim"
    );
    let n = codes.len() / dim;
    match dim {
        2 => {
            return Ok(Reduced2d {
                points: codes.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
                method: "latent (2-D, no reduction)".into(),
            })
        }
        1 => {
            return Ok(Reduced2d {
                points: codes.iter().map(|&x| [x, 0.0]).collect(),
                method: "latent (1-D, y = 0)".into(),
            })
        }
        _ => {}
    }
    if let Some(row) = codes
        .chunks_exact(dim)
        .position(|c| c.iter().any(|x| !x.is_finite()))
    {
        return Err(ReductionError::NonFiniteCode { row });
    }
    if n < 4 {
        return Ok(Reduced2d {
            points: vec![[0.0, 0.0]; n],
            method: format!("too few codes ({n}) for {}", reduction.name()),
        });
    }
    match reduction {
        Reduction::Umap => {
            let k = UMAP_NEIGHBOURS.min(n - 1);
            let points =
                umap::umap(codes, dim, k, seed).map_err(|e| ReductionError::Umap(e.to_string()))?;
            Ok(Reduced2d {
                points,
                method: format!("UMAP ({k} neighbours, min_dist {UMAP_MIN_DIST})"),
            })
        }
        Reduction::Tsne => {
            let perplexity = PERPLEXITY.min(((n - 1) / 3) as f64);
            let data: Vec<f64> = codes.iter().map(|&x| f64::from(x)).collect();
            let cfg = TsneConfig {
                perplexity,
                theta: APPROX_THRESHOLD,
                max_iter: MAX_ITER,
            };
            Ok(Reduced2d {
                points: tsne(&data, dim, cfg, seed)
                    .into_iter()
                    .map(|[x, y]| [x as f32, y as f32])
                    .collect(),
                method: format!("t-SNE (perplexity {perplexity})"),
            })
        }
    }
}

/// Suggested `max_points` for [`reduce_to_2d_subset`] with t-SNE on the 10,000 test codes.
pub const SUBSET_POINTS: usize = 5_000;

/// `12345` as "12,345".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// As [`reduce_to_2d`], but the reduction runs on at most `max_points` codes:
/// when `dim > 2` and there are more codes, a random subset of `max_points`
/// rows drawn from `seed` (kept in input order) is reduced, and the method
/// string says so, e.g. "t-SNE on 5,000 of 10,000 test codes (perplexity 30)".
/// Returns the reduction and the labels of the rows it holds, in its order.
/// Codes of one or two dimensions are never subsampled (they cost nothing).
///
/// # Errors
/// As [`reduce_to_2d`].
///
/// # Panics
/// As [`reduce_to_2d`], or if `labels` does not have one entry per row, or
/// `max_points == 0`.
pub fn reduce_to_2d_subset(
    codes: &[f32],
    dim: usize,
    labels: &[u8],
    max_points: usize,
    seed: u64,
    reduction: Reduction,
) -> Result<(Reduced2d, Vec<u8>), ReductionError> {
    assert!(
        dim > 0 && codes.len().is_multiple_of(dim),
        "codes must be n x dim"
    );
    let n = codes.len() / dim;
    assert_eq!(labels.len(), n, "one label per code");
    assert!(max_points > 0, "max_points must be positive");
    if dim <= 2 || n <= max_points {
        return Ok((reduce_to_2d(codes, dim, seed, reduction)?, labels.to_vec()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = rand::seq::index::sample(&mut rng, n, max_points).into_vec();
    rows.sort_unstable();
    let subset: Vec<f32> = rows
        .iter()
        .flat_map(|&r| codes[r * dim..(r + 1) * dim].iter().copied())
        .collect();
    let mut reduced = reduce_to_2d(&subset, dim, seed, reduction)?;
    let name = reduction.name();
    let what = reduced
        .method
        .strip_prefix(&format!("{name} "))
        .unwrap_or(&reduced.method)
        .to_string();
    reduced.method = format!(
        "{name} on {} of {} test codes {what}",
        thousands(max_points),
        thousands(n)
    );
    Ok((reduced, rows.iter().map(|&r| labels[r]).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// `n` codes of dimension `dim` around `k` well separated centres.
    fn clustered(n: usize, dim: usize, k: usize, seed: u64) -> (Vec<f32>, Vec<u8>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres: Vec<Vec<f32>> = (0..k)
            .map(|_| (0..dim).map(|_| rng.random_range(-10.0..10.0)).collect())
            .collect();
        let (mut codes, mut labels) = (Vec::with_capacity(n * dim), Vec::with_capacity(n));
        for i in 0..n {
            let c = i % k;
            labels.push(c as u8);
            codes.extend(centres[c].iter().map(|&x| x + rng.random_range(-1.0..1.0)));
        }
        (codes, labels)
    }

    #[test]
    fn two_d_is_passed_through() {
        let r = reduce_to_2d(&[1.0, 2.0, 3.0, 4.0], 2, 0, Reduction::Umap).unwrap();
        assert_eq!(r.points, vec![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(r.method, "latent (2-D, no reduction)");
    }

    #[test]
    fn tsne_is_deterministic_and_separates_clusters() {
        let (codes, labels) = clustered(300, 8, 3, 11);
        let a = reduce_to_2d(&codes, 8, 5, Reduction::Tsne).unwrap();
        assert_eq!(a.method, "t-SNE (perplexity 30)");
        assert_eq!(a.points.len(), 300);
        assert!(a.points.iter().flatten().all(|x| x.is_finite()));
        assert_eq!(a, reduce_to_2d(&codes, 8, 5, Reduction::Tsne).unwrap());
        assert_ne!(
            a.points,
            reduce_to_2d(&codes, 8, 6, Reduction::Tsne).unwrap().points
        );
        // Clusters stay apart: every point is nearer its own cluster's mean.
        let mut means = [[0.0f32; 2]; 3];
        for (p, &l) in a.points.iter().zip(&labels) {
            means[l as usize][0] += p[0] / 100.0;
            means[l as usize][1] += p[1] / 100.0;
        }
        let d = |p: &[f32; 2], m: &[f32; 2]| (p[0] - m[0]).powi(2) + (p[1] - m[1]).powi(2);
        for (p, &l) in a.points.iter().zip(&labels) {
            let own = d(p, &means[l as usize]);
            assert!(means.iter().all(|m| own <= d(p, m)));
        }
    }

    #[test]
    fn small_inputs_lower_the_perplexity() {
        let (codes, _) = clustered(40, 5, 2, 1);
        let r = reduce_to_2d(&codes, 5, 0, Reduction::Tsne).unwrap();
        assert_eq!(r.method, "t-SNE (perplexity 13)");
        assert_eq!(r.points.len(), 40);
        assert_eq!(
            reduce_to_2d(&codes[..15], 5, 0, Reduction::Tsne)
                .unwrap()
                .points,
            vec![[0.0; 2]; 3]
        );
    }

    #[test]
    fn subset_is_seeded_labelled_and_described() {
        let (codes, labels) = clustered(400, 6, 4, 3);
        let (r, used) = reduce_to_2d_subset(&codes, 6, &labels, 150, 8, Reduction::Tsne).unwrap();
        assert_eq!(r.points.len(), 150);
        assert_eq!(used.len(), 150);
        assert_eq!(r.method, "t-SNE on 150 of 400 test codes (perplexity 30)");
        assert_eq!(
            (r.clone(), used.clone()),
            reduce_to_2d_subset(&codes, 6, &labels, 150, 8, Reduction::Tsne).unwrap()
        );
        // Labels follow the chosen rows: every class still present.
        assert!((0..4).all(|c| used.contains(&c)));
        let (all, all_labels) =
            reduce_to_2d_subset(&codes, 6, &labels, 1000, 8, Reduction::Tsne).unwrap();
        assert_eq!(all.points.len(), 400);
        assert_eq!(all_labels, labels);
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    /// `f` run on a rayon pool of `threads` threads.
    fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
            .install(f)
    }

    /// Share of points whose nearest other point in the plane has their label.
    fn nearest_neighbour_agreement(points: &[[f32; 2]], labels: &[u8]) -> f64 {
        let d = |a: &[f32; 2], b: &[f32; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
        let hits = (0..points.len())
            .filter(|&i| {
                let nearest = (0..points.len())
                    .filter(|&j| j != i)
                    .min_by(|&a, &b| {
                        d(&points[i], &points[a]).total_cmp(&d(&points[i], &points[b]))
                    })
                    .expect("at least two points");
                labels[nearest] == labels[i]
            })
            .count();
        hits as f64 / points.len() as f64
    }

    fn bits(r: &Reduced2d) -> Vec<u32> {
        r.points
            .as_flattened()
            .iter()
            .map(|x| x.to_bits())
            .collect()
    }

    #[test]
    fn umap_is_bit_identical_across_runs_and_thread_counts_and_separates_clusters() {
        let (codes, labels) = clustered(300, 20, 3, 7);
        let one = on_threads(1, || reduce_to_2d(&codes, 20, 42, Reduction::Umap).unwrap());
        let two = on_threads(2, || reduce_to_2d(&codes, 20, 42, Reduction::Umap).unwrap());
        let again = reduce_to_2d(&codes, 20, 42, Reduction::Umap).unwrap();
        assert_eq!(one.method, "UMAP (15 neighbours, min_dist 0.1)");
        assert_eq!(one.points.len(), 300);
        assert!(one.points.iter().flatten().all(|x| x.is_finite()));
        assert_eq!(bits(&one), bits(&two));
        assert_eq!(bits(&one), bits(&again));
        let other_seed = reduce_to_2d(&codes, 20, 43, Reduction::Umap).unwrap();
        assert_ne!(bits(&one), bits(&other_seed));
        let agreement = nearest_neighbour_agreement(&one.points, &labels);
        assert!(
            agreement > 0.9,
            "nearest-neighbour label agreement {agreement}"
        );
    }

    #[test]
    fn umap_small_inputs_and_bad_codes() {
        let (codes, _) = clustered(10, 4, 2, 1);
        let r = reduce_to_2d(&codes, 4, 0, Reduction::Umap).unwrap();
        // umap-learn truncates n_neighbors to n - 1 when the data set is smaller.
        assert_eq!(r.method, "UMAP (9 neighbours, min_dist 0.1)");
        assert_eq!(r.points.len(), 10);
        let r = reduce_to_2d(&codes[..12], 4, 0, Reduction::Umap).unwrap();
        assert_eq!(
            (r.points, r.method.as_str()),
            (vec![[0.0; 2]; 3], "too few codes (3) for UMAP")
        );
        let mut bad = codes.clone();
        bad[4 * 6 + 1] = f32::NAN;
        for reduction in [Reduction::Umap, Reduction::Tsne] {
            assert_eq!(
                reduce_to_2d(&bad, 4, 0, reduction),
                Err(ReductionError::NonFiniteCode { row: 6 })
            );
        }
        // Two-dimensional codes are drawn as they are, even non-finite ones.
        assert!(reduce_to_2d(&bad, 2, 0, Reduction::Umap).is_ok());
    }

    #[test]
    fn umap_subset_is_described() {
        let (codes, labels) = clustered(400, 6, 4, 3);
        let (r, used) = reduce_to_2d_subset(&codes, 6, &labels, 150, 8, Reduction::Umap).unwrap();
        assert_eq!(
            r.method,
            "UMAP on 150 of 400 test codes (15 neighbours, min_dist 0.1)"
        );
        assert_eq!((r.points.len(), used.len()), (150, 150));
    }

    #[test]
    fn reduction_names_and_serde() {
        assert_eq!(Reduction::default(), Reduction::Umap);
        assert_eq!(serde_json::to_string(&Reduction::Tsne).unwrap(), "\"tsne\"");
        assert_eq!(
            serde_json::from_str::<Reduction>("\"umap\"").unwrap(),
            Reduction::Umap
        );
        assert!(serde_json::from_str::<Reduction>("\"pca\"").is_err());
        assert_eq!(
            (Reduction::Umap.name(), Reduction::Tsne.name()),
            ("UMAP", "t-SNE")
        );
    }

    /// Full-size timing of both methods on one and two threads:
    /// `cargo test --release -p ae-eval --lib -- --ignored --nocapture reduction_timing`.
    #[test]
    #[ignore]
    fn reduction_timing() {
        // Process CPU seconds (user + system) from /proc, to see through a loaded machine.
        let cpu = || -> f64 {
            let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let ticks = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| f.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            (ticks(11) + ticks(12)) / 100.0
        };
        let (codes, labels) = clustered(10_000, 20, 10, 2);
        let runs = [
            (Reduction::Umap, 10_000, 1),
            (Reduction::Umap, 10_000, 2),
            (Reduction::Tsne, 10_000, 2),
            (Reduction::Tsne, SUBSET_POINTS, 2),
        ];
        let mut umap_bits = Vec::new();
        for (reduction, max_points, threads) in runs {
            let (start, cpu0) = (std::time::Instant::now(), cpu());
            let (r, used) = on_threads(threads, || {
                reduce_to_2d_subset(&codes, 20, &labels, max_points, 0, reduction).unwrap()
            });
            let (secs, cpu_secs) = (start.elapsed().as_secs_f64(), cpu() - cpu0);
            let pred = crate::clustering::kmeans(r.points.as_flattened(), 2, 10, 0).unwrap();
            let acc = crate::clustering::clustering_accuracy(&pred, &used);
            eprintln!(
                "{} on {threads} thread(s): {secs:.1} s wall, {cpu_secs:.1} s CPU, k-means accuracy on the embedding {acc:.3}",
                r.method
            );
            if reduction == Reduction::Umap {
                umap_bits.push(bits(&r));
            }
        }
        assert_eq!(
            umap_bits[0], umap_bits[1],
            "UMAP differs between 1 and 2 threads"
        );
    }
}
