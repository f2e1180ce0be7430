//! The registry of bakeoff variants, one module each: the study's nine, then the autoencoder
//! families written for the autograd backend.
//!
//! To add a variant that recombines existing parts: write `variants/my_variant.rs` with
//! `pub fn variant() -> Variant`, and add its module name to the list below. To add a new
//! mechanism: write a family module under `families/` that also declares
//! `pub static FAMILY: Family` (its capabilities, settings and builder; see
//! `families/wasserstein.rs`) and add its name to the list in `families/mod.rs`. Nothing else
//! changes: the CLI, the experiment files and the report pick it up by name.

use crate::families;
use crate::family::Family;
use crate::latent::{BottleneckKind, Capabilities};
use crate::variant::{NetworkKind, Schedule, Variant};

macro_rules! registry {
    ($($variant:ident),* $(,)?) => {
        $(mod $variant;)*

        /// Every registered variant: the study's nine in the study's order, then one per
        /// family.
        pub fn all() -> Vec<Variant> {
            let mut all = vec![$($variant::variant()),*];
            all.extend(families::variants());
            all
        }
    };
}

registry!(
    shallow,
    vanilla,
    stacked,
    sparse,
    denoising,
    vae,
    beta_vae_strict,
    beta_vae_loose,
    vq,
);

/// Every registered family.
pub fn families() -> Vec<&'static Family> {
    families::all()
}

/// The family registered under `name`.
pub fn family(name: &str) -> Option<&'static Family> {
    families().into_iter().find(|f| f.name == name)
}

/// What a variant is and may be, which only the registry knows for a family variant.
impl Variant {
    /// What its models can do (the same in every backend): its family's, or its
    /// bottleneck's. An unregistered family, which [`Variant::validate`] rejects, can do
    /// nothing beyond encoding and decoding.
    pub fn capabilities(&self) -> Capabilities {
        match &self.family {
            None => self.bottleneck.capabilities(),
            Some(spec) => family(&spec.name).map_or(Capabilities::NONE, |f| f.capabilities),
        }
    }

    /// The registered family that builds it, if it names one.
    pub fn registered_family(&self) -> Option<&'static Family> {
        family(&self.family.as_ref()?.name)
    }

    /// Checks the combination is one the engine can train: a registered family with valid
    /// settings that owns the latent (identity bottleneck, joint schedule), or parts that fit.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(spec) = &self.family {
            let family = family(&spec.name).ok_or_else(|| {
                format!(
                    "variant `{}`: unknown family `{}`; known families: {}",
                    self.name,
                    spec.name,
                    families()
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

/// An unknown variant name.
#[derive(Debug, thiserror::Error)]
#[error("unknown variant `{name}`; known variants: {known}")]
pub struct UnknownVariant {
    /// The name asked for.
    pub name: String,
    /// The registered names, comma separated.
    pub known: String,
}

/// The variant registered under `name`.
pub fn by_name(name: &str) -> Result<Variant, UnknownVariant> {
    let all = all();
    all.iter()
        .find(|v| v.name == name)
        .cloned()
        .ok_or_else(|| UnknownVariant {
            name: name.to_string(),
            known: all
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The registered names, in order.
pub fn names() -> Vec<String> {
    all().into_iter().map(|v| v.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latent::BottleneckKind;
    use crate::variant::Schedule;

    /// The runner keys cached results on the serialised variant: the study's nine must
    /// serialise exactly as they did before families existed. These strings are the
    /// `variant` objects of the committed `results/mnist/results.json`.
    #[test]
    fn the_studys_variants_serialise_as_before_families_existed() {
        let pinned = [
            r#"{"name":"shallow","description":"one linear layer each way, identity bottleneck","network":"shallow","bottleneck":{"kind":"identity"},"schedule":"joint","input_noise":null}"#,
            r#"{"name":"vanilla","description":"dense encoder and decoder, identity bottleneck","network":"dense","bottleneck":{"kind":"identity"},"schedule":"joint","input_noise":null}"#,
            r#"{"name":"stacked","description":"dense, trained greedily layer by layer (20/20/20 epochs), identity bottleneck","network":"dense","bottleneck":{"kind":"identity"},"schedule":"greedy_layerwise","input_noise":null}"#,
            r#"{"name":"sparse","description":"dense, sigmoid latent with a KL sparsity penalty (p = 0.25, beta = 1)","network":"dense","bottleneck":{"kind":"sparse","sparsity":0.25,"beta":1.0},"schedule":"joint","input_noise":null}"#,
            r#"{"name":"denoising","description":"dense, trained on inputs with Gaussian noise (sd 0.5, clipped)","network":"dense","bottleneck":{"kind":"identity"},"schedule":"joint","input_noise":0.5}"#,
            r#"{"name":"vae","description":"dense variational autoencoder (beta = 1)","network":"dense","bottleneck":{"kind":"variational","beta":1.0},"schedule":"joint","input_noise":null}"#,
            r#"{"name":"beta_vae_strict","description":"dense beta-VAE with beta = 2","network":"dense","bottleneck":{"kind":"variational","beta":2.0},"schedule":"joint","input_noise":null}"#,
            r#"{"name":"beta_vae_loose","description":"dense beta-VAE with beta = 0.5","network":"dense","bottleneck":{"kind":"variational","beta":0.5},"schedule":"joint","input_noise":null}"#,
            r#"{"name":"vq","description":"dense, vector-quantised latent (512 scalar codes per dimension, beta = 1)","network":"dense","bottleneck":{"kind":"vector_quantized","num_codes":512,"beta":1.0},"schedule":"joint","input_noise":null}"#,
        ];
        for json in pinned {
            let parsed: Variant = serde_json::from_str(json).unwrap();
            let registered = by_name(&parsed.name).unwrap();
            assert_eq!(serde_json::to_string(&registered).unwrap(), json);
            assert_eq!(parsed, registered);
        }
    }

    #[test]
    fn a_family_variant_serialises_its_family_and_reads_back() {
        let v = by_name("wasserstein").unwrap();
        let json = serde_json::to_string(&v).unwrap();
        assert!(
            json.ends_with(r#""family":{"name":"wasserstein","settings":{"weight":10.0}}}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Variant>(&json).unwrap(), v);
    }

    #[test]
    fn every_family_has_one_registered_variant_and_names_are_unique() {
        let all = all();
        for family in families() {
            let built_by = |v: &&Variant| v.family.as_ref().is_some_and(|f| f.name == family.name);
            assert_eq!(all.iter().filter(built_by).count(), 1, "{}", family.name);
            assert!(std::ptr::eq(self::family(family.name).unwrap(), family));
        }
        let mut names = names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().all(|v| v.validate().is_ok()));
    }

    #[test]
    fn family_variants_that_cannot_be_built_are_rejected_naming_why() {
        let base = by_name("wasserstein").unwrap();
        let mut unknown = base.clone();
        unknown.family.as_mut().unwrap().name = "convolutional".into();
        let err = unknown.validate().unwrap_err();
        assert!(
            err.contains("unknown family `convolutional`") && err.contains("tied"),
            "{err}"
        );
        let staged = Variant {
            schedule: Schedule::GreedyLayerwise,
            ..base.clone()
        };
        assert!(staged.validate().unwrap_err().contains("schedule joint"));
        let vq = Variant {
            bottleneck: BottleneckKind::VectorQuantized {
                num_codes: 4,
                beta: 1.0,
            },
            ..base.clone()
        };
        assert!(vq
            .validate()
            .unwrap_err()
            .contains("bottleneck must be identity"));
        let mut extra = base;
        extra
            .family
            .as_mut()
            .unwrap()
            .settings
            .insert("lr".into(), 1.0);
        let err = extra.validate().unwrap_err();
        assert!(
            err.contains("variant `wasserstein`") && err.contains("`lr`"),
            "{err}"
        );
    }
}
