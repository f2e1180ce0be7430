//! A bakeoff variant as data: a name plus network kind, bottleneck, schedule and input noise.

use serde::{Deserialize, Serialize};

use crate::bottleneck::BottleneckKind;
use crate::model::Capabilities;

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
}

impl Variant {
    /// What its models can do (the same in every backend).
    pub fn capabilities(&self) -> Capabilities {
        self.bottleneck.capabilities()
    }

    /// Whether the variant can draw samples from a prior over its latent space.
    pub fn can_sample(&self) -> bool {
        self.capabilities().can_sample
    }

    /// Checks the combination is one the engine can train.
    pub fn validate(&self) -> Result<(), String> {
        if self.schedule == Schedule::GreedyLayerwise
            && (self.network != NetworkKind::Dense || self.bottleneck != BottleneckKind::Identity)
        {
            return Err(format!(
                "variant `{}`: the greedy layer-wise schedule needs a dense network and the identity bottleneck",
                self.name
            ));
        }
        if let Some(noise) = self.input_noise {
            if !(noise.is_finite() && noise > 0.0) {
                return Err(format!(
                    "variant `{}`: input_noise must be a positive number, got {noise}",
                    self.name
                ));
            }
        }
        Ok(())
    }
}
