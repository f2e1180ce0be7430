//! A grid of ROC curves, one subplot per model.

use std::io;
use std::path::Path;

use plotters::prelude::*;

use super::font::FAMILY;
use super::plot::{grid_shape, invalid, render_png};
use crate::roc::RocCurve;

/// Width and height in pixels of one ROC subplot.
pub const ROC_PANEL_PX: u32 = 360;

/// One subplot of [`roc_grid_plot`].
#[derive(Debug, Clone)]
pub struct RocPanel<'a> {
    /// Subplot caption, e.g. "vanilla (AUC 0.912)".
    pub title: String,
    /// The curve to draw.
    pub curve: &'a RocCurve,
}

/// Draws one ROC subplot per panel, in reading order on a grid of `ncols`
/// columns (at least 1), each with axes FPR and TPR over [0, 1] and the
/// chance diagonal, and saves the figure as a PNG of
/// `ncols * ROC_PANEL_PX` by `nrows * ROC_PANEL_PX` pixels (`ncols` capped
/// at the number of panels).
///
/// # Errors
/// No panels, or drawing or writing fails.
pub fn roc_grid_plot(panels: &[RocPanel<'_>], path: &Path, ncols: usize) -> io::Result<()> {
    if panels.is_empty() {
        return Err(invalid("no ROC panels"));
    }
    let (nrows, ncols) = grid_shape(panels.len(), ncols);
    let (w, h) = (ncols as u32 * ROC_PANEL_PX, nrows as u32 * ROC_PANEL_PX);
    render_png(path, w, h, |root| {
        for (panel, area) in panels.iter().zip(root.split_evenly((nrows, ncols))) {
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, (FAMILY, 17))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(44)
                .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
            chart
                .configure_mesh()
                .x_desc("FPR")
                .y_desc("TPR")
                .x_labels(6)
                .y_labels(6)
                .label_style((FAMILY, 12))
                .axis_desc_style((FAMILY, 14))
                .light_line_style(RGBColor(235, 235, 235))
                .bold_line_style(RGBColor(215, 215, 215))
                .draw()?;
            let gray = RGBColor(150, 150, 150);
            chart.draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                gray.stroke_width(1),
            ))?;
            let points = panel
                .curve
                .fpr
                .iter()
                .zip(&panel.curve.tpr)
                .map(|(&x, &y)| (x, y));
            chart.draw_series(LineSeries::new(
                points,
                RGBColor(31, 119, 180).stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roc::roc_curve;

    #[test]
    fn writes_a_deterministic_png_of_the_expected_size() {
        let a = roc_curve(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        let b = roc_curve(&[0.9, 0.2, 0.7, 0.1], &[true, false, true, false]).unwrap();
        let panels: Vec<RocPanel<'_>> = [("vanilla", &a), ("vae", &b), ("beta-vae", &a)]
            .into_iter()
            .map(|(name, curve)| RocPanel {
                title: format!("{name} (AUC {:.3})", curve.trapezoid_area()),
                curve,
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (dir.path().join("roc1.png"), dir.path().join("roc2.png"));
        roc_grid_plot(&panels, &p1, 2).unwrap();
        roc_grid_plot(&panels, &p2, 2).unwrap();
        let img = image::open(&p1).unwrap();
        assert_eq!(
            (img.width(), img.height()),
            (2 * ROC_PANEL_PX, 2 * ROC_PANEL_PX)
        );
        // Something was drawn in each used panel and the unused one is blank.
        let rgb = img.to_rgb8();
        let inked = |x0: u32, y0: u32| {
            (0..ROC_PANEL_PX)
                .flat_map(|y| (0..ROC_PANEL_PX).map(move |x| (x, y)))
                .filter(|&(x, y)| rgb.get_pixel(x0 + x, y0 + y).0 != [255, 255, 255])
                .count()
        };
        assert!(
            inked(0, 0) > 1000 && inked(ROC_PANEL_PX, 0) > 1000 && inked(0, ROC_PANEL_PX) > 1000
        );
        assert_eq!(inked(ROC_PANEL_PX, ROC_PANEL_PX), 0);
        assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        assert!(roc_grid_plot(&[], &p1, 2).is_err());
    }
}
