//! A heatmap of scores in [0, 1] (e.g. anomaly AUC per variant and held-out class), each
//! cell coloured on a diverging scale centred on 0.5 and annotated with its value.

use std::io;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::{ensure_font, FAMILY};
use super::plot::{invalid, render_png};

/// Width and height in pixels of one cell.
pub const HEATMAP_CELL_PX: (u32, u32) = (58, 30);
/// Fill of cells without a value.
pub const MISSING_CELL: RGBColor = RGBColor(190, 190, 190);

/// ColorBrewer "RdBu" (11 classes, as matplotlib's `RdBu`): dark red at 0, near-white at
/// 0.5, dark blue at 1. A diverging map makes 0.5 (chance, for an AUC) the neutral colour and
/// shows at a glance which side of chance a cell is; ColorBrewer's schemes are designed to
/// step evenly in perceived lightness and to stay readable for red-green colour blindness.
const RD_BU: [(u8, u8, u8); 11] = [
    (103, 0, 31),
    (178, 24, 43),
    (214, 96, 77),
    (244, 165, 130),
    (253, 219, 199),
    (247, 247, 247),
    (209, 229, 240),
    (146, 197, 222),
    (67, 147, 195),
    (33, 102, 172),
    (5, 48, 97),
];

const MARGIN: u32 = 12;
const TITLE_PX: u32 = 34;
const HEADER_PX: u32 = 24;
const LABEL_GAP: u32 = 8;
const BAR_GAP: u32 = 22;
const BAR_WIDTH: u32 = 16;
const BAR_LABELS_PX: u32 = 40;
const FONT_PX: u32 = 13;

/// Colour of `value` on the diverging scale (clamped to [0, 1]), linear between the
/// eleven RdBu stops.
pub(crate) fn diverging(value: f64) -> RGBColor {
    let t = value.clamp(0.0, 1.0) * (RD_BU.len() - 1) as f64;
    let i = (t.floor() as usize).min(RD_BU.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (RD_BU[i], RD_BU[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black or white, whichever reads better on `c` (relative luminance against 0.5).
fn text_colour(c: RGBColor) -> RGBColor {
    let lum = 0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2);
    if lum < 128.0 {
        WHITE
    } else {
        BLACK
    }
}

/// Pixel positions of the figure's parts.
struct Layout {
    width: u32,
    height: u32,
    /// Left edge of the first column of cells.
    grid_x: u32,
    /// Top edge of the first row of cells.
    grid_y: u32,
}

impl Layout {
    fn new(title: &str, row_labels: &[&str], ncols: usize) -> Self {
        ensure_font();
        let text_width = |text: &str, size: u32| {
            (FAMILY, size)
                .into_font()
                .box_size(text)
                .map_or(8 * text.len() as u32, |(w, _)| w)
        };
        let label_w = row_labels
            .iter()
            .map(|l| text_width(l, FONT_PX))
            .max()
            .unwrap_or(0);
        let (cw, ch) = HEATMAP_CELL_PX;
        let grid_x = MARGIN + label_w + LABEL_GAP;
        let grid_w = ncols as u32 * cw;
        let content = grid_x + grid_w + BAR_GAP + BAR_WIDTH + BAR_LABELS_PX + MARGIN;
        let width = content.max(text_width(title, 18) + 2 * MARGIN);
        let grid_y = MARGIN + TITLE_PX + HEADER_PX;
        // The colour bar needs some height even for a single row.
        let grid_h = (row_labels.len() as u32 * ch).max(120);
        Self {
            width,
            height: grid_y + grid_h + MARGIN,
            grid_x,
            grid_y,
        }
    }

    /// Top-left corner of cell (`row`, `col`).
    fn cell(&self, row: usize, col: usize) -> (i32, i32) {
        let (cw, ch) = HEATMAP_CELL_PX;
        (
            (self.grid_x + col as u32 * cw) as i32,
            (self.grid_y + row as u32 * ch) as i32,
        )
    }
}

/// Draws `values` (row-major, one per row label and column label; `None` = missing) as a
/// heatmap titled `title`: row labels on the left, column labels on top, each cell filled
/// from the diverging RdBu scale (0 dark red, 0.5 near-white, 1 dark blue; values outside
/// [0, 1] take the end colours) and annotated with its value to two decimals, missing
/// cells filled [`MISSING_CELL`] without text, and a colour bar from 0 to 1 on the right.
/// Saves a PNG whose height is `max(rows * 30, 120)` plus 82 pixels of title and header
/// and margins, and whose width fits the longest row label, the columns
/// ([`HEATMAP_CELL_PX`] each), the colour bar and the title.
///
/// # Errors
/// No rows or no columns, `values.len() != rows * columns`, a non-finite value, or
/// drawing or writing fails.
pub fn heatmap_plot(
    title: &str,
    row_labels: &[&str],
    col_labels: &[&str],
    values: &[Option<f64>],
    path: &Path,
) -> io::Result<()> {
    let (nrows, ncols) = (row_labels.len(), col_labels.len());
    if nrows == 0 || ncols == 0 {
        return Err(invalid("heatmap needs at least one row and one column"));
    }
    if values.len() != nrows * ncols {
        return Err(invalid(&format!(
            "heatmap has {nrows} rows x {ncols} columns but {} values",
            values.len()
        )));
    }
    if let Some(i) = values
        .iter()
        .position(|v| v.is_some_and(|x| !x.is_finite()))
    {
        return Err(invalid(&format!(
            "heatmap value at row {}, column {} is not finite",
            i / ncols,
            i % ncols
        )));
    }
    let layout = Layout::new(title, row_labels, ncols);
    let (cw, ch) = HEATMAP_CELL_PX;
    render_png(path, layout.width, layout.height, |root| {
        let font = |size: u32| (FAMILY, size).into_font();
        let centred =
            |size: u32| TextStyle::from(font(size)).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(
            title.to_string(),
            ((layout.width / 2) as i32, (MARGIN + TITLE_PX / 2) as i32),
            centred(18).color(&BLACK),
        ))?;
        for (c, label) in col_labels.iter().enumerate() {
            let (x, _) = layout.cell(0, c);
            let y = (layout.grid_y - HEADER_PX / 2) as i32;
            root.draw(&Text::new(
                label.to_string(),
                (x + cw as i32 / 2, y),
                centred(FONT_PX).color(&BLACK),
            ))?;
        }
        let right = TextStyle::from(font(FONT_PX))
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (r, label) in row_labels.iter().enumerate() {
            let (_, y) = layout.cell(r, 0);
            let x = (layout.grid_x - LABEL_GAP) as i32;
            root.draw(&Text::new(
                label.to_string(),
                (x, y + ch as i32 / 2),
                right.clone(),
            ))?;
        }
        for (i, value) in values.iter().enumerate() {
            let (x, y) = layout.cell(i / ncols, i % ncols);
            let fill = value.map_or(MISSING_CELL, diverging);
            root.draw(&Rectangle::new(
                [(x, y), (x + cw as i32, y + ch as i32)],
                fill.filled(),
            ))?;
            if let Some(v) = value {
                let ink = text_colour(fill);
                root.draw(&Text::new(
                    format!("{v:.2}"),
                    (x + cw as i32 / 2, y + ch as i32 / 2),
                    centred(FONT_PX).color(&ink),
                ))?;
            }
        }
        // Thin white lines between cells keep neighbouring similar colours apart.
        let line = WHITE.stroke_width(1);
        for c in 1..ncols {
            let (x, y) = layout.cell(0, c);
            root.draw(&PathElement::new(
                [(x, y), (x, y + (nrows as u32 * ch) as i32)],
                line,
            ))?;
        }
        for r in 1..nrows {
            let (x, y) = layout.cell(r, 0);
            root.draw(&PathElement::new(
                [(x, y), (x + (ncols as u32 * cw) as i32, y)],
                line,
            ))?;
        }
        // Colour bar, 1 at the top.
        let bar_x = (layout.grid_x + ncols as u32 * cw + BAR_GAP) as i32;
        let bar_top = layout.grid_y as i32;
        let bar_h = (layout.height - layout.grid_y - MARGIN) as i32;
        for dy in 0..bar_h {
            let v = 1.0 - f64::from(dy) / f64::from(bar_h - 1);
            root.draw(&Rectangle::new(
                [
                    (bar_x, bar_top + dy),
                    (bar_x + BAR_WIDTH as i32, bar_top + dy + 1),
                ],
                diverging(v).filled(),
            ))?;
        }
        let left = TextStyle::from(font(11))
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let y = bar_top + ((1.0 - tick) * f64::from(bar_h - 1)).round() as i32;
            let x = bar_x + BAR_WIDTH as i32;
            root.draw(&PathElement::new(
                [(x, y), (x + 4, y)],
                BLACK.stroke_width(1),
            ))?;
            root.draw(&Text::new(format!("{tick:.2}"), (x + 6, y), left.clone()))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_scale_ends_and_centre() {
        assert_eq!(diverging(0.0), RGBColor(103, 0, 31));
        assert_eq!(diverging(0.5), RGBColor(247, 247, 247));
        assert_eq!(diverging(1.0), RGBColor(5, 48, 97));
        assert_eq!(diverging(-3.0), diverging(0.0));
        assert_eq!(diverging(7.0), diverging(1.0));
        // 0.55 lies halfway between stops 5 (247, 247, 247) and 6 (209, 229, 240):
        // (228, 238, 243.5 -> 244).
        assert_eq!(diverging(0.55), RGBColor(228, 238, 244));
        assert_eq!(text_colour(diverging(1.0)), WHITE);
        assert_eq!(text_colour(diverging(0.5)), BLACK);
    }

    #[test]
    fn cells_are_coloured_by_value_and_missing_ones_grey() {
        let rows = ["vanilla", "beta_vae_strict", "vq"];
        let cols = ["0", "1", "mean"];
        #[rustfmt::skip]
        let values = [
            Some(0.9), Some(0.1), Some(0.5),
            None, Some(0.75), Some(0.75),
            Some(1.0), Some(0.0), None,
        ];
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (dir.path().join("h1.png"), dir.path().join("h2.png"));
        heatmap_plot("Anomaly AUC", &rows, &cols, &values, &p1).unwrap();
        heatmap_plot("Anomaly AUC", &rows, &cols, &values, &p2).unwrap();
        assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
        let img = image::open(&p1).unwrap().to_rgb8();
        let layout = Layout::new("Anomaly AUC", &rows, cols.len());
        assert_eq!(img.dimensions(), (layout.width, layout.height));
        // 3 rows of 30 px are less than the 120 px floor: 120 + 82.
        assert_eq!(layout.height, 120 + MARGIN + TITLE_PX + HEADER_PX + MARGIN);
        // A cell's corner pixel (clear of the centred text) shows its fill.
        let corner = |r: usize, c: usize| {
            let (x, y) = layout.cell(r, c);
            img.get_pixel(x as u32 + 3, y as u32 + 3).0
        };
        let rgb = |c: RGBColor| [c.0, c.1, c.2];
        assert_eq!(corner(0, 0), rgb(diverging(0.9)));
        assert_eq!(corner(0, 1), rgb(diverging(0.1)));
        assert_ne!(corner(0, 0), corner(0, 1));
        // 0.9 is blue-ish, 0.1 red-ish.
        assert!(corner(0, 0)[2] > corner(0, 0)[0] && corner(0, 1)[0] > corner(0, 1)[2]);
        assert_eq!(corner(1, 0), rgb(MISSING_CELL));
        assert_eq!(corner(2, 2), rgb(MISSING_CELL));
        // The value text is drawn: a present cell's centre region holds dark pixels, a missing
        // cell's does not.
        let inked = |r: usize, c: usize, colour: [u8; 3]| {
            let (x, y) = layout.cell(r, c);
            let (cw, ch) = HEATMAP_CELL_PX;
            (x as u32 + 8..x as u32 + cw - 8)
                .flat_map(|px| (y as u32 + 6..y as u32 + ch - 6).map(move |py| (px, py)))
                .filter(|&(px, py)| img.get_pixel(px, py).0 != colour)
                .count()
        };
        assert!(inked(0, 2, rgb(diverging(0.5))) > 20);
        assert_eq!(inked(1, 0, rgb(MISSING_CELL)), 0);
        // A taller table grows by exactly one cell height per row past the floor.
        let many: Vec<&str> = (0..6).map(|_| "v").collect();
        let tall = Layout::new("t", &many, 2);
        let taller = Layout::new("t", &[many.as_slice(), &["w"]].concat(), 2);
        assert_eq!(taller.height - tall.height, HEATMAP_CELL_PX.1);
    }

    #[test]
    fn bad_shapes_and_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.png");
        let err = heatmap_plot("t", &["a", "b"], &["x"], &[Some(0.5)], &p).unwrap_err();
        assert!(
            err.to_string().contains("2 rows x 1 columns but 1 values"),
            "{err}"
        );
        assert!(heatmap_plot("t", &[], &["x"], &[], &p).is_err());
        assert!(heatmap_plot("t", &["a"], &["x"], &[Some(f64::NAN)], &p).is_err());
        assert!(!p.exists());
    }
}
