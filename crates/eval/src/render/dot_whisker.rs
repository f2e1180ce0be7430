//! A dot-and-whisker plot: one row per variant with each series' mean, 95% confidence
//! interval and individual seed values, and optionally a reference value per row.

use std::error::Error;
use std::io;
use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::{ensure_font, FAMILY};
use super::plot::{invalid, render_png, Area, PALETTE};

/// Width in pixels of a dot-and-whisker figure.
pub const DOT_WHISKER_WIDTH_PX: u32 = 860;
/// Height in pixels of one row with a single series; each further series adds
/// [`DOT_WHISKER_SERIES_PX`].
pub const DOT_WHISKER_ROW_PX: u32 = 30;
/// Extra row height per series beyond the first.
pub const DOT_WHISKER_SERIES_PX: u32 = 14;
/// Height of the caption, the x axis and the legend strip together.
pub const DOT_WHISKER_FRAME_PX: u32 = 40 + 48 + 34;

/// Marker of the reference value: a black diamond.
const REFERENCE: RGBColor = RGBColor(0, 0, 0);
/// How far below its series' line a seed dot sits, in pixels.
const SEED_DROP_PX: i32 = 6;
/// Share of a row's height the series of one row spread over.
const ROW_SPREAD: f64 = 0.6;

/// One series' summary at one label.
#[derive(Debug, Clone, PartialEq)]
pub struct DotWhiskerPoint {
    /// The individual values (one per seed), drawn as small faded dots.
    pub values: Vec<f64>,
    /// Their mean, drawn as a large dot.
    pub mean: f64,
    /// 95% confidence interval of the mean, drawn as a whisker; `None` with one seed.
    pub ci: Option<(f64, f64)>,
}

/// One coloured series of a [`DotWhiskerPlot`], e.g. probe accuracy under one protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct DotWhiskerSeries<'a> {
    /// Legend entry.
    pub name: &'a str,
    /// One entry per label of the plot; `None` where the series has no value.
    pub points: Vec<Option<DotWhiskerPoint>>,
}

/// Everything [`dot_whisker_plot`] draws.
#[derive(Debug, Clone, PartialEq)]
pub struct DotWhiskerPlot<'a> {
    /// Caption above the plot.
    pub title: &'a str,
    /// Description of the x axis (the measured quantity).
    pub x_label: &'a str,
    /// Row labels (variants), drawn top to bottom in this order.
    pub labels: Vec<&'a str>,
    /// Series drawn side by side within each row, in palette order (blue, orange, ...).
    pub series: Vec<DotWhiskerSeries<'a>>,
    /// Optional reference value per label (e.g. the reference study's published number),
    /// drawn as a black diamond on the row's centre line.
    pub reference: Option<Vec<Option<f64>>>,
}

impl DotWhiskerPlot<'_> {
    /// Checks the shape and that every number is finite, naming what is wrong.
    fn validate(&self) -> io::Result<()> {
        let n = self.labels.len();
        if n == 0 || self.series.is_empty() {
            return Err(invalid("dot-and-whisker plot needs labels and a series"));
        }
        for s in &self.series {
            if s.points.len() != n {
                return Err(invalid(&format!(
                    "series `{}` has {} points for {n} labels",
                    s.name,
                    s.points.len()
                )));
            }
            for (label, p) in self.labels.iter().zip(&s.points) {
                let Some(p) = p else { continue };
                let (lo, hi) = p.ci.unwrap_or((p.mean, p.mean));
                if !p
                    .values
                    .iter()
                    .chain([&p.mean, &lo, &hi])
                    .all(|v| v.is_finite())
                {
                    return Err(invalid(&format!(
                        "series `{}` at `{label}` holds a non-finite number",
                        s.name
                    )));
                }
                if lo > hi {
                    return Err(invalid(&format!(
                        "series `{}` at `{label}`: interval ({lo}, {hi}) is reversed",
                        s.name
                    )));
                }
            }
        }
        if let Some(r) = &self.reference {
            if r.len() != n {
                return Err(invalid(&format!(
                    "reference has {} values for {n} labels",
                    r.len()
                )));
            }
            if r.iter().flatten().any(|v| !v.is_finite()) {
                return Err(invalid("reference holds a non-finite number"));
            }
        }
        Ok(())
    }

    /// Every number drawn, for the x range.
    fn numbers(&self) -> impl Iterator<Item = f64> + '_ {
        let points = self.series.iter().flat_map(|s| s.points.iter().flatten());
        let summaries = points.flat_map(|p| {
            let (lo, hi) = p.ci.unwrap_or((p.mean, p.mean));
            p.values.iter().copied().chain([p.mean, lo, hi])
        });
        summaries.chain(self.reference.iter().flatten().flatten().copied())
    }

    /// Height in pixels of the whole figure.
    fn height(&self) -> u32 {
        let row = DOT_WHISKER_ROW_PX + (self.series.len() as u32 - 1) * DOT_WHISKER_SERIES_PX;
        DOT_WHISKER_FRAME_PX + self.labels.len() as u32 * row
    }

    /// Centre line (y coordinate) of row `i`: the first label on top.
    fn row_y(&self, i: usize) -> f64 {
        (self.labels.len() - 1 - i) as f64
    }

    /// Offset of series `s` from its row's centre line: the first series on top.
    fn series_offset(&self, s: usize) -> f64 {
        let k = self.series.len();
        if k == 1 {
            return 0.0;
        }
        let step = ROW_SPREAD / (k - 1) as f64;
        ROW_SPREAD / 2.0 - s as f64 * step
    }
}

/// Range covering `values` with a 5 % margin on each side.
fn padded(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return 0.0..1.0;
    }
    let margin = ((hi - lo) * 0.05).max(1e-3 * hi.abs().max(1.0));
    lo - margin..hi + margin
}

/// Draws one legend entry's symbol centred at the given x on the strip's middle line.
type LegendMarker = Box<dyn Fn(&Area<'_>, i32) -> Result<(), Box<dyn Error>>>;

/// The legend strip: one entry per series, then the symbols' meaning.
fn draw_legend(area: &Area<'_>, plot: &DotWhiskerPlot<'_>) -> Result<(), Box<dyn Error>> {
    let text = TextStyle::from((FAMILY, 13).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let (w, h) = area.dim_in_pixel();
    let y = h as i32 / 2;
    let grey = RGBColor(90, 90, 90);
    let mut entries: Vec<(String, LegendMarker)> = Vec::new();
    for (s, series) in plot.series.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        entries.push((
            format!("{} (mean)", series.name),
            Box::new(move |a: &Area<'_>, x| {
                a.draw(&Circle::new((x, y), 5, colour.filled()))?;
                Ok(())
            }),
        ));
    }
    entries.push((
        "95% CI".into(),
        Box::new(move |a: &Area<'_>, x| {
            a.draw(&PathElement::new(
                [(x - 8, y), (x + 8, y)],
                grey.stroke_width(2),
            ))?;
            a.draw(&PathElement::new(
                [(x - 8, y - 4), (x - 8, y + 4)],
                grey.stroke_width(2),
            ))?;
            a.draw(&PathElement::new(
                [(x + 8, y - 4), (x + 8, y + 4)],
                grey.stroke_width(2),
            ))?;
            Ok(())
        }),
    ));
    entries.push((
        "seeds".into(),
        Box::new(move |a: &Area<'_>, x| {
            a.draw(&Circle::new((x, y), 3, grey.mix(0.45).filled()))?;
            Ok(())
        }),
    ));
    if plot.reference.is_some() {
        entries.push((
            "reference".into(),
            Box::new(move |a: &Area<'_>, x| {
                a.draw(&Polygon::new(
                    vec![(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)],
                    REFERENCE.filled(),
                ))?;
                Ok(())
            }),
        ));
    }
    let font = (FAMILY, 13).into_font();
    let widths: Vec<i32> = entries
        .iter()
        .map(|(label, _)| {
            font.box_size(label)
                .map_or(8 * label.len() as i32, |(w, _)| w as i32)
                + 40
        })
        .collect();
    let mut x = (w as i32 - widths.iter().sum::<i32>()).max(0) / 2 + 12;
    for ((label, marker), width) in entries.iter().zip(widths) {
        marker(area, x)?;
        area.draw(&Text::new(label.clone(), (x + 14, y), text.clone()))?;
        x += width;
    }
    Ok(())
}

/// Draws `plot` and saves it as a PNG of [`DOT_WHISKER_WIDTH_PX`] by
/// `DOT_WHISKER_FRAME_PX + rows * (DOT_WHISKER_ROW_PX + (series - 1) * DOT_WHISKER_SERIES_PX)`
/// pixels: one row per label (first on top, labels on the y axis), within each row one line
/// per series (first on top) with the seed values as small faded dots just under the line, the 95% interval as
/// a capped whisker and the mean as a large dot in the series' colour; the reference value,
/// if any, as a black diamond on the row's centre line; a legend strip underneath.
///
/// # Errors
/// No labels or no series, a series or the reference without one entry per label, a
/// non-finite number, a reversed interval, or drawing or writing fails.
pub fn dot_whisker_plot(plot: &DotWhiskerPlot<'_>, path: &Path) -> io::Result<()> {
    plot.validate()?;
    ensure_font();
    let n = plot.labels.len();
    let label_font = (FAMILY, 13).into_font();
    let label_w = plot
        .labels
        .iter()
        .map(|l| {
            label_font
                .box_size(l)
                .map_or(8 * l.len() as u32, |(w, _)| w)
        })
        .max()
        .unwrap_or(0);
    let x_range = padded(plot.numbers());
    let height = plot.height();
    render_png(path, DOT_WHISKER_WIDTH_PX, height, |root| {
        let (chart_area, legend) = root.split_vertically(height - 34);
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(plot.title, (FAMILY, 18))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(label_w + 16)
            .build_cartesian_2d(x_range.clone(), -0.5..n as f64 - 0.5)?;
        // Rows are categories: no numeric y axis; each row gets a guide line and its label.
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(plot.x_label)
            .x_labels(8)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()?;
        let right = TextStyle::from((FAMILY, 13).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, label) in plot.labels.iter().enumerate() {
            let y = plot.row_y(i);
            chart.draw_series(std::iter::once(PathElement::new(
                [(x_range.start, y), (x_range.end, y)],
                RGBColor(225, 225, 225).stroke_width(1),
            )))?;
            let (px, py) = chart.backend_coord(&(x_range.start, y));
            root.draw(&Text::new(label.to_string(), (px - 8, py), right.clone()))?;
        }
        for (s, series) in plot.series.iter().enumerate() {
            let colour = PALETTE[s % PALETTE.len()];
            let offset = plot.series_offset(s);
            for (i, point) in series.points.iter().enumerate() {
                let Some(p) = point else { continue };
                let y = plot.row_y(i) + offset;
                // Seeds sit just under the whisker so that it does not hide them.
                chart.draw_series(p.values.iter().map(|&v| {
                    EmptyElement::at((v, y))
                        + Circle::new((0, SEED_DROP_PX), 3, colour.mix(0.45).filled())
                }))?;
                // The interval as plotters' capped error bar, its dot the mean; without an
                // interval (one seed), the dot alone.
                match p.ci {
                    Some((lo, hi)) => {
                        chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                            y,
                            lo,
                            p.mean,
                            hi,
                            colour.filled().stroke_width(2),
                            10,
                        )))?
                    }
                    None => chart.draw_series(std::iter::once(Circle::new(
                        (p.mean, y),
                        5,
                        colour.filled(),
                    )))?,
                };
            }
        }
        if let Some(reference) = &plot.reference {
            for (i, r) in reference.iter().enumerate() {
                let Some(r) = *r else { continue };
                chart.draw_series(std::iter::once(
                    EmptyElement::at((r, plot.row_y(i)))
                        + Polygon::new(vec![(0, -6), (6, 0), (0, 6), (-6, 0)], REFERENCE.filled()),
                ))?;
            }
        }
        draw_legend(&legend, plot)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(values: &[f64]) -> Option<DotWhiskerPoint> {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        Some(DotWhiskerPoint {
            values: values.to_vec(),
            mean,
            ci: Some((mean - 0.02, mean + 0.02)),
        })
    }

    fn probe_plot() -> DotWhiskerPlot<'static> {
        DotWhiskerPlot {
            title: "Linear probe accuracy",
            x_label: "test accuracy",
            labels: vec!["shallow", "vanilla", "beta_vae_strict", "vq"],
            series: vec![
                DotWhiskerSeries {
                    name: "reference protocol",
                    points: vec![
                        point(&[0.45, 0.46, 0.44]),
                        point(&[0.78, 0.80, 0.77]),
                        None,
                        point(&[0.77, 0.76, 0.79]),
                    ],
                },
                DotWhiskerSeries {
                    name: "converged",
                    points: vec![
                        point(&[0.55, 0.56, 0.54]),
                        point(&[0.88, 0.86, 0.87]),
                        point(&[0.50, 0.49, 0.52]),
                        point(&[0.85, 0.84, 0.86]),
                    ],
                },
            ],
            reference: Some(vec![Some(0.4511), Some(0.7835), Some(0.4536), Some(0.7717)]),
        }
    }

    /// Pixels of exactly `colour` above the legend strip.
    fn pixels_of(img: &image::RgbImage, colour: RGBColor) -> Vec<(u32, u32)> {
        let (w, h) = img.dimensions();
        (0..h - 34)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == [colour.0, colour.1, colour.2])
            .collect()
    }

    #[test]
    fn writes_a_deterministic_png_of_the_expected_size() {
        let plot = probe_plot();
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (dir.path().join("d1.png"), dir.path().join("d2.png"));
        dot_whisker_plot(&plot, &p1).unwrap();
        dot_whisker_plot(&plot, &p2).unwrap();
        assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
        let img = image::open(&p1).unwrap().to_rgb8();
        // 4 rows of 30 + 14 px (two series) under a 122 px frame.
        assert_eq!(img.dimensions(), (DOT_WHISKER_WIDTH_PX, 122 + 4 * 44));
        // Both series' means are drawn in their colours.
        assert!(pixels_of(&img, PALETTE[0]).len() > 100);
        assert!(pixels_of(&img, PALETTE[1]).len() > 100);
        // The reference diamonds add solid black: compare with the plot without them.
        let bare = DotWhiskerPlot {
            reference: None,
            ..plot.clone()
        };
        dot_whisker_plot(&bare, &p2).unwrap();
        let bare_img = image::open(&p2).unwrap().to_rgb8();
        let black = |i: &image::RgbImage| pixels_of(i, RGBColor(0, 0, 0)).len();
        assert!(
            black(&img) > black(&bare_img) + 4 * 40,
            "{} vs {}",
            black(&img),
            black(&bare_img)
        );
    }

    #[test]
    fn rows_run_top_down_and_means_sit_at_their_values() {
        // One series, no seeds or intervals: "low" (0.2) on top must be left of "high" (0.8).
        let plot = DotWhiskerPlot {
            title: "t",
            x_label: "x",
            labels: vec!["low", "high"],
            series: vec![DotWhiskerSeries {
                name: "s",
                points: [0.2, 0.8]
                    .map(|m| {
                        Some(DotWhiskerPoint {
                            values: vec![],
                            mean: m,
                            ci: None,
                        })
                    })
                    .to_vec(),
            }],
            reference: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.png");
        dot_whisker_plot(&plot, &p).unwrap();
        let img = image::open(&p).unwrap().to_rgb8();
        let blue = pixels_of(&img, PALETTE[0]);
        let (y_min, y_max) = blue
            .iter()
            .fold((u32::MAX, 0), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
        let mid = (y_min + y_max) / 2;
        let mean_x = |pts: Vec<&(u32, u32)>| {
            pts.iter().map(|p| f64::from(p.0)).sum::<f64>() / pts.len().max(1) as f64
        };
        let top = mean_x(blue.iter().filter(|p| p.1 < mid).collect());
        let bottom = mean_x(blue.iter().filter(|p| p.1 >= mid).collect());
        // The x range is 0.2..0.8 padded by 5 %, so the dots sit near the two ends.
        assert!(
            top > 0.0 && bottom > top + 400.0,
            "top {top}, bottom {bottom}"
        );
    }

    #[test]
    fn bad_input_is_an_error_naming_the_culprit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.png");
        let mut plot = probe_plot();
        plot.series[1].points.pop();
        let err = dot_whisker_plot(&plot, &p).unwrap_err().to_string();
        assert!(
            err.contains("`converged` has 3 points for 4 labels"),
            "{err}"
        );
        let mut plot = probe_plot();
        plot.reference = Some(vec![None]);
        assert!(dot_whisker_plot(&plot, &p).is_err());
        let mut plot = probe_plot();
        plot.series[0].points[0].as_mut().unwrap().values[1] = f64::NAN;
        let err = dot_whisker_plot(&plot, &p).unwrap_err().to_string();
        assert!(err.contains("`reference protocol` at `shallow`"), "{err}");
        let mut plot = probe_plot();
        plot.series[0].points[1].as_mut().unwrap().ci = Some((0.9, 0.1));
        assert!(dot_whisker_plot(&plot, &p).is_err());
        let mut plot = probe_plot();
        plot.series.clear();
        assert!(dot_whisker_plot(&plot, &p).is_err());
        assert!(!p.exists());
    }
}
