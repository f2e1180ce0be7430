//! A bakeoff variant as data: a name plus network kind, bottleneck, schedule, input noise
//! and, outside the study's nine, the autoencoder family that builds it.

use serde::{Deserialize, Serialize};

use crate::bottleneck::BottleneckKind;
use crate::family::{Family, FamilySpec};
use crate::model::{Capabilities, ModelError};
use crate::variants;

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
    /// What its models can do (the same in every backend): its family's, or its
    /// bottleneck's. An unregistered family, which [`Variant::validate`] rejects, can do
    /// nothing beyond encoding and decoding.
    pub fn capabilities(&self) -> Capabilities {
        match &self.family {
            None => self.bottleneck.capabilities(),
            Some(spec) => {
                variants::family(&spec.name).map_or(Capabilities::NONE, |f| f.capabilities)
            }
        }
    }

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

    /// The registered family that builds it, if it names one.
    pub fn registered_family(&self) -> Option<&'static Family> {
        variants::family(&self.family.as_ref()?.name)
    }

    /// The value of its family's setting `name`.
    pub fn setting(&self, name: &str) -> Result<f64, ModelError> {
        self.family
            .as_ref()
            .and_then(|spec| spec.settings.get(name).copied())
            .ok_or_else(|| ModelError::MissingSetting {
                variant: self.name.clone(),
                setting: name.to_string(),
            })
    }

    /// Checks the combination is one the engine can train: a registered family with valid
    /// settings that owns the latent (identity bottleneck, joint schedule), or parts that fit.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(spec) = &self.family {
            let family = variants::family(&spec.name).ok_or_else(|| {
                format!(
                    "variant `{}`: unknown family `{}`; known families: {}",
                    self.name,
                    spec.name,
                    variants::families()
                        .iter()
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            if self.bottleneck != BottleneckKind::Identity || self.schedule != Schedule::Joint {
                return Err(format!(
                    "variant `{}`: family `{}` forms its own latent code and trains jointly; \
                     its bottleneck must be identity and its schedule joint",
                    self.name, spec.name
                ));
            }
            family
                .check(spec)
                .map_err(|e| format!("variant `{}`: {e}", self.name))?;
        }
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
