//! An experiment file (`experiments/*.toml`): which variants, which dataset, how to train
//! and how to evaluate. Parsed strictly (unknown keys are errors) and validated before any
//! work starts, so a typo never costs a training run. Its sections are plain data of
//! [`ae_results::study`], which the report reads too; this module reads, resolves and
//! validates the file and hands the analysis its [`Study`].

use std::path::{Path, PathBuf};

use ae_data::DatasetName;
use ae_models::variants;
use ae_results::study::{
    AnomalySection, EvaluationSection, GeneralSection, ProbeSection, QualitySection, Study,
    TrainingSection, REFERENCE_ANOMALOUS_DIGIT,
};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// A whole study: the experiment file's contents with every default filled in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Name of the study; the default output directory is `results/<name>`. Defaults to the
    /// file's stem.
    #[serde(default)]
    pub name: String,
    /// Dataset name (`mnist` or `fmnist`).
    pub dataset: String,
    /// Read the IDX files from this directory instead of the dataset's default location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// One seed (the reference: 42); the same as `seeds = [seed]`. Resolved into `seeds` when
    /// the file is loaded, so it is never written back.
    #[serde(default, skip_serializing)]
    pub seed: Option<u64>,
    /// The seeds of the study: each is a whole replicate (split permutation, every training
    /// run, every downstream job), and the tables summarise over them.
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// Variants to compare, in table order: registered names, or names of `definitions`.
    /// Defaults to every registered variant. In the file an entry may also be an inline table
    /// (`{ name = "sparse_p10", base = "sparse", bottleneck = { kind = "sparse", sparsity =
    /// 0.1, beta = 1.0 } }`), which is moved into `definitions` when the file is read.
    #[serde(default = "variants::names")]
    pub variants: Vec<String>,
    /// Variants this file defines (`[[variant]]` tables, or inline in `variants`): a
    /// registered base with some of its parts replaced.
    #[serde(default, rename = "variant", skip_serializing_if = "Vec::is_empty")]
    pub definitions: Vec<VariantDefinition>,
    /// How every autoencoder is trained.
    pub training: TrainingSection,
    /// The general runs (reconstruction, sampling, interpolation, latent structure, probe).
    #[serde(default = "GeneralSection::reference")]
    pub general: GeneralSection,
    /// The anomaly runs (latent structure, anomaly ROC).
    #[serde(default = "AnomalySection::reference")]
    pub anomaly: AnomalySection,
    /// Sizes of the evaluation sets and of the figures.
    #[serde(default)]
    pub evaluation: EvaluationSection,
    /// The linear probe and its baselines.
    #[serde(default)]
    pub probe: ProbeSection,
    /// The instrument classifier and the sample and interpolation quality it measures.
    #[serde(default)]
    pub quality: QualitySection,
    /// The downstream tasks to run, by kind (`reconstruction`, `dead_units`, ...; see
    /// [`crate::task_table::DOWNSTREAM`]); default: every task. A study of some tasks trains
    /// only the models they read (no anomaly models without an anomaly task) and runs the
    /// probe's baselines only with `linear_probe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
}

/// A variant defined in an experiment file: a registered variant (`base`) under a new name
/// with some of its parts replaced; what is not given is the base's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantDefinition {
    /// Its name in tables, file names and `variants`.
    pub name: String,
    /// The registered variant it starts from.
    pub base: String,
    /// One-line description (default: "<base> with <what changed>").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Encoder/decoder kind (`shallow` or `dense`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<ae_models::NetworkKind>,
    /// Bottleneck and its hyper-parameters (`{ kind = "sparse", sparsity = 0.1, beta = 1.0 }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottleneck: Option<ae_models::BottleneckKind>,
    /// Training schedule (`joint` or `greedy_layerwise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ae_models::Schedule>,
    /// Standard deviation of the training input noise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_noise: Option<f32>,
}

impl VariantDefinition {
    /// The variant: the base with the given parts replaced, validated.
    ///
    /// # Errors
    /// An unknown base, a name of a registered variant, or a combination the engine cannot
    /// train.
    pub fn build(&self) -> Result<ae_models::Variant> {
        let mut v = variants::by_name(&self.base).context("base")?;
        if variants::by_name(&self.name).is_ok() {
            bail!(
                "name: `{}` is a registered variant; give the definition another name",
                self.name
            );
        }
        let mut changed = Vec::new();
        if let Some(network) = self.network {
            v.network = network;
            changed.push(format!("network {network:?}"));
        }
        if let Some(bottleneck) = &self.bottleneck {
            v.bottleneck = bottleneck.clone();
            changed.push(format!("bottleneck {bottleneck:?}"));
        }
        if let Some(schedule) = self.schedule {
            v.schedule = schedule;
            changed.push(format!("schedule {schedule:?}"));
        }
        if let Some(noise) = self.input_noise {
            v.input_noise = Some(noise);
            changed.push(format!("input noise {noise}"));
        }
        v.description = self.description.clone().unwrap_or_else(|| {
            format!("{} with {}", self.base, changed.join(", "))
                .trim_end_matches(" with ")
                .to_string()
        });
        v.name = self.name.clone();
        v.validate().map_err(anyhow::Error::msg)?;
        Ok(v)
    }
}

impl Experiment {
    /// Reads, parses and validates an experiment file; every error names the file and, for
    /// invalid values, the key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading experiment file {}", path.display()))?;
        let stem = path
            .file_stem()
            .map_or("experiment".into(), |s| s.to_string_lossy().into_owned());
        Self::from_toml(&text, &stem)
            .with_context(|| format!("invalid experiment file {}", path.display()))
    }

    /// Parses, resolves and validates an experiment from TOML text, named `name` unless the
    /// text names it.
    pub fn from_toml(text: &str, name: &str) -> Result<Self> {
        let mut table: toml::Table = toml::from_str(text)?;
        move_inline_definitions(&mut table)?;
        let mut experiment: Experiment = table.try_into()?;
        if experiment.name.is_empty() {
            experiment.name = name.into();
        }
        experiment.resolve()?;
        experiment.validate()?;
        Ok(experiment)
    }

    /// The variant called `name`: one this file defines, or a registered one.
    ///
    /// # Errors
    /// Neither defines it, or its definition is invalid.
    pub fn variant(&self, name: &str) -> Result<ae_models::Variant> {
        match self.definitions.iter().find(|d| d.name == name) {
            Some(d) => d.build().with_context(|| format!("variant `{name}`")),
            None => Ok(variants::by_name(name)?),
        }
    }

    /// Folds the single-value spellings (`seed`, `anomaly.digit`) into their lists.
    pub fn resolve(&mut self) -> Result<()> {
        match (self.seed.take(), self.seeds.is_empty()) {
            (Some(_), false) => bail!("seed: give `seed` or `seeds`, not both"),
            (Some(seed), true) => self.seeds = vec![seed],
            (None, true) => bail!("seeds: missing (give `seeds = [42, ...]` or `seed = 42`)"),
            (None, false) => {}
        }
        let a = &mut self.anomaly;
        match (a.digit.take(), a.digits.is_empty()) {
            (Some(_), false) => bail!("anomaly.digit: give `digit` or `digits`, not both"),
            (Some(digit), true) => a.digits = vec![digit],
            (None, true) => a.digits = vec![REFERENCE_ANOMALOUS_DIGIT],
            (None, false) => {}
        }
        Ok(())
    }

    /// Whether the study runs the downstream task of `kind`.
    pub fn runs(&self, kind: &str) -> bool {
        self.tasks
            .as_ref()
            .is_none_or(|tasks| tasks.iter().any(|t| t == kind))
    }

    /// Checks every value, naming the key of the first one that is wrong.
    pub fn validate(&self) -> Result<()> {
        if let Some(tasks) = &self.tasks {
            let kinds: Vec<&str> = crate::task_table::DOWNSTREAM
                .iter()
                .map(|t| t.kind)
                .collect();
            if tasks.is_empty() {
                bail!("tasks: name at least one task ({})", kinds.join(", "));
            }
            if let Some(bad) = tasks.iter().find(|t| !kinds.contains(&t.as_str())) {
                bail!("tasks: unknown task `{bad}` (known: {})", kinds.join(", "));
            }
        }
        if self.seeds.is_empty() {
            bail!("seeds: must hold at least one seed");
        }
        for (i, seed) in self.seeds.iter().enumerate() {
            if self.seeds[..i].contains(seed) {
                bail!("seeds[{i}]: seed {seed} is listed twice");
            }
        }
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            bail!(
                "name: must be non-empty letters, digits, `_` or `-`, got {:?}",
                self.name
            );
        }
        let dataset = self.dataset_name()?;
        if dataset.num_classes() != 10 {
            bail!(
                "dataset: `{dataset}` has {} classes, but the probe, the clustering and the \
                 held-out-class runs handle 10 only (its loader works: `bakeoff train`)",
                dataset.num_classes()
            );
        }
        if self.variants.is_empty() {
            bail!("variants: must name at least one variant");
        }
        for (i, d) in self.definitions.iter().enumerate() {
            d.build()
                .with_context(|| format!("variant[{i}] (`{}`)", d.name))?;
            if self.definitions[..i].iter().any(|e| e.name == d.name) {
                bail!("variant[{i}]: `{}` is defined twice", d.name);
            }
        }
        for (i, name) in self.variants.iter().enumerate() {
            self.variant(name)
                .with_context(|| format!("variants[{i}]"))?;
            if self.variants[..i].contains(name) {
                bail!("variants[{i}]: `{name}` is listed twice");
            }
        }
        let t = &self.training;
        positive("training.epochs", t.epochs)?;
        positive("training.batch_size", t.batch_size)?;
        if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
            bail!(
                "training.learning_rate: must be a positive number, got {}",
                t.learning_rate
            );
        }
        if let Some(n) = t.train_subset {
            positive("training.train_subset", n)?;
        }
        latent("general.latent_dim", self.general.latent_dim)?;
        latent("anomaly.latent_dim", self.anomaly.latent_dim)?;
        if self.anomaly.digits.is_empty() {
            bail!("anomaly.digits: must hold at least one digit");
        }
        for (i, &digit) in self.anomaly.digits.iter().enumerate() {
            if digit > 9 {
                bail!("anomaly.digits[{i}]: must be a digit 0-9, got {digit}");
            }
            if self.anomaly.digits[..i].contains(&digit) {
                bail!("anomaly.digits[{i}]: digit {digit} is listed twice");
            }
        }
        for (i, seed) in self.anomaly.every_digit_seeds.iter().enumerate() {
            if !self.seeds.contains(seed) {
                bail!("anomaly.every_digit_seeds[{i}]: seed {seed} is not one of `seeds`");
            }
        }
        let e = &self.evaluation;
        if let Some(n) = e.test_subset {
            // k-means needs one point per cluster; the interpolation needs its two images.
            if n < 10 {
                bail!("evaluation.test_subset: must be at least 10, got {n}");
            }
            for (key, index) in [
                ("evaluation.interpolation_from", e.interpolation_from),
                ("evaluation.interpolation_to", e.interpolation_to),
            ] {
                if index >= n {
                    bail!("{key}: image {index} is outside evaluation.test_subset ({n})");
                }
            }
        }
        if let Some(n) = e.validation_subset {
            positive("evaluation.validation_subset", n)?;
        }
        positive("evaluation.tsne_points", e.tsne_points)?;
        positive("evaluation.interpolation_steps", e.interpolation_steps)?;
        positive("evaluation.samples", e.samples)?;
        let q = &self.quality;
        positive("quality.classifier_epochs", q.classifier_epochs)?;
        if let Some(n) = q.classifier_train_subset {
            positive("quality.classifier_train_subset", n)?;
        }
        if q.sample_draws < 2 {
            bail!(
                "quality.sample_draws: must be at least 2 (a covariance needs two draws), got {}",
                q.sample_draws
            );
        }
        positive("quality.interpolation_pairs", q.interpolation_pairs)?;
        if e.interpolation_steps < 3 {
            bail!(
                "evaluation.interpolation_steps: must be at least 3 (the interpolation quality \
                 scores the frames between the two ends), got {}",
                e.interpolation_steps
            );
        }
        let p = &self.probe;
        positive("probe.batch_size", p.batch_size)?;
        positive("probe.max_epochs", p.max_epochs)?;
        if !(p.learning_rate.is_finite() && p.learning_rate > 0.0) {
            bail!(
                "probe.learning_rate: must be a positive number, got {}",
                p.learning_rate
            );
        }
        if p.l2_grid.is_empty() {
            bail!("probe.l2_grid: must hold at least one strength");
        }
        for (i, l2) in p.l2_grid.iter().enumerate() {
            if !(l2.is_finite() && *l2 > 0.0) {
                bail!("probe.l2_grid[{i}]: must be a positive number, got {l2}");
            }
        }
        Ok(())
    }

    /// The dataset, parsed.
    pub fn dataset_name(&self) -> Result<DatasetName> {
        self.dataset
            .parse::<DatasetName>()
            .context("dataset")
            .map_err(|e| anyhow::anyhow!("{e:#}"))
    }

    /// Keeps only the variants in `only` (in the experiment's order); each must be one of the
    /// experiment's variants.
    pub fn restrict_to(&self, only: &[String]) -> Result<Vec<String>> {
        for name in only {
            if !self.variants.contains(name) {
                variants::by_name(name).with_context(|| format!("--only {name}"))?;
                bail!(
                    "--only {name}: not a variant of experiment `{}` (it has {})",
                    self.name,
                    self.variants.join(", ")
                );
            }
        }
        Ok(self
            .variants
            .iter()
            .filter(|v| only.is_empty() || only.contains(v))
            .cloned()
            .collect())
    }

    /// The study as the tables, findings, figures and report describe it.
    pub fn study(&self) -> Study {
        Study {
            name: self.name.clone(),
            dataset: self.dataset.clone(),
            seeds: self.seeds.clone(),
            samplers: self
                .variants
                .iter()
                .filter(|v| self.variant(v).is_ok_and(|x| x.capabilities().can_sample))
                .cloned()
                .collect(),
            families: self
                .variants
                .iter()
                .filter(|v| self.variant(v).is_ok_and(|x| x.family.is_some()))
                .cloned()
                .collect(),
            training: self.training.clone(),
            general: self.general.clone(),
            anomaly: self.anomaly.clone(),
            evaluation: self.evaluation.clone(),
            probe: self.probe.clone(),
            quality: self.quality.clone(),
        }
    }

    /// The resolved configuration as TOML, as saved beside the results.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}

/// Moves the inline tables of `variants` into the `[[variant]]` definitions, leaving their
/// names in the list; a malformed one is an error naming its index and field.
fn move_inline_definitions(table: &mut toml::Table) -> Result<()> {
    let Some(toml::Value::Array(list)) = table.get_mut("variants") else {
        return Ok(());
    };
    let mut moved = Vec::new();
    for (i, entry) in list.iter_mut().enumerate() {
        if let toml::Value::Table(inline) = entry {
            let definition: VariantDefinition = inline
                .clone()
                .try_into()
                .map_err(|e| anyhow::anyhow!("variants[{i}]: {e}"))?;
            definition
                .build()
                .with_context(|| format!("variants[{i}] (`{}`)", definition.name))?;
            *entry = toml::Value::String(definition.name.clone());
            moved.push(toml::Value::try_from(&definition)?);
        }
    }
    if moved.is_empty() {
        return Ok(());
    }
    match table
        .entry("variant")
        .or_insert_with(|| toml::Value::Array(Vec::new()))
    {
        toml::Value::Array(defined) => defined.extend(moved),
        _ => bail!("variant: must be an array of tables (`[[variant]]`)"),
    }
    Ok(())
}

fn positive(key: &str, value: usize) -> Result<()> {
    if value == 0 {
        bail!("{key}: must be at least 1");
    }
    Ok(())
}

fn latent(key: &str, value: usize) -> Result<()> {
    if value == 0 || value > 512 {
        bail!("{key}: must be between 1 and 512, got {value}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Experiment> {
        let mut e: Experiment = toml::from_str(text)?;
        e.name = "t".into();
        e.resolve()?;
        e.validate()?;
        Ok(e)
    }

    const MINIMAL: &str = "dataset = \"mnist\"\nseed = 1\n[training]\nepochs = 2\n";

    #[test]
    fn defaults_are_the_reference_study() {
        let e = parse(MINIMAL).unwrap();
        assert_eq!(e.variants, variants::names());
        assert_eq!(e.general.latent_dim, 20);
        assert_eq!((e.anomaly.latent_dim, &e.anomaly.digits[..]), (2, &[1][..]));
        assert_eq!(e.seeds, [1]);
        assert_eq!(
            (e.training.batch_size, e.training.learning_rate),
            (256, 1e-3)
        );
        assert_eq!(e.evaluation.interpolation_steps, 130);
        assert_eq!(e.evaluation.reduction, ae_eval::reduction::Reduction::Umap);
        assert_eq!(e.probe.config(), ae_eval::tasks::ProbeConfig::default());
        assert_eq!(
            (e.quality.sample_draws, e.quality.interpolation_pairs),
            (10_000, 100)
        );
        assert_eq!(e.quality.classifier_train_subset, None);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("[general]\nlatent_dim = 0\n", "general.latent_dim"),
            (
                "[anomaly]\nlatent_dim = 2\ndigit = 12\n",
                "anomaly.digits[0]",
            ),
            (
                "[anomaly]\nlatent_dim = 2\ndigits = [3, 3]\n",
                "anomaly.digits[1]",
            ),
            (
                "[anomaly]\nlatent_dim = 2\ndigit = 1\ndigits = [3]\n",
                "anomaly.digit",
            ),
            ("seeds = [4]\n", "seed"),
            ("[probe]\nl2_grid = [0.1, -1.0]\n", "probe.l2_grid[1]"),
            ("variants = [\"vanilla\", \"nope\"]\n", "variants[1]"),
            ("[evaluation]\ntest_subset = 5\n", "evaluation.test_subset"),
            ("[quality]\nsample_draws = 1\n", "quality.sample_draws"),
            (
                "[quality]\ninterpolation_pairs = 0\n",
                "quality.interpolation_pairs",
            ),
            (
                "[quality]\nclassifier_epochs = 0\n",
                "quality.classifier_epochs",
            ),
            (
                "[quality]\nclassifier_train_subset = 0\n",
                "quality.classifier_train_subset",
            ),
            (
                "[evaluation]\ninterpolation_steps = 2\n",
                "evaluation.interpolation_steps",
            ),
        ];
        for (extra, key) in cases {
            let text = format!("{MINIMAL}{extra}").replace("[training]\nepochs = 2\n", "")
                + "[training]\nepochs = 2\n";
            let err = format!("{:#}", parse(&text).unwrap_err());
            assert!(err.contains(key), "{key}: {err}");
        }
        let err = format!(
            "{:#}",
            parse(&MINIMAL.replace("epochs = 2", "epochs = 0")).unwrap_err()
        );
        assert!(err.contains("training.epochs"), "{err}");
        let err = format!("{:#}", parse(&format!("{MINIMAL}epoch = 3\n")).unwrap_err());
        assert!(err.contains("epoch"), "{err}");
        let err = format!(
            "{:#}",
            parse(&MINIMAL.replace("mnist", "cifar")).unwrap_err()
        );
        assert!(err.contains("dataset") && err.contains("cifar"), "{err}");
        // An unknown reduction is a parse error that shows the key's line and the choices.
        let err = format!(
            "{:#}",
            parse(&format!("{MINIMAL}[evaluation]\nreduction = \"pca\"\n")).unwrap_err()
        );
        assert!(
            err.contains("reduction = \"pca\"") && err.contains("`umap` or `tsne`"),
            "{err}"
        );
        let e = parse(&format!("{MINIMAL}[evaluation]\nreduction = \"tsne\"\n")).unwrap();
        assert_eq!(e.evaluation.reduction, ae_eval::reduction::Reduction::Tsne);
    }

    #[test]
    fn inline_variants_are_defined_by_their_base_and_what_they_replace() {
        let text = MINIMAL.replace(
            "seed = 1\n",
            "seed = 1\nvariants = [\"vanilla\", { name = \"sparse_p10\", base = \"sparse\", \
             bottleneck = { kind = \"sparse\", sparsity = 0.1, beta = 1.0 } }]\n",
        );
        let e = Experiment::from_toml(&text, "t").unwrap();
        assert_eq!(e.variants, ["vanilla", "sparse_p10"]);
        let v = e.variant("sparse_p10").unwrap();
        let sparse = variants::by_name("sparse").unwrap();
        assert_eq!(
            v.bottleneck,
            ae_models::BottleneckKind::Sparse {
                sparsity: 0.1,
                beta: 1.0
            }
        );
        assert_eq!((v.network, v.schedule), (sparse.network, sparse.schedule));
        assert!(
            v.description.starts_with("sparse with bottleneck"),
            "{}",
            v.description
        );
        // The saved configuration reads back the same ([[variant]] tables).
        let saved = e.to_toml().unwrap();
        assert!(saved.contains("[[variant]]"), "{saved}");
        assert_eq!(Experiment::from_toml(&saved, "t").unwrap(), e);

        let errors = [
            (
                text.replace("base = \"sparse\"", "base = \"sprase\""),
                "variants[1] (`sparse_p10`): base",
            ),
            (
                text.replace("sparsity = 0.1", "sparsty = 0.1"),
                "variants[1]",
            ),
            (
                text.replace("name = \"sparse_p10\"", "name = \"sparse\""),
                "registered variant",
            ),
            (
                text.replace("\"vanilla\", {", "\"sparse_p11\", {"),
                "variants[0]",
            ),
        ];
        for (bad, key) in errors {
            let err = format!("{:#}", Experiment::from_toml(&bad, "t").unwrap_err());
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn a_dataset_of_other_than_ten_classes_is_refused_naming_it() {
        let text = MINIMAL.replace("\"mnist\"", "\"emnist-letters\"");
        let err = format!("{:#}", Experiment::from_toml(&text, "t").unwrap_err());
        assert!(
            err.contains("dataset: `emnist-letters` has 26 classes"),
            "{err}"
        );
        let kmnist = MINIMAL.replace("\"mnist\"", "\"kmnist\"");
        assert!(Experiment::from_toml(&kmnist, "t").is_ok());
    }

    #[test]
    fn seed_lists_and_digit_lists() {
        let e = parse(&MINIMAL.replace("seed = 1", "seeds = [42, 43]")).unwrap();
        assert_eq!(e.seeds, [42, 43]);
        let err = parse(&MINIMAL.replace("seed = 1", "seeds = [42, 42]")).unwrap_err();
        assert!(format!("{err:#}").contains("seeds[1]"), "{err:#}");
        let err = parse(&MINIMAL.replace("seed = 1\n", "")).unwrap_err();
        assert!(format!("{err:#}").contains("seeds"), "{err:#}");
        let e = parse(&format!(
            "{MINIMAL}[anomaly]\nlatent_dim = 2\ndigits = [0, 7]\n"
        ))
        .unwrap();
        assert_eq!(e.anomaly.digits, [0, 7]);
        assert_eq!(e.anomaly.primary_digit(), 0);
        let e = parse(&format!(
            "{MINIMAL}[anomaly]\nlatent_dim = 2\ndigits = [0, 1]\n"
        ))
        .unwrap();
        assert_eq!(e.anomaly.primary_digit(), 1);
    }

    #[test]
    fn resolved_configuration_round_trips() {
        let e = parse(MINIMAL).unwrap();
        let mut back: Experiment = toml::from_str(&e.to_toml().unwrap()).unwrap();
        back.resolve().unwrap();
        assert_eq!(back, e);
    }
}
