//! Labelled figures of grayscale images, large enough to judge on a screen: the sample
//! grid, the reconstruction grid, the interpolation strip and the interpolation GIF's
//! frames. Each is a pure function from pixel values to a gray image: the tiles of
//! [`image_grid`] upscaled by nearest neighbour ([`FIGURE_SCALE`] times, padding
//! included), on a white page with a title band above and labels beside rows or under
//! frames, in the embedded DejaVu Sans font.

use image::{GrayImage, Luma};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::{ensure_font, FAMILY};
use super::grid::{image_grid, GRID_PAD};

/// Every source pixel of a figure's tiles becomes a `FIGURE_SCALE x FIGURE_SCALE` block
/// (a 32-pixel image is drawn 96 pixels wide).
pub const FIGURE_SCALE: u32 = 3;
/// White border around a figure, pixels.
const FIGURE_MARGIN_PX: u32 = 8;
/// Height of the title band above the tiles, pixels.
const TITLE_BAND_PX: u32 = 30;
/// Height of one line of frame labels under the tiles, pixels.
const LABEL_LINE_PX: u32 = 18;
/// Gap between the tiles and their labels (row labels on the left, frame labels below),
/// pixels.
const LABEL_GAP_PX: u32 = 6;

const TITLE_FONT_PX: u32 = 18;
const LABEL_FONT_PX: u32 = 14;
const PAGE: u8 = 255;

/// Row labels of [`reconstruction_grid`], top to bottom.
pub const RECONSTRUCTION_ROWS: [&str; 2] = ["input", "reconstruction"];

/// `img` upscaled `scale` times by nearest neighbour: source pixel `(x, y)` fills the
/// block `[scale*x, scale*(x+1)) x [scale*y, scale*(y+1))`.
///
/// # Panics
/// If `scale == 0`.
pub fn upscale(img: &GrayImage, scale: u32) -> GrayImage {
    assert!(scale > 0, "scale must be positive");
    GrayImage::from_fn(img.width() * scale, img.height() * scale, |x, y| {
        *img.get_pixel(x / scale, y / scale)
    })
}

/// Rows and columns of the most nearly square grid holding `n` tiles: `ceil(sqrt(n))`
/// columns and as many rows as needed (100 -> 10 x 10, 16 -> 4 x 4, 10 -> 3 x 4); one
/// tile for `n == 0`.
pub fn square_grid_shape(n: usize) -> (usize, usize) {
    let n = n.max(1);
    let cols = (1..=n).find(|c| c * c >= n).unwrap_or(n);
    (n.div_ceil(cols), cols)
}

/// The frames an interpolation strip of `n_shown` frames picks from `m` frames: evenly
/// spaced (rounded to the nearest), always the first and, for `n_shown > 1`, the last.
///
/// # Panics
/// If `m == 0` or `n_shown == 0`.
pub fn strip_frame_indices(m: usize, n_shown: usize) -> Vec<usize> {
    assert!(m > 0 && n_shown > 0, "need at least one frame to show");
    (0..n_shown)
        .map(|i| {
            if n_shown == 1 {
                0
            } else {
                (i * (m - 1) + (n_shown - 1) / 2) / (n_shown - 1)
            }
        })
        .collect()
}

/// The label lines of frame `k` of `m`: its blend fraction `t = k / (m - 1)` in [0, 1]
/// (0 for a single frame) to two decimals, and its index, e.g. `["t = 0.10", "frame 13"]`.
fn frame_label(k: usize, m: usize) -> Vec<String> {
    let t = if m > 1 {
        k as f64 / (m - 1) as f64
    } else {
        0.0
    };
    vec![format!("t = {t:.2}"), format!("frame {k}")]
}

/// The `n` images of `images` (row-major, each `side x side` in [0, 1]) on the most nearly
/// square grid ([`square_grid_shape`]: 100 images make 10 x 10), upscaled
/// [`FIGURE_SCALE`] times, under a title band reading `title`. The image is
/// `cols*side*3 + (cols-1)*2*3` plus two margins wide (or the title's width plus two
/// margins, if wider) and `rows*side*3 + (rows-1)*2*3` plus two margins and the title band
/// high.
///
/// # Panics
/// If `side == 0` or `images.len()` is not a multiple of `side * side`.
pub fn sample_grid(title: &str, images: &[f32], side: usize) -> GrayImage {
    assert!(
        side > 0 && images.len().is_multiple_of(side * side),
        "images must be n x side x side"
    );
    let (rows, cols) = square_grid_shape(images.len() / (side * side));
    let grid = image_grid(images, side, rows, cols, GRID_PAD);
    compose(title, &grid, side, &[], &[])
}

/// Two rows of `n` tiles, the first `n` `originals` labelled "input" on the left and their
/// `reconstructions` labelled "reconstruction" directly beneath, upscaled [`FIGURE_SCALE`]
/// times under a title band reading `title`.
///
/// # Panics
/// If `side == 0` or either slice holds fewer than `n` images of `side x side`.
pub fn reconstruction_grid(
    title: &str,
    originals: &[f32],
    reconstructions: &[f32],
    side: usize,
    n: usize,
) -> GrayImage {
    let len = n * side * side;
    assert!(
        side > 0 && originals.len() >= len && reconstructions.len() >= len,
        "fewer than n images"
    );
    let both = [&originals[..len], &reconstructions[..len]].concat();
    let grid = image_grid(&both, side, 2, n, GRID_PAD);
    let rows = RECONSTRUCTION_ROWS.map(String::from);
    compose(title, &grid, side, &rows, &[])
}

/// One row of `n_shown` frames picked from `frames` (row-major, each `side x side`) by
/// [`strip_frame_indices`], upscaled [`FIGURE_SCALE`] times under a title band reading
/// `title`, each frame labelled underneath with its blend fraction `t` in [0, 1] and its
/// frame index (two lines).
///
/// # Panics
/// If `side == 0`, there are no frames, `n_shown == 0`, or the length is not a multiple of
/// `side * side`.
pub fn interpolation_strip(title: &str, frames: &[f32], side: usize, n_shown: usize) -> GrayImage {
    let area = side * side;
    assert!(
        side > 0 && frames.len().is_multiple_of(area),
        "frames must be n x side x side"
    );
    let m = frames.len() / area;
    let picked = strip_frame_indices(m, n_shown);
    let tiles: Vec<f32> = picked
        .iter()
        .flat_map(|&k| frames[k * area..(k + 1) * area].iter().copied())
        .collect();
    let grid = image_grid(&tiles, side, 1, n_shown, GRID_PAD);
    let labels: Vec<Vec<String>> = picked.iter().map(|&k| frame_label(k, m)).collect();
    compose(title, &grid, side, &[], &labels)
}

/// One image per frame of `frames` (row-major, each `side x side`, in order), for an
/// interpolation GIF: the frame upscaled [`FIGURE_SCALE`] times under a title band reading
/// `title`, labelled underneath with its blend fraction `t` and its index. All frames have
/// the same size.
///
/// # Panics
/// If `side == 0` or the length is not a multiple of `side * side`.
pub fn interpolation_gif_frames(title: &str, frames: &[f32], side: usize) -> Vec<GrayImage> {
    let area = side * side;
    assert!(
        side > 0 && frames.len().is_multiple_of(area),
        "frames must be n x side x side"
    );
    let m = frames.len() / area;
    frames
        .chunks_exact(area)
        .enumerate()
        .map(|(k, frame)| {
            let grid = image_grid(frame, side, 1, 1, 0);
            compose(title, &grid, side, &[], &[frame_label(k, m)])
        })
        .collect()
}

/// Width of `text` in pixels at `size`.
fn text_width(text: &str, size: u32) -> u32 {
    ensure_font();
    (FAMILY, size)
        .into_font()
        .box_size(text)
        .map_or(size * text.len() as u32, |(w, _)| w)
}

/// Pixel positions of a figure's parts.
#[derive(Debug, PartialEq)]
struct Layout {
    width: u32,
    height: u32,
    /// Top-left corner of the upscaled tiles.
    grid_x: u32,
    grid_y: u32,
    /// Width of one upscaled tile, and the distance between neighbouring tiles' left edges.
    tile: u32,
    step: u32,
}

impl Layout {
    /// The layout of an unscaled `grid` of `side`-pixel tiles ([`GRID_PAD`] apart) with
    /// `row_labels` (one per row, or none) and `column_labels` (lines under each column,
    /// or none).
    fn new(
        title: &str,
        grid: &GrayImage,
        side: usize,
        row_labels: &[String],
        column_labels: &[Vec<String>],
    ) -> Self {
        let tile = side as u32 * FIGURE_SCALE;
        let (grid_w, grid_h) = (grid.width() * FIGURE_SCALE, grid.height() * FIGURE_SCALE);
        let row_w = row_labels
            .iter()
            .map(|l| text_width(l, LABEL_FONT_PX) + LABEL_GAP_PX)
            .max()
            .unwrap_or(0);
        // A frame label wider than its tile reaches past the outer tiles' edges.
        let overhang = column_labels
            .iter()
            .flatten()
            .map(|l| {
                text_width(l, LABEL_FONT_PX)
                    .saturating_sub(tile)
                    .div_ceil(2)
            })
            .max()
            .unwrap_or(0);
        let lines = column_labels.iter().map(Vec::len).max().unwrap_or(0) as u32;
        let labels_h = if lines > 0 {
            LABEL_GAP_PX + lines * LABEL_LINE_PX
        } else {
            0
        };
        let body_w = row_w + grid_w + 2 * overhang;
        let inner_w = body_w.max(text_width(title, TITLE_FONT_PX));
        Self {
            width: inner_w + 2 * FIGURE_MARGIN_PX,
            height: 2 * FIGURE_MARGIN_PX + TITLE_BAND_PX + grid_h + labels_h,
            grid_x: FIGURE_MARGIN_PX + (inner_w - body_w) / 2 + row_w + overhang,
            grid_y: FIGURE_MARGIN_PX + TITLE_BAND_PX,
            tile,
            step: tile + GRID_PAD as u32 * FIGURE_SCALE,
        }
    }
}

/// `grid` (unscaled tiles of `side` pixels, [`GRID_PAD`] apart) upscaled [`FIGURE_SCALE`]
/// times on a white page with `title` centred in the band above, `row_labels` right-aligned
/// left of each row, and `column_labels` centred under each column, one line each.
fn compose(
    title: &str,
    grid: &GrayImage,
    side: usize,
    row_labels: &[String],
    column_labels: &[Vec<String>],
) -> GrayImage {
    let layout = Layout::new(title, grid, side, row_labels, column_labels);
    let (w, h) = (layout.width, layout.height);
    let mut rgb = vec![PAGE; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        let style = |size: u32, h_pos: HPos| {
            TextStyle::from((FAMILY, size).into_font())
                .color(&BLACK)
                .pos(Pos::new(h_pos, VPos::Center))
        };
        let mut texts = vec![(
            title.to_string(),
            (
                (w / 2) as i32,
                (FIGURE_MARGIN_PX + TITLE_BAND_PX / 2) as i32,
            ),
            style(TITLE_FONT_PX, HPos::Center),
        )];
        for (r, label) in row_labels.iter().enumerate() {
            let x = layout.grid_x - LABEL_GAP_PX;
            let y = layout.grid_y + r as u32 * layout.step + layout.tile / 2;
            texts.push((
                label.clone(),
                (x as i32, y as i32),
                style(LABEL_FONT_PX, HPos::Right),
            ));
        }
        let labels_y = layout.grid_y + grid.height() * FIGURE_SCALE + LABEL_GAP_PX;
        for (c, lines) in column_labels.iter().enumerate() {
            let x = layout.grid_x + c as u32 * layout.step + layout.tile / 2;
            for (l, line) in lines.iter().enumerate() {
                let y = labels_y + l as u32 * LABEL_LINE_PX + LABEL_LINE_PX / 2;
                texts.push((
                    line.clone(),
                    (x as i32, y as i32),
                    style(LABEL_FONT_PX, HPos::Center),
                ));
            }
        }
        for (text, at, style) in texts {
            root.draw(&Text::new(text, at, style))
                .expect("drawing text into a memory bitmap cannot fail");
        }
        root.present()
            .expect("presenting a memory bitmap cannot fail");
    }
    // Black text on white stays gray: every channel holds the same level.
    let mut img = GrayImage::from_fn(w, h, |x, y| Luma([rgb[(y * w + x) as usize * 3]]));
    image::imageops::replace(
        &mut img,
        &upscale(grid, FIGURE_SCALE),
        i64::from(layout.grid_x),
        i64::from(layout.grid_y),
    );
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` images of `side x side`, image `k` uniformly `k / (n - 1)`.
    fn ramp(n: usize, side: usize) -> Vec<f32> {
        (0..n)
            .flat_map(|k| vec![k as f32 / (n - 1).max(1) as f32; side * side])
            .collect()
    }

    fn level(v: f32) -> u8 {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }

    /// Pixels darker than mid gray in the rectangle `[x0, x1) x [y0, y1)` (text is black
    /// on the white page).
    fn ink(img: &GrayImage, (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> usize {
        (x0..x1)
            .flat_map(|x| (y0..y1).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y)[0] < 128)
            .count()
    }

    /// Pixels of the title band (over the full width) that are not the page's white.
    fn title_ink(img: &GrayImage) -> usize {
        let band = (FIGURE_MARGIN_PX, FIGURE_MARGIN_PX + TITLE_BAND_PX);
        ink(img, (0, img.width()), band)
    }

    #[test]
    fn upscale_copies_each_pixel_into_a_block() {
        let src = GrayImage::from_raw(2, 2, vec![10, 20, 30, 40]).unwrap();
        let big = upscale(&src, 3);
        assert_eq!(big.dimensions(), (6, 6));
        for (x, y, v) in [
            (0, 0, 10),
            (2, 2, 10),
            (3, 0, 20),
            (5, 2, 20),
            (0, 3, 30),
            (2, 5, 30),
            (3, 3, 40),
            (5, 5, 40),
        ] {
            assert_eq!(big.get_pixel(x, y)[0], v, "pixel ({x}, {y})");
        }
        assert_eq!(upscale(&src, 1), src);
    }

    #[test]
    fn grid_shapes_are_nearly_square() {
        assert_eq!(square_grid_shape(100), (10, 10));
        assert_eq!(square_grid_shape(16), (4, 4));
        assert_eq!(square_grid_shape(10), (3, 4));
        assert_eq!(square_grid_shape(1), (1, 1));
        assert_eq!(square_grid_shape(0), (1, 1));
        assert_eq!(strip_frame_indices(130, 11)[..3], [0, 13, 26]);
        assert_eq!(strip_frame_indices(130, 11)[10], 129);
        assert_eq!(strip_frame_indices(5, 1), [0]);
        assert_eq!(frame_label(13, 130), ["t = 0.10", "frame 13"]);
        assert_eq!(frame_label(0, 1), ["t = 0.00", "frame 0"]);
    }

    #[test]
    fn sample_grid_is_ten_by_ten_tiles_at_three_times() {
        let side = 32;
        let img = sample_grid("vae", &ramp(100, side), side);
        // 10 tiles of 96 px and 9 paddings of 6 px, plus margins and the title band.
        let grid = 10 * 96 + 9 * 6;
        assert_eq!(grid, 1014);
        assert_eq!(img.dimensions(), (8 + grid + 8, 8 + 30 + grid + 8));
        let (x0, y0) = (FIGURE_MARGIN_PX, FIGURE_MARGIN_PX + TITLE_BAND_PX);
        // Tile (row 3, column 7) is image 37; its first and last pixel, the padding after it.
        let (tx, ty) = (x0 + 7 * 102, y0 + 3 * 102);
        assert_eq!(img.get_pixel(tx, ty)[0], level(37.0 / 99.0));
        assert_eq!(img.get_pixel(tx + 95, ty + 95)[0], level(37.0 / 99.0));
        assert_eq!(img.get_pixel(tx + 96, ty)[0], 128);
        assert_eq!(img.get_pixel(tx + 101, ty + 101)[0], 128);
        assert_eq!(img.get_pixel(tx + 102, ty)[0], level(38.0 / 99.0));
        // The last tile, at the bottom-right corner of the grid.
        assert_eq!(img.get_pixel(x0 + grid - 1, y0 + grid - 1)[0], 255);
        assert!(title_ink(&img) > 50, "the title is drawn");
        // Margins stay white.
        assert_eq!(img.get_pixel(0, 0)[0], PAGE);
        assert_eq!(img.get_pixel(img.width() - 1, img.height() - 1)[0], PAGE);
        // 16 samples make 4 x 4; a title wider than the grid widens the page.
        let small = sample_grid("vae", &ramp(16, side), side);
        assert_eq!(
            small.dimensions(),
            (16 + 4 * 96 + 3 * 6, 46 + 4 * 96 + 3 * 6)
        );
        let long = "a title much wider than the four tiles of a tiny grid";
        let wide = sample_grid(long, &ramp(4, 8), 8);
        assert_eq!(wide.width(), text_width(long, TITLE_FONT_PX) + 16);
        assert!(wide.width() > 16 + 2 * 24 + 6);
    }

    #[test]
    fn reconstruction_rows_are_labelled() {
        let side = 32;
        let originals = vec![1.0; 16 * side * side];
        let reconstructions = vec![0.25; 16 * side * side];
        let img = reconstruction_grid("vanilla", &originals, &reconstructions, side, 16);
        let label_w = text_width("reconstruction", LABEL_FONT_PX) + LABEL_GAP_PX;
        let grid_w = 16 * 96 + 15 * 6;
        assert_eq!(img.dimensions(), (16 + label_w + grid_w, 46 + 2 * 96 + 6));
        let (x0, y0) = (FIGURE_MARGIN_PX + label_w, FIGURE_MARGIN_PX + TITLE_BAND_PX);
        assert_eq!(img.get_pixel(x0, y0)[0], 255);
        assert_eq!(img.get_pixel(x0 + 15 * 102 + 95, y0 + 95)[0], 255);
        assert_eq!(img.get_pixel(x0, y0 + 96)[0], 128);
        assert_eq!(img.get_pixel(x0, y0 + 102)[0], level(0.25));
        assert_eq!(img.get_pixel(x0 + grid_w - 1, y0 + 197)[0], level(0.25));
        assert!(title_ink(&img) > 50, "the title is drawn");
        // Each row's label sits left of it, in the row's vertical band.
        for row in 0..2 {
            let y = y0 + row * 102;
            let n = ink(&img, (FIGURE_MARGIN_PX, x0), (y, y + 96));
            assert!(n > 20, "row {row} label has {n} dark pixels");
        }
    }

    #[test]
    fn interpolation_strip_labels_every_frame() {
        let side = 32;
        let img = interpolation_strip("vae", &ramp(11, side), side, 6);
        let grid_w = 6 * 96 + 5 * 6;
        let height = 8 + 30 + 96 + LABEL_GAP_PX + 2 * LABEL_LINE_PX + 8;
        assert_eq!(img.dimensions(), (16 + grid_w, height));
        let (x0, y0) = (FIGURE_MARGIN_PX, FIGURE_MARGIN_PX + TITLE_BAND_PX);
        let shown: Vec<u8> = (0..6).map(|i| img.get_pixel(x0 + i * 102, y0)[0]).collect();
        assert_eq!(shown, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0].map(level));
        assert!(title_ink(&img) > 50, "the title is drawn");
        // Under each frame, and only there, both label lines are inked.
        let lines_y = y0 + 96 + LABEL_GAP_PX;
        for i in 0..6 {
            let x = x0 + i * 102;
            for l in 0..2 {
                let y = lines_y + l * LABEL_LINE_PX;
                let n = ink(&img, (x, x + 96), (y, y + LABEL_LINE_PX));
                assert!(n > 20, "frame {i} line {l} has {n} dark pixels");
            }
            if i < 5 {
                let gap = ink(&img, (x + 96, x + 102), (lines_y, img.height()));
                assert_eq!(gap, 0, "labels {i} and {} touch", i + 1);
            }
        }
        // The widest labels of the study's strips (130 frames) fit their tiles.
        for k in strip_frame_indices(130, 11) {
            for line in frame_label(k, 130) {
                assert!(text_width(&line, LABEL_FONT_PX) < 96, "{line}");
            }
        }
    }

    #[test]
    fn gif_frames_are_labelled_and_equal_in_size() {
        let side = 32;
        let frames = interpolation_gif_frames("beta_vae_strict", &ramp(130, side), side);
        assert_eq!(frames.len(), 130);
        let first = &frames[0];
        let title_w = text_width("beta_vae_strict", TITLE_FONT_PX).max(96);
        let height = 8 + 30 + 96 + LABEL_GAP_PX + 2 * LABEL_LINE_PX + 8;
        assert_eq!(first.dimensions(), (16 + title_w, height));
        assert!(frames.iter().all(|f| f.dimensions() == first.dimensions()));
        let x0 = FIGURE_MARGIN_PX + (title_w - 96) / 2;
        let y0 = FIGURE_MARGIN_PX + TITLE_BAND_PX;
        assert_eq!(frames[0].get_pixel(x0, y0)[0], 0);
        assert_eq!(frames[129].get_pixel(x0 + 95, y0 + 95)[0], 255);
        assert_eq!(
            frames[13].get_pixel(x0 + 50, y0 + 50)[0],
            level(13.0 / 129.0)
        );
        // Each frame's label differs from its neighbour's.
        let label = |f: &GrayImage| {
            let y = y0 + 96;
            (0..f.width())
                .flat_map(|x| (y..f.height()).map(move |y| (x, y)))
                .map(|(x, y)| f.get_pixel(x, y)[0])
                .collect::<Vec<u8>>()
        };
        assert!(ink(first, (0, first.width()), (y0 + 96, first.height())) > 40);
        assert_ne!(label(&frames[12]), label(&frames[13]));
        assert!(title_ink(&frames[64]) > 50, "the title is drawn");
    }
}
