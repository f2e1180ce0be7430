//! Activation layouts. Inside the engine a batch is stored one column per sample
//! (`[width, n]`, row-major), which lets the matrix products run in the shapes the `gemm`
//! kernels are fastest at and makes BatchNorm's per-feature statistics contiguous. The public
//! inference API takes and returns one row per sample (`[n, width]`); these convert.

/// Source rows read together by the transpose: each destination write is this many
/// contiguous values, and this many source streams stay within a cache set's ways (the
/// activations' rows are often 4 KiB apart, which square tiles thrash on).
const ROW_BLOCK: usize = 8;

/// Transposes `src` (`[rows, cols]`, row-major) into `dst` (`[cols, rows]`).
pub fn transpose_into(src: &[f32], rows: usize, cols: usize, dst: &mut Vec<f32>) {
    assert!(src.len() >= rows * cols, "transpose: source too small");
    dst.clear();
    dst.resize(rows * cols, 0.0);
    let full = rows / ROW_BLOCK * ROW_BLOCK;
    for r0 in (0..full).step_by(ROW_BLOCK) {
        let block = &src[r0 * cols..(r0 + ROW_BLOCK) * cols];
        for (c, out) in dst.chunks_exact_mut(rows).enumerate() {
            for (k, o) in out[r0..r0 + ROW_BLOCK].iter_mut().enumerate() {
                *o = block[k * cols + c];
            }
        }
    }
    for r in full..rows {
        for (c, out) in dst.chunks_exact_mut(rows).enumerate() {
            out[r] = src[r * cols + c];
        }
    }
}

/// `x` (`[rows, width]`, one row per sample) in chunks of at most `rows_per_chunk` rows, each
/// converted to the column layout: `(columns, n)` with `columns` `[width, n]`. The inference
/// paths run over these so memory stays flat whatever the data size.
pub fn column_chunks(
    x: &[f32],
    width: usize,
    rows_per_chunk: usize,
) -> impl Iterator<Item = (Vec<f32>, usize)> + '_ {
    x.chunks(rows_per_chunk * width).map(move |chunk| {
        let n = chunk.len() / width;
        (to_columns(chunk, n, width), n)
    })
}

/// One column per sample from one row per sample: `[n, width]` to `[width, n]`.
pub fn to_columns(rows: &[f32], n: usize, width: usize) -> Vec<f32> {
    let mut out = Vec::new();
    transpose_into(rows, n, width, &mut out);
    out
}

/// One row per sample from one column per sample: `[width, n]` to `[n, width]`.
pub fn to_rows(columns: &[f32], width: usize, n: usize) -> Vec<f32> {
    let mut out = Vec::new();
    transpose_into(columns, width, n, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_hand_example() {
        // [[1, 2, 3], [4, 5, 6]] -> [[1, 4], [2, 5], [3, 6]]
        assert_eq!(
            to_columns(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3),
            vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
        let (n, w) = (70, 45); // not multiples of the tile
        let x: Vec<f32> = (0..n * w).map(|i| i as f32).collect();
        let cols = to_columns(&x, n, w);
        assert_eq!(cols[3 * n + 5], x[5 * w + 3]);
        assert_eq!(to_rows(&cols, w, n), x);
        let chunks: Vec<(Vec<f32>, usize)> = column_chunks(&x, w, 32).collect();
        assert_eq!(chunks.iter().map(|c| c.1).collect::<Vec<_>>(), [32, 32, 6]);
        assert_eq!(chunks[2].0, to_columns(&x[64 * w..], 6, w));
    }
}
