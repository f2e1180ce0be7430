//! The study's figures, drawn from the cached results with the eval crate's renderers (no
//! model is run here): reconstruction and sample grids, interpolation GIFs and strips (each
//! upscaled, titled with its variant and labelled), the latent scatter grids and the ROC
//! grid. Paths are relative to the output directory.

use std::path::Path;

use ae_eval::render::{
    dot_whisker_plot, heatmap_plot, interpolation_gif_frames, interpolation_strip,
    reconstruction_grid, roc_grid_plot, sample_grid, save_png, scatter_grid_plot, write_gif_images,
    DotWhiskerPlot, DotWhiskerPoint, DotWhiskerSeries, RocPanel, ScatterPanel,
};
use ae_eval::stats::summarize;
use ae_eval::tasks::LatentStructure;
use anyhow::{Context, Result};

use ae_results::metrics::Metric;
use ae_results::study_results::StudyResults;

/// Frames shown in an interpolation strip.
pub const STRIP_FRAMES: usize = 11;
/// Delay between GIF frames, milliseconds.
pub const GIF_FRAME_MS: u32 = 40;
/// Subplots per row of the scatter and ROC grids.
pub const GRID_COLUMNS: usize = 3;

/// `reconstructions/<variant>.png`.
pub fn reconstruction_png(variant: &str) -> String {
    format!("reconstructions/{variant}.png")
}

/// `samples/<variant>.png`.
pub fn samples_png(variant: &str) -> String {
    format!("samples/{variant}.png")
}

/// `interpolation/<variant>.gif`.
pub fn interpolation_gif(variant: &str) -> String {
    format!("interpolation/{variant}.gif")
}

/// `interpolation/<variant>.png`.
pub fn interpolation_png(variant: &str) -> String {
    format!("interpolation/{variant}.png")
}

/// The scatter grid of the general models.
pub const LATENT_GENERAL_PNG: &str = "latent_general.png";
/// The scatter grid of the anomaly models.
pub const LATENT_ANOMALY_PNG: &str = "latent_anomaly.png";
/// The ROC grid of the anomaly models.
pub const ANOMALY_ROC_PNG: &str = "anomaly_roc.png";
/// Reconstruction BCE per variant over the seeds (dot-and-whisker).
pub const RECONSTRUCTION_SEEDS_PNG: &str = "seeds_reconstruction.png";
/// Probe accuracy per variant over the seeds, both protocols (dot-and-whisker).
pub const PROBE_SEEDS_PNG: &str = "seeds_probe.png";
/// Anomaly AUC per variant over the seeds, both scores (dot-and-whisker).
pub const ANOMALY_SEEDS_PNG: &str = "seeds_anomaly.png";
/// Fréchet classifier distance of the samples per variant over the seeds (dot-and-whisker).
pub const SAMPLE_QUALITY_SEEDS_PNG: &str = "seeds_sample_quality.png";
/// Interpolation quality per variant over the seeds, both measures (dot-and-whisker).
pub const INTERPOLATION_QUALITY_SEEDS_PNG: &str = "seeds_interpolation_quality.png";
/// AUC per variant and held-out class (heatmap).
pub const LEAVE_ONE_CLASS_OUT_PNG: &str = "leave_one_class_out.png";

fn target(out: &Path, relative: &str) -> Result<std::path::PathBuf> {
    let path = out.join(relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(path)
}

/// Draws every figure whose results exist into `out`: the images of the first seed.
pub fn draw_all(results: &StudyResults, out: &Path) -> Result<()> {
    let first = results.first();
    let digit = results.study.anomaly.primary_digit();
    for v in &first.variants {
        let name = &v.variant;
        if let Some(r) = &v.reconstruction {
            let (originals, reconstructions) =
                (r.originals.to_unit()?, r.reconstructions.to_unit()?);
            let img = reconstruction_grid(
                &format!("{name}: test images and reconstructions"),
                &originals,
                &reconstructions,
                r.originals.side,
                r.originals.count,
            );
            let path = target(out, &reconstruction_png(name))?;
            save_png(&img, &path).with_context(|| format!("writing {}", path.display()))?;
        }
        if let Some(s) = &v.samples {
            let images = s.images.to_unit()?;
            let img = sample_grid(
                &format!("{name}: {} samples from the prior", s.images.count),
                &images,
                s.images.side,
            );
            let path = target(out, &samples_png(name))?;
            save_png(&img, &path).with_context(|| format!("writing {}", path.display()))?;
        }
        if let Some(i) = &v.interpolation {
            let frames = i.frames.to_unit()?;
            let path = target(out, &interpolation_gif(name))?;
            let images = interpolation_gif_frames(name, &frames, i.frames.side);
            write_gif_images(&images, &path, GIF_FRAME_MS)
                .with_context(|| format!("writing {}", path.display()))?;
            let title = format!(
                "{name}: interpolation from test image #{} to #{}",
                i.from.0, i.to.0
            );
            let shown = STRIP_FRAMES.min(i.frames.count);
            let strip = interpolation_strip(&title, &frames, i.frames.side, shown);
            let path = target(out, &interpolation_png(name))?;
            save_png(&strip, &path).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if let Some(study) = crate::dead_units::DeadUnitStudy::of(results) {
        study.plot(crate::dead_units::published_bce(results), out)?;
    }
    let general: Vec<(&str, &LatentStructure)> = first
        .variants
        .iter()
        .filter_map(|v| v.latent_general.as_ref().map(|l| (v.variant.as_str(), l)))
        .collect();
    scatter_grid(&general, &target(out, LATENT_GENERAL_PNG)?)?;
    let anomaly: Vec<(&str, &LatentStructure)> = first
        .variants
        .iter()
        .filter_map(|v| v.latent_anomaly.as_ref().map(|l| (v.variant.as_str(), l)))
        .collect();
    scatter_grid(&anomaly, &target(out, LATENT_ANOMALY_PNG)?)?;
    let curves: Vec<(String, &ae_eval::roc::RocCurve)> = first
        .variants
        .iter()
        .filter_map(|v| {
            v.anomaly_for(digit)
                .map(|a| (format!("{} (AUC {:.3})", v.variant, a.auc), &a.roc))
        })
        .collect();
    if !curves.is_empty() {
        let panels: Vec<RocPanel<'_>> = curves
            .iter()
            .map(|(title, curve)| RocPanel {
                title: title.clone(),
                curve,
            })
            .collect();
        let path = target(out, ANOMALY_ROC_PNG)?;
        roc_grid_plot(&panels, &path, GRID_COLUMNS)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    draw_seed_plots(results, out)
}

fn scatter_grid(models: &[(&str, &LatentStructure)], path: &Path) -> Result<()> {
    if models.is_empty() {
        return Ok(());
    }
    let panels: Vec<ScatterPanel<'_>> = models
        .iter()
        .map(|(name, l)| ScatterPanel {
            title: name.to_string(),
            method: l.method.clone(),
            points: &l.points,
            labels: &l.labels,
        })
        .collect();
    scatter_grid_plot(&panels, path, GRID_COLUMNS)
        .with_context(|| format!("writing {}", path.display()))
}

/// The dot-and-whisker plots over the seeds and the leave-one-class-out heatmap.
fn draw_seed_plots(results: &StudyResults, out: &Path) -> Result<()> {
    let labels: Vec<&str> = results.variants.iter().map(String::as_str).collect();
    let point = |values: Vec<f64>| {
        summarize(&values).map(|s| DotWhiskerPoint {
            mean: s.mean,
            ci: s.ci_low.zip(s.ci_high),
            values,
        })
    };
    let series = |name: &'static str, metric: Metric| DotWhiskerSeries {
        name,
        points: labels
            .iter()
            .map(|v| point(results.values(v, metric)))
            .collect(),
    };
    let study = crate::reference::study(&results.study.dataset);
    let published = |f: fn(&crate::reference::ReferenceRow) -> f64| {
        study.map(|s| labels.iter().map(|v| s.row(v).map(f)).collect())
    };
    let digit = results.study.anomaly.primary_digit();
    let plots = [
        (
            RECONSTRUCTION_SEEDS_PNG,
            DotWhiskerPlot {
                title: "Reconstruction over seeds (mean, 95% CI, seeds)",
                x_label: "test BCE (lower is better)",
                labels: labels.clone(),
                series: vec![series("ours", Metric::TestBce)],
                reference: published(|r| r.reconstruction_bce),
            },
        ),
        (
            PROBE_SEEDS_PNG,
            DotWhiskerPlot {
                title: "Linear probe over seeds (mean, 95% CI, seeds)",
                x_label: "test accuracy (higher is better)",
                labels: labels.clone(),
                series: vec![
                    series("reference protocol", Metric::ReferenceProbe),
                    series("converged", Metric::ConvergedProbe),
                ],
                reference: published(|r| r.probe_accuracy),
            },
        ),
        (
            ANOMALY_SEEDS_PNG,
            DotWhiskerPlot {
                title: "Anomaly detection over seeds (mean, 95% CI, seeds)",
                x_label: "AUC (higher is better)",
                labels: labels.clone(),
                series: vec![
                    series("BCE score", Metric::Auc(digit)),
                    series("published score", Metric::PublishedAuc(digit)),
                ],
                reference: published(|r| r.anomaly_auc_old_score),
            },
        ),
        (
            SAMPLE_QUALITY_SEEDS_PNG,
            DotWhiskerPlot {
                title: "Sample quality over seeds (mean, 95% CI, seeds)",
                x_label: "Fréchet classifier distance to the test images (lower is better)",
                labels: labels.clone(),
                series: vec![series("ours", Metric::FrechetDistance)],
                reference: None,
            },
        ),
        (
            INTERPOLATION_QUALITY_SEEDS_PNG,
            DotWhiskerPlot {
                title: "Interpolation quality over seeds (mean, 95% CI, seeds)",
                x_label: "inner-frame confidence (higher: digit-like); largest step / path length",
                labels: labels.clone(),
                series: vec![
                    series("inner-frame confidence", Metric::InnerFrameConfidence),
                    series("largest step / path length", Metric::LargestStep),
                ],
                reference: None,
            },
        ),
    ];
    // With one seed there is nothing to summarise (the report shows them from two seeds on).
    for (file, plot) in plots.iter().filter(|_| results.seeds.len() > 1) {
        if plot
            .series
            .iter()
            .all(|s| s.points.iter().all(Option::is_none))
        {
            continue;
        }
        let path = target(out, file)?;
        dot_whisker_plot(plot, &path).with_context(|| format!("writing {}", path.display()))?;
    }
    let digits = &results.study.anomaly.digits;
    if digits.len() > 1 {
        let table = crate::tables::leave_one_class_out(results);
        let values: Vec<Option<f64>> = table
            .rows
            .iter()
            .flat_map(|row| (0..table.metrics.len()).map(|m| row.summary(m).map(|s| s.mean)))
            .collect();
        let columns: Vec<&str> = table.metrics.iter().map(|m| m.title.as_str()).collect();
        let path = target(out, LEAVE_ONE_CLASS_OUT_PNG)?;
        heatmap_plot(
            "AUC per variant and held-out class (mean over seeds)",
            &labels,
            &columns,
            &values,
            &path,
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
