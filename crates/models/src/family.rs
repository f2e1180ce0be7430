//! Autoencoder families written for the autograd backend: what a family module declares to
//! the registry ([`Family`]: name, capabilities, settings, builder) and what a variant says
//! to choose one ([`FamilySpec`]: the family's name and its settings, as data).

use candle_core::Device;
use rand::RngCore;

use crate::latent::Capabilities;
use crate::model::{ModelError, TrainableModel};
use crate::variant::{FamilySpec, Variant};

/// One setting a family reads from its variant.
#[derive(Debug)]
pub struct Setting {
    /// Its key in [`FamilySpec::settings`].
    pub name: &'static str,
    /// The values it accepts, in words ("at least 0").
    pub rule: &'static str,
    /// Whether a value is one of them.
    pub valid: fn(f64) -> bool,
}

impl Setting {
    /// The setting `name`, whose valid values `valid` accepts and `rule` describes.
    pub const fn new(name: &'static str, rule: &'static str, valid: fn(f64) -> bool) -> Self {
        Self { name, rule, valid }
    }
}

/// Builds a family's model for a variant at a latent size, for images of an input size, on a
/// device, drawing every initial weight from the RNG.
pub type Builder = fn(
    &Variant,
    usize,
    usize,
    &Device,
    &mut dyn RngCore,
) -> Result<Box<dyn TrainableModel>, ModelError>;

/// A registered family: one module under `variants/` declares it as `pub static FAMILY`.
#[derive(Debug)]
pub struct Family {
    /// The name variants choose it by.
    pub name: &'static str,
    /// The revision of its numerics, from 1: raised by a change that alters what its models
    /// train to (a checkpoint's bytes), so that its stored jobs are computed anew. From 2 on
    /// it is part of its jobs' keys (revision 1 leaves the keys of earlier results as they
    /// were).
    pub revision: u32,
    /// What its models can do, decided here once.
    pub capabilities: Capabilities,
    /// The settings it reads.
    pub settings: &'static [Setting],
    /// Its builder (the autograd backend calls it for a validated variant).
    pub build: Builder,
}

impl Family {
    /// Checks that `spec` gives every declared setting a valid value and no other setting.
    pub fn check(&self, spec: &FamilySpec) -> Result<(), String> {
        for setting in self.settings {
            match spec.settings.get(setting.name) {
                None => return Err(format!("setting `{}` is missing", setting.name)),
                Some(&v) if !(v.is_finite() && (setting.valid)(v)) => {
                    return Err(format!(
                        "setting `{}` must be {}, got {v}",
                        setting.name, setting.rule
                    ))
                }
                Some(_) => {}
            }
        }
        match spec
            .settings
            .keys()
            .find(|k| self.settings.iter().all(|s| s.name != k.as_str()))
        {
            Some(unknown) => Err(format!(
                "family `{}` has no setting `{unknown}`; its settings: {}",
                self.name,
                self.settings
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None => Ok(()),
        }
    }
}

impl Variant {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_model(
        _: &Variant,
        _: usize,
        _: usize,
        _: &Device,
        _: &mut dyn RngCore,
    ) -> Result<Box<dyn TrainableModel>, ModelError> {
        unreachable!("check never builds")
    }

    static TOY: Family = Family {
        name: "toy",
        revision: 1,
        capabilities: Capabilities {
            can_sample: false,
            stochastic_latent: false,
        },
        settings: &[Setting::new("weight", "at least 0", |v| v >= 0.0)],
        build: no_model,
    };

    #[test]
    fn settings_are_checked_by_name_and_rule() {
        assert_eq!(
            TOY.check(&FamilySpec::new("toy", &[("weight", 0.5)])),
            Ok(())
        );
        let missing = TOY.check(&FamilySpec::new("toy", &[])).unwrap_err();
        assert!(missing.contains("`weight` is missing"), "{missing}");
        let negative = TOY.check(&FamilySpec::new("toy", &[("weight", -1.0)]));
        assert!(negative.unwrap_err().contains("at least 0, got -1"));
        let nan = TOY.check(&FamilySpec::new("toy", &[("weight", f64::NAN)]));
        assert!(nan.unwrap_err().contains("got NaN"));
        let extra = TOY.check(&FamilySpec::new("toy", &[("weight", 1.0), ("lr", 1.0)]));
        let extra = extra.unwrap_err();
        assert!(
            extra.contains("no setting `lr`") && extra.contains("weight"),
            "{extra}"
        );
    }

    #[test]
    fn a_spec_serialises_its_settings_in_key_order() {
        let spec = FamilySpec::new("toy", &[("b", 2.0), ("a", 1.0)]);
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(json, r#"{"name":"toy","settings":{"a":1.0,"b":2.0}}"#);
        assert_eq!(serde_json::from_str::<FamilySpec>(&json).unwrap(), spec);
    }
}
