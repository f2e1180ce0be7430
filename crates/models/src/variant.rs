//! A bakeoff variant as data: a name plus network kind, bottleneck, schedule, input noise
//! and, outside the study's nine, the autoencoder family that builds it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::latent::BottleneckKind;

/// Which encoder/decoder pair a variant uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    /// One `Linear -> ReLU` encoder layer and one `Linear -> sigmoid` decoder layer.
    Shallow,
    /// Three-layer encoder and decoder with BatchNorm (SPEC's dense table).
    Dense,
}

/// How the epochs are spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Every layer trains for every epoch.
    Joint,
    /// The stacked schedule: the epochs split evenly (remainder to the last stage) over the
    /// three depths, outer layers first; layers of earlier stages frozen.
    GreedyLayerwise,
}

/// One configuration of the bakeoff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// Name used on the command line, in tables and file names.
    pub name: String,
    /// One-line description for `--help` and the report.
    pub description: String,
    /// Encoder/decoder kind.
    pub network: NetworkKind,
    /// Bottleneck and its hyper-parameters.
    pub bottleneck: BottleneckKind,
    /// Training schedule.
    pub schedule: Schedule,
    /// Standard deviation of the Gaussian input noise applied in training only (the input
    /// is clipped back to [0, 1]; the loss targets the clean input).
    pub input_noise: Option<f32>,
    /// The autoencoder family that builds it (autograd backend only), with the family's
    /// settings; `None` for a variant built from the parts above, as the study's nine are.
    /// Absent from the serialised form when `None`, so those variants serialise (and key
    /// their cached results) as before families existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<FamilySpec>,
}

impl Variant {
    /// The dense variant `name` built by the family of that name with `settings` (identity
    /// bottleneck, joint schedule, no input noise: the family owns the latent and the
    /// training).
    pub fn of_family(name: &str, description: &str, settings: &[(&str, f64)]) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            network: NetworkKind::Dense,
            bottleneck: BottleneckKind::Identity,
            schedule: Schedule::Joint,
            input_noise: None,
            family: Some(FamilySpec::new(name, settings)),
        }
    }
}

/// Which family builds a variant, with the family's settings; serialised with the variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilySpec {
    /// The family's registered name.
    pub name: String,
    /// Its settings by name (every one the family declares, no other).
    #[serde(default)]
    pub settings: BTreeMap<String, f64>,
}

impl FamilySpec {
    /// The family `name` with `settings`.
    pub fn new(name: &str, settings: &[(&str, f64)]) -> Self {
        Self {
            name: name.to_string(),
            settings: settings.iter().map(|&(k, v)| (k.to_string(), v)).collect(),
        }
    }
}
