//! One x-y scatter plot of measured points with an optional horizontal reference line (e.g.
//! a published number the points are compared with).

use std::io;
use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use super::font::FAMILY;
use super::plot::{invalid, render_png, PALETTE};

/// Width and height in pixels of an [`xy_plot`].
pub const XY_PLOT_PX: (u32, u32) = (640, 480);

/// What [`xy_plot`] draws.
#[derive(Clone, Debug)]
pub struct XyPlot<'a> {
    /// Caption above the plot.
    pub title: &'a str,
    /// Label of the x axis.
    pub x_label: &'a str,
    /// Label of the y axis.
    pub y_label: &'a str,
    /// The points.
    pub points: &'a [(f64, f64)],
    /// A horizontal line at this y, with its legend text.
    pub reference: Option<(f64, &'a str)>,
}

/// `lo..hi` of the values with a 5% margin (at least 0.5 either side of a single value).
fn padded(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let margin = ((hi - lo) * 0.05).max(0.5);
    lo - margin..hi + margin
}

/// Draws the points (and the reference line) and saves the figure as a PNG of
/// [`XY_PLOT_PX`] pixels.
///
/// # Errors
/// No points, a value that is not finite, or drawing or writing fails.
pub fn xy_plot(plot: &XyPlot<'_>, path: &Path) -> io::Result<()> {
    if plot.points.is_empty() {
        return Err(invalid("no points to plot"));
    }
    let finite = |v: f64| v.is_finite();
    if !plot.points.iter().all(|&(x, y)| finite(x) && finite(y))
        || !plot.reference.is_none_or(|(y, _)| finite(y))
    {
        return Err(invalid("a point or the reference line is not finite"));
    }
    let xs = padded(plot.points.iter().map(|p| p.0));
    let ys = padded(
        plot.points
            .iter()
            .map(|p| p.1)
            .chain(plot.reference.map(|r| r.0)),
    );
    let (w, h) = XY_PLOT_PX;
    render_png(path, w, h, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(plot.title, (FAMILY, 18))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(xs.clone(), ys)?;
        chart
            .configure_mesh()
            .x_desc(plot.x_label)
            .y_desc(plot.y_label)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()?;
        if let Some((y, label)) = plot.reference {
            let red = PALETTE[3];
            chart
                .draw_series(LineSeries::new(
                    [(xs.start, y), (xs.end, y)],
                    red.stroke_width(2),
                ))?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], red.stroke_width(2)));
            chart
                .configure_series_labels()
                .label_font((FAMILY, 13))
                .background_style(WHITE.mix(0.9))
                .border_style(RGBColor(200, 200, 200))
                .position(SeriesLabelPosition::UpperLeft)
                .draw()?;
        }
        let blue = PALETTE[0];
        chart.draw_series(
            plot.points
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 5, blue.filled())),
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_points_and_the_reference_line_deterministically() {
        let points = [(0.0, 100.0), (1.0, 104.0), (3.0, 112.0)];
        let plot = XyPlot {
            title: "BCE against dead code units",
            x_label: "dead units",
            y_label: "test BCE",
            points: &points,
            reference: Some((123.2, "published")),
        };
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
        xy_plot(&plot, &a).unwrap();
        xy_plot(&plot, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let img = image::open(&a).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), XY_PLOT_PX);
        let count = |c: RGBColor| img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
        // Three filled circles of radius 5 (about 80 pixels each) and a red line across.
        assert!(count(PALETTE[0]) > 150, "{}", count(PALETTE[0]));
        assert!(count(PALETTE[3]) > 400, "{}", count(PALETTE[3]));
        let mut bad = points;
        bad[1].1 = f64::NAN;
        let nan = XyPlot {
            points: &bad,
            ..plot.clone()
        };
        assert!(xy_plot(&nan, &a).is_err());
        let empty = XyPlot {
            points: &[],
            ..plot
        };
        assert!(xy_plot(&empty, &a).is_err());
    }
}
