//! What the instrument classifier measures, as tables and as the report's section on it:
//! the quality of each variant's samples (Fréchet classifier distance, confidence, variety of
//! the predicted classes) and of its interpolations (inner-frame confidence, evenness of the
//! path), per seed with their summaries like every other per-seed table.

use std::fmt::Write as _;

use crate::figures;
use crate::table_name::TableName;
use crate::tables::{col, seeds_note, variant_rows, MetricTable};
use ae_results::metrics::Metric;
use ae_results::study_results::StudyResults;

/// Both tables.
pub fn tables(results: &StudyResults) -> Vec<MetricTable> {
    vec![sample_quality(results), interpolation_quality(results)]
}

/// Where the floor and the real images' figures come from, for the captions.
fn classifier_note(results: &StudyResults) -> String {
    match &results.classifier {
        Some(c) => format!(
            "Two sets of real images (the {} test images and as many images of the \
             classifier's training split) are {:.2} apart, the floor; on the test images the \
             classifier's mean confidence is {:.4} and the entropy of its predicted classes \
             {:.3} nats.",
            c.test_images, c.frechet_floor, c.test_confidence, c.test_class_entropy
        ),
        None => "The classifier has no result yet.".into(),
    }
}

/// Sample quality of the general models (sampling variants only).
pub fn sample_quality(results: &StudyResults) -> MetricTable {
    let q = &results.study.quality;
    MetricTable {
        name: TableName::SampleQuality,
        title: "Sample quality".into(),
        caption: format!(
            "{} prior draws of each latent-{} model, decoded and judged by the reference \
             classifier. `fcd`: Fréchet classifier distance (FCD, the MNIST analogue of FID) \
             between the classifier's penultimate-layer features of the samples and of the \
             test images (lower is better). `mean_confidence`: the classifier's mean largest \
             softmax probability on the samples (higher: more recognisable). `class_entropy`: \
             entropy in nats of the histogram of the predicted classes (variety; ln 10 = \
             2.303 is uniform). {} {}",
            q.sample_draws,
            results.study.general.latent_dim,
            classifier_note(results),
            seeds_note(results)
        ),
        seeds: results.seeds.iter().map(|s| s.seed).collect(),
        metrics: vec![
            col("fcd", "FCD", 2),
            col("mean_confidence", "mean confidence", 4),
            col("class_entropy", "class entropy (nats)", 3),
        ],
        rows: variant_rows(results, 3, |v| {
            [
                Metric::FrechetDistance,
                Metric::SampleConfidence,
                Metric::SampleClassEntropy,
            ]
            .map(|m| m.of(v))
            .to_vec()
        }),
    }
}

/// Interpolation quality of the general models.
pub fn interpolation_quality(results: &StudyResults) -> MetricTable {
    let e = &results.study;
    let steps = e.evaluation.interpolation_steps;
    MetricTable {
        name: TableName::InterpolationQuality,
        title: "Interpolation quality".into(),
        caption: format!(
            "{} seeded pairs of test images of different classes, each interpolated by the \
             latent-{} model in {steps} frames as the interpolation task does it (sampled \
             latents). `inner_confidence`: the reference classifier's mean confidence on the \
             frames between the two ends, averaged over the pairs (higher: the frames look like \
             digits). `max_step_fraction`: the largest pixel-space step between consecutive \
             frames divided by the path's whole length, averaged over the pairs ({:.4} = 1 / \
             {} is a perfectly even path, 1 a single jump). {}",
            e.quality.interpolation_pairs,
            e.general.latent_dim,
            1.0 / (steps - 1) as f64,
            steps - 1,
            seeds_note(results)
        ),
        seeds: results.seeds.iter().map(|s| s.seed).collect(),
        metrics: vec![
            col("inner_confidence", "inner-frame confidence", 4),
            col("max_step_fraction", "largest step / path length", 4),
        ],
        rows: variant_rows(results, 2, |v| {
            vec![
                Metric::InnerFrameConfidence.of(v),
                Metric::LargestStep.of(v),
            ]
        }),
    }
}

/// The report's section on the measured sample and interpolation quality: the instrument,
/// then each table with its CSVs and its plot over the seeds.
pub fn report_section(results: &StudyResults, tables: &[MetricTable]) -> String {
    let mut out = String::from("## Sample and interpolation quality, measured\n\n");
    let e = &results.study;
    let q = &e.quality;
    let _ = match &results.classifier {
        Some(c) => writeln!(
            out,
            "Samples and interpolation frames are judged by an instrument, not a contestant: a \
             reference classifier of `{}` trained once on {} labelled images of its own split \
             of the training set, with its own fixed seed {} (the same classifier for every \
             seed of the study): {}. Its test accuracy is **{:.2}%** on the {} test images.\n",
            e.dataset,
            c.train_images,
            c.seed,
            c.architecture,
            100.0 * c.test_accuracy,
            c.test_images
        ),
        None => writeln!(
            out,
            "Samples and interpolation frames are judged by an instrument, a reference \
             classifier trained once with its own fixed seed {} (the same for every seed of \
             the study); it has no result yet.\n",
            q.classifier_seed
        ),
    };
    for (name, image, alt) in [
        (
            TableName::SampleQuality,
            figures::SAMPLE_QUALITY_SEEDS_PNG,
            "Fréchet classifier distance over seeds",
        ),
        (
            TableName::InterpolationQuality,
            figures::INTERPOLATION_QUALITY_SEEDS_PNG,
            "interpolation quality over seeds",
        ),
    ] {
        let Some(t) = tables.iter().find(|t| t.name == name) else {
            continue;
        };
        let _ = write!(
            out,
            "### {}\n\n{}\n\n{}\nAlso as CSV: [per seed](tables/{name}.csv), \
             [summary](tables/{name}_summary.csv).\n\n",
            t.title,
            t.caption,
            t.display().to_markdown()
        );
        // The plot exists from two seeds on, where some variant has a value.
        let measured = t
            .rows
            .iter()
            .any(|r| r.values.iter().flatten().any(Option::is_some));
        if results.seeds.len() > 1 && measured {
            let _ = writeln!(out, "![{alt}]({image})\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::with_bce;
    use ae_results::quality::{ClassifierResult, InterpolationQuality, SampleQuality};

    #[test]
    fn the_tables_and_the_section_show_the_measures_and_the_instrument() {
        let mut results = with_bce(&[("vanilla", &[1.0, 2.0]), ("vae", &[1.0, 2.0])]);
        for (s, seed) in results.seeds.iter_mut().enumerate() {
            let vae = &mut seed.variants[1];
            vae.sample_quality = Some(SampleQuality {
                frechet_distance: 10.0 + s as f64,
                mean_confidence: 0.9,
                class_entropy: 2.0,
                draws: 100,
            });
            for v in &mut seed.variants {
                v.interpolation_quality = Some(InterpolationQuality {
                    mean_inner_confidence: 0.5,
                    max_step_fraction: 0.25,
                    pairs: 3,
                });
            }
        }
        let samples = sample_quality(&results);
        let long = String::from_utf8(samples.long().to_csv().unwrap()).unwrap();
        assert_eq!(
            long,
            "variant,seed,fcd,mean_confidence,class_entropy\n\
             vanilla,1,,,\nvanilla,2,,,\nvae,1,10.00,0.9000,2.000\nvae,2,11.00,0.9000,2.000\n"
        );
        let section = report_section(&results, &tables(&results));
        assert!(section.contains("it has no result yet"), "{section}");
        results.classifier = Some(ClassifierResult {
            test_accuracy: 0.9912,
            frechet_floor: 0.5,
            test_confidence: 0.98,
            test_class_entropy: 2.3,
            test_images: 10_000,
            train_images: 55_000,
            seed: 0,
            architecture: "MLP".into(),
            train_losses: vec![0.1],
            train_seconds: 50.0,
        });
        let section = report_section(&results, &tables(&results));
        for needle in [
            "**99.12%** on the 10000 test images",
            "fixed seed 0",
            "the same classifier for every seed",
            "are 0.50 apart, the floor",
            "| vae | 10.50 ± 6.35 | 0.9000 ± 0.0000 | 2.000 ± 0.000 |",
            "| vanilla | 0.5000 ± 0.0000 | 0.2500 ± 0.0000 |",
            "(tables/interpolation_quality_summary.csv)",
            "![interpolation quality over seeds](seeds_interpolation_quality.png)",
        ] {
            assert!(section.contains(needle), "{needle:?} missing:\n{section}");
        }
    }
}
