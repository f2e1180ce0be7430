//! A grid of 2-D latent scatter plots coloured by digit class.

use std::io;
use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use super::font::FAMILY;
use super::plot::{grid_shape, invalid, render_png, Area, PALETTE};

/// Width and height in pixels of one scatter subplot.
pub const SCATTER_PANEL_PX: u32 = 420;
/// Height in pixels of the digit legend strip below the subplots.
pub const LEGEND_PX: u32 = 40;
/// Height of the line under each panel that names the reduction method.
const METHOD_LINE_PX: u32 = 18;

/// One subplot of [`scatter_grid_plot`].
#[derive(Debug, Clone)]
pub struct ScatterPanel<'a> {
    /// Model name, first part of the caption.
    pub title: String,
    /// How the points were obtained (e.g. "t-SNE (perplexity 30)"), shown
    /// after the title in the caption.
    pub method: String,
    /// The 2-D points.
    pub points: &'a [[f32; 2]],
    /// Digit class of each point (0..=9; larger values wrap around the palette).
    pub labels: &'a [u8],
}

/// Axis range covering the finite values with a 5 % margin.
fn range(values: impl Iterator<Item = f32>) -> Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(f64::from(v)), hi.max(f64::from(v)))
        });
    if lo > hi {
        return -1.0..1.0;
    }
    let margin = ((hi - lo) * 0.05).max(1e-3);
    lo - margin..hi + margin
}

fn draw_legend(area: &Area<'_>) -> Result<(), Box<dyn std::error::Error>> {
    let (w, h) = area.dim_in_pixel();
    let step = 44i32;
    let x0 = (w as i32 - 10 * step) / 2 + 8;
    let y = h as i32 / 2;
    let text = TextStyle::from((FAMILY, 16).into_font()).color(&BLACK);
    for (d, colour) in PALETTE.iter().enumerate() {
        let x = x0 + d as i32 * step;
        area.draw(&Circle::new((x, y), 5, colour.filled()))?;
        area.draw_text(&d.to_string(), &text, (x + 9, y - 9))?;
    }
    Ok(())
}

/// Draws one scatter subplot per panel, in reading order on a grid of
/// `ncols` columns (at least 1, capped at the number of panels), points
/// coloured by class with a shared legend of the digits 0-9 underneath, and
/// saves the figure as a PNG of `ncols * SCATTER_PANEL_PX` by
/// `nrows * SCATTER_PANEL_PX + LEGEND_PX` pixels. Non-finite points are skipped.
///
/// # Errors
/// No panels, a panel whose points and labels differ in number, or drawing
/// or writing fails.
pub fn scatter_grid_plot(panels: &[ScatterPanel<'_>], path: &Path, ncols: usize) -> io::Result<()> {
    if panels.is_empty() {
        return Err(invalid("no scatter panels"));
    }
    if panels.iter().any(|p| p.points.len() != p.labels.len()) {
        return Err(invalid("points and labels differ in number"));
    }
    let (nrows, ncols) = grid_shape(panels.len(), ncols);
    let w = ncols as u32 * SCATTER_PANEL_PX;
    let h = nrows as u32 * SCATTER_PANEL_PX + LEGEND_PX;
    render_png(path, w, h, |root| {
        let (plots, legend) = root.split_vertically(h - LEGEND_PX);
        for (panel, area) in panels.iter().zip(plots.split_evenly((nrows, ncols))) {
            let xs = range(panel.points.iter().map(|p| p[0]));
            let ys = range(panel.points.iter().map(|p| p[1]));
            // The method goes on its own smaller line under the axes: beside the title it
            // overflows the panel for long variant names.
            let (area, footer) = area.split_vertically(SCATTER_PANEL_PX - METHOD_LINE_PX);
            footer.draw(&Text::new(
                panel.method.clone(),
                (10, 2),
                TextStyle::from((FAMILY, 12).into_font()).color(&BLACK.mix(0.7)),
            ))?;
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, (FAMILY, 16))
                .margin(10)
                .x_label_area_size(24)
                .y_label_area_size(36)
                .build_cartesian_2d(xs, ys)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(5)
                .y_labels(5)
                .label_style((FAMILY, 11))
                .draw()?;
            let dots = panel
                .points
                .iter()
                .zip(panel.labels)
                .filter(|(p, _)| p[0].is_finite() && p[1].is_finite())
                .map(|(p, &l)| {
                    let colour = PALETTE[usize::from(l) % PALETTE.len()];
                    Circle::new((f64::from(p[0]), f64::from(p[1])), 2, colour.filled())
                });
            chart.draw_series(dots)?;
        }
        draw_legend(&legend)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_deterministic_png_of_the_expected_size() {
        let points: Vec<[f32; 2]> = (0..500)
            .map(|i| {
                let t = i as f32;
                [
                    (t * 0.1).sin() * (i % 10) as f32,
                    (t * 0.1).cos() * (i % 10) as f32,
                ]
            })
            .collect();
        let labels: Vec<u8> = (0..500).map(|i| (i % 10) as u8).collect();
        let panels: Vec<ScatterPanel<'_>> = ["vanilla", "vae", "sparse", "wasserstein"]
            .into_iter()
            .map(|title| ScatterPanel {
                title: title.into(),
                method: "t-SNE (perplexity 30)".into(),
                points: &points,
                labels: &labels,
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (dir.path().join("s1.png"), dir.path().join("s2.png"));
        scatter_grid_plot(&panels, &p1, 3).unwrap();
        scatter_grid_plot(&panels, &p2, 3).unwrap();
        let img = image::open(&p1).unwrap().to_rgb8();
        assert_eq!(
            img.dimensions(),
            (3 * SCATTER_PANEL_PX, 2 * SCATTER_PANEL_PX + LEGEND_PX)
        );
        // Every class colour appears (points and legend).
        for colour in PALETTE {
            assert!(img.pixels().any(|p| p.0 == [colour.0, colour.1, colour.2]));
        }
        assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

        let bad = ScatterPanel {
            labels: &labels[1..],
            ..panels[0].clone()
        };
        assert!(scatter_grid_plot(&[bad], &p1, 1).is_err());
    }
}
