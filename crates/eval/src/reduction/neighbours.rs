//! Exact k nearest neighbours by brute force, shared by t-SNE and UMAP.

/// The `k` nearest neighbours of every row of the `n x dim` `data` (self
/// excluded) with their squared euclidean distances, ties broken by index.
pub(crate) fn knn(data: &[f64], dim: usize, k: usize) -> Vec<Vec<(f64, usize)>> {
    let n = data.len() / dim;
    let row = |i: usize| &data[i * dim..(i + 1) * dim];
    let mut dist = Vec::with_capacity(n);
    (0..n)
        .map(|i| {
            dist.clear();
            let a = row(i);
            dist.extend((0..n).filter(|&j| j != i).map(|j| {
                let d: f64 = a.iter().zip(row(j)).map(|(x, y)| (x - y) * (x - y)).sum();
                (d, j)
            }));
            let by = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
            if k < dist.len() {
                dist.select_nth_unstable_by(k, by);
                dist.truncate(k);
            }
            dist.sort_unstable_by(by);
            dist.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_neighbours_by_hand() {
        // Points on a line at 0, 1, 3, 6 (dim 1). Squared distances from 1:
        // to 0 -> 1, to 3 -> 4, to 6 -> 25; from 3: to 1 -> 4, to 0 and to 6 -> 9 (a tie,
        // the lower index wins); from 6: to 3 -> 9, to 1 -> 25.
        let nn = knn(&[0.0, 1.0, 3.0, 6.0], 1, 2);
        assert_eq!(nn[0], vec![(1.0, 1), (9.0, 2)]);
        assert_eq!(nn[1], vec![(1.0, 0), (4.0, 2)]);
        assert_eq!(nn[2], vec![(4.0, 1), (9.0, 0)]);
        assert_eq!(nn[3], vec![(9.0, 2), (25.0, 1)]);
        // From (0, 2): (0, 0) and (0, 4) are both 4 away; the lower index wins
        // the single slot, and the point itself never appears.
        let nn = knn(&[0.0, 4.0, 0.0, 2.0, 0.0, 0.0], 2, 1);
        assert_eq!(nn[1], vec![(4.0, 0)]);
    }
}
