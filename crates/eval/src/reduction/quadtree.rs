//! Barnes-Hut quadtree over the 2-D embedding, for t-SNE's repulsive forces.

/// Cells deeper than this hold all their points in one leaf (only reached
/// by (nearly) coincident points).
const MAX_DEPTH: usize = 48;
/// Marks an absent child.
const NONE: u32 = u32::MAX;

#[derive(Clone)]
struct Cell {
    centre: [f64; 2],
    half: f64,
    /// Sum of the positions of the points inside (centre of mass * count).
    sum: [f64; 2],
    count: usize,
    children: [u32; 4],
    /// Whether `children` is in use; a leaf holds its points directly.
    split: bool,
    /// The point of a leaf holding exactly one point.
    point: usize,
}

impl Cell {
    fn new(centre: [f64; 2], half: f64) -> Self {
        Self {
            centre,
            half,
            sum: [0.0; 2],
            count: 0,
            children: [NONE; 4],
            split: false,
            point: usize::MAX,
        }
    }

    fn quadrant(&self, p: [f64; 2]) -> usize {
        usize::from(p[0] > self.centre[0]) + 2 * usize::from(p[1] > self.centre[1])
    }

    fn contains(&self, p: [f64; 2]) -> bool {
        (p[0] - self.centre[0]).abs() <= self.half && (p[1] - self.centre[1]).abs() <= self.half
    }
}

/// A quadtree over a fixed set of points.
pub(crate) struct QuadTree<'a> {
    points: &'a [[f64; 2]],
    cells: Vec<Cell>,
    /// The leaf cell holding each point.
    leaf_of: Vec<u32>,
}

impl<'a> QuadTree<'a> {
    /// Builds the tree over `points` (inserted in order, so deterministic).
    pub fn new(points: &'a [[f64; 2]]) -> Self {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in points {
            for d in 0..2 {
                lo[d] = lo[d].min(p[d]);
                hi[d] = hi[d].max(p[d]);
            }
        }
        let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
        let half = ((hi[0] - lo[0]).max(hi[1] - lo[1]) / 2.0).max(1e-12) * (1.0 + 1e-6);
        let mut tree = Self {
            points,
            cells: vec![Cell::new(centre, half)],
            leaf_of: vec![0; points.len()],
        };
        for i in 0..points.len() {
            tree.insert(i);
        }
        tree
    }

    fn child(&mut self, cell: usize, q: usize) -> usize {
        if self.cells[cell].children[q] == NONE {
            let parent = &self.cells[cell];
            let half = parent.half / 2.0;
            let dx = if q & 1 == 1 { half } else { -half };
            let dy = if q & 2 == 2 { half } else { -half };
            let centre = [parent.centre[0] + dx, parent.centre[1] + dy];
            self.cells.push(Cell::new(centre, half));
            self.cells[cell].children[q] = (self.cells.len() - 1) as u32;
        }
        self.cells[cell].children[q] as usize
    }

    fn insert(&mut self, i: usize) {
        let p = self.points[i];
        let (mut cell, mut depth) = (0usize, 0usize);
        loop {
            let c = &mut self.cells[cell];
            c.count += 1;
            c.sum[0] += p[0];
            c.sum[1] += p[1];
            if !c.split {
                if c.count == 1 {
                    c.point = i;
                    self.leaf_of[i] = cell as u32;
                    return;
                }
                // A leaf with several points (coincident or too deep) keeps them all.
                if c.point == usize::MAX || depth >= MAX_DEPTH || self.points[c.point] == p {
                    c.point = usize::MAX;
                    self.leaf_of[i] = cell as u32;
                    return;
                }
                // Push the resident point one level down.
                let resident = c.point;
                c.point = usize::MAX;
                c.split = true;
                let r = self.points[resident];
                let q = self.cells[cell].quadrant(r);
                let child = self.child(cell, q);
                let rc = &mut self.cells[child];
                rc.count = 1;
                rc.sum = r;
                rc.point = resident;
                self.leaf_of[resident] = child as u32;
            }
            let q = self.cells[cell].quadrant(p);
            cell = self.child(cell, q);
            depth += 1;
        }
    }

    /// Repulsive force on point `i` (unnormalised: the sum over other points
    /// `j` of `q_ij^2 (y_i - y_j)` with `q_ij = 1 / (1 + |y_i - y_j|^2)`) and
    /// its share of the normalisation `Z = sum_j q_ij`, summarising cells
    /// whose width is below `theta` times their distance.
    pub fn repulsion(&self, i: usize, theta: f64, stack: &mut Vec<u32>) -> ([f64; 2], f64) {
        let y = self.points[i];
        let own_leaf = self.leaf_of[i] as usize;
        let (mut force, mut z) = ([0.0f64; 2], 0.0f64);
        stack.clear();
        stack.push(0);
        while let Some(cell) = stack.pop() {
            let c = &self.cells[cell as usize];
            let (mut count, mut sum) = (c.count, c.sum);
            if c.split {
                let com = [sum[0] / count as f64, sum[1] / count as f64];
                let d2 = (y[0] - com[0]).powi(2) + (y[1] - com[1]).powi(2);
                let width = 2.0 * c.half;
                if c.contains(y) || width * width >= theta * theta * d2 {
                    stack.extend(c.children.iter().filter(|&&ch| ch != NONE));
                    continue;
                }
            } else if cell as usize == own_leaf {
                count -= 1;
                sum = [sum[0] - y[0], sum[1] - y[1]];
            }
            if count == 0 {
                continue;
            }
            let n = count as f64;
            let (dx, dy) = (y[0] - sum[0] / n, y[1] - sum[1] / n);
            let q = 1.0 / (1.0 + dx * dx + dy * dy);
            z += n * q;
            force[0] += n * q * q * dx;
            force[1] += n * q * q * dy;
        }
        (force, z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(points: &[[f64; 2]], i: usize) -> ([f64; 2], f64) {
        let (mut f, mut z) = ([0.0; 2], 0.0);
        for (j, p) in points.iter().enumerate() {
            if j != i {
                let (dx, dy) = (points[i][0] - p[0], points[i][1] - p[1]);
                let q = 1.0 / (1.0 + dx * dx + dy * dy);
                z += q;
                f[0] += q * q * dx;
                f[1] += q * q * dy;
            }
        }
        (f, z)
    }

    #[test]
    fn theta_zero_is_exact_and_small_theta_is_close() {
        let mut points: Vec<[f64; 2]> = (0..200)
            .map(|i| {
                let t = f64::from(i);
                [(t * 0.37).sin() * 10.0 + t * 0.01, (t * 1.13).cos() * 7.0]
            })
            .collect();
        points.push(points[3]); // a duplicate
        let tree = QuadTree::new(&points);
        let mut stack = Vec::new();
        for i in [0, 3, 77, 200] {
            let (f, z) = tree.repulsion(i, 0.0, &mut stack);
            let (ef, ez) = exact(&points, i);
            assert!((z - ez).abs() < 1e-9 * ez);
            assert!((f[0] - ef[0]).abs() < 1e-9 && (f[1] - ef[1]).abs() < 1e-9);
            let (_, z) = tree.repulsion(i, 0.5, &mut stack);
            assert!((z - ez).abs() < 0.05 * ez, "{z} vs {ez}");
        }
    }
}
