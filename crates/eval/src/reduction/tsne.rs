//! Deterministic Barnes-Hut t-SNE (van der Maaten 2014), following
//! scikit-learn's `TSNE(method="barnes_hut", init="random")` optimiser.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::affinity::{joint_probabilities, SparseP};
use super::quadtree::QuadTree;

/// Settings of one t-SNE run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TsneConfig {
    pub perplexity: f64,
    /// Barnes-Hut accuracy/speed trade-off (0 = exact repulsion).
    pub theta: f64,
    /// Total number of gradient steps, early exaggeration included.
    pub max_iter: usize,
}

const EARLY_EXAGGERATION: f64 = 12.0;
const EXAGGERATION_ITERS: usize = 250;
const MIN_GAIN: f64 = 0.01;

/// Points per block of the repulsion pass. Partial normalisations are summed
/// block by block in a fixed order, so the result does not depend on the
/// number of threads.
const BLOCK: usize = 256;

/// Blocks of gradient rows, each with its block number.
type Blocks<'a> = Vec<(usize, &'a mut [[f64; 2]])>;

/// Repulsive forces of every point into `grad` and the normalisation `Z`,
/// spread over `threads` threads (same result for any number).
fn repulsion(y: &[[f64; 2]], theta: f64, grad: &mut [[f64; 2]], threads: usize) -> f64 {
    let tree = QuadTree::new(y);
    let blocks: Blocks<'_> = grad.chunks_mut(BLOCK).enumerate().collect();
    let threads = threads.min(blocks.len());
    let per_thread = blocks.len().div_ceil(threads.max(1));
    let mut z_blocks = vec![0.0f64; blocks.len()];
    let run = |work: Blocks<'_>| -> Vec<(usize, f64)> {
        let mut stack = Vec::new();
        work.into_iter()
            .map(|(b, out)| {
                let mut z = 0.0;
                for (k, g) in out.iter_mut().enumerate() {
                    let (rep, zi) = tree.repulsion(b * BLOCK + k, theta, &mut stack);
                    z += zi;
                    *g = rep;
                }
                (b, z)
            })
            .collect()
    };
    let mut groups: Vec<Blocks<'_>> = Vec::new();
    let mut blocks = blocks.into_iter().peekable();
    while blocks.peek().is_some() {
        groups.push(blocks.by_ref().take(per_thread).collect());
    }
    let results: Vec<Vec<(usize, f64)>> = std::thread::scope(|s| {
        let mut groups = groups.into_iter();
        let first = groups.next();
        let handles: Vec<_> = groups.map(|g| s.spawn(move || run(g))).collect();
        let mut out = vec![first.map_or_else(Vec::new, run)];
        out.extend(
            handles
                .into_iter()
                .map(|h| h.join().expect("t-SNE worker panicked")),
        );
        out
    });
    for (b, z) in results.into_iter().flatten() {
        z_blocks[b] = z;
    }
    z_blocks.iter().sum()
}

/// Gradient of the KL divergence with respect to every embedded point.
fn gradient(p: &SparseP, y: &[[f64; 2]], exaggeration: f64, theta: f64, grad: &mut [[f64; 2]]) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let z = repulsion(y, theta, grad, threads);
    for (i, g) in grad.iter_mut().enumerate() {
        let mut attr = [0.0f64; 2];
        for e in p.starts[i]..p.starts[i + 1] {
            let yj = y[p.cols[e]];
            let (dx, dy) = (y[i][0] - yj[0], y[i][1] - yj[1]);
            let w = exaggeration * p.vals[e] / (1.0 + dx * dx + dy * dy);
            attr[0] += w * dx;
            attr[1] += w * dy;
        }
        for d in 0..2 {
            g[d] = 4.0 * (attr[d] - g[d] / z);
        }
    }
}

/// Embeds the `n x dim` row-major `data` in 2-D; deterministic for `seed`.
/// Needs `n >= 2`.
pub(crate) fn tsne(data: &[f64], dim: usize, cfg: TsneConfig, seed: u64) -> Vec<[f64; 2]> {
    let n = data.len() / dim;
    let p = joint_probabilities(data, dim, cfg.perplexity);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, 1e-4).expect("valid normal");
    let mut y: Vec<[f64; 2]> = (0..n)
        .map(|_| [normal.sample(&mut rng), normal.sample(&mut rng)])
        .collect();
    let learning_rate = (n as f64 / EARLY_EXAGGERATION / 4.0).max(50.0);
    let mut update = vec![[0.0f64; 2]; n];
    let mut gains = vec![[1.0f64; 2]; n];
    let mut grad = vec![[0.0f64; 2]; n];
    for iter in 0..cfg.max_iter {
        let early = iter < EXAGGERATION_ITERS;
        let exaggeration = if early { EARLY_EXAGGERATION } else { 1.0 };
        let momentum = if early { 0.5 } else { 0.8 };
        gradient(&p, &y, exaggeration, cfg.theta, &mut grad);
        for i in 0..n {
            for d in 0..2 {
                let g = grad[i][d];
                let gain = &mut gains[i][d];
                *gain = if update[i][d] * g < 0.0 {
                    *gain + 0.2
                } else {
                    *gain * 0.8
                };
                *gain = gain.max(MIN_GAIN);
                update[i][d] = momentum * update[i][d] - learning_rate * *gain * g;
                y[i][d] += update[i][d];
            }
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repulsion_does_not_depend_on_the_thread_count() {
        let y: Vec<[f64; 2]> = (0..1000)
            .map(|i| {
                let t = f64::from(i);
                [(t * 0.13).sin() * t.sqrt(), (t * 0.71).cos() * 5.0]
            })
            .collect();
        let (mut a, mut b) = (vec![[0.0; 2]; 1000], vec![[0.0; 2]; 1000]);
        let za = repulsion(&y, 0.5, &mut a, 1);
        let zb = repulsion(&y, 0.5, &mut b, 3);
        assert_eq!(za.to_bits(), zb.to_bits());
        assert_eq!(a, b);
    }
}
