//! Choosing a backend for a variant, and building the variant's model in it.
//!
//! `fused` is the hand-written engine ([`crate::Autoencoder`]): fast, for the variants it
//! implements. `autograd` is candle-nn with automatic differentiation: every variant, the
//! study's nine written from their description ([`crate::autograd::AutogradModel`]) and the
//! families by their own modules ([`crate::family::Family`]). Both backends draw their
//! initial weights and every random number from the caller's seeded RNG, in the same order
//! where both implement a variant.

use std::path::Path;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::autograd::AutogradModel;
use crate::fused::autoencoder::Autoencoder;
use crate::latent::BottleneckKind;
use crate::model::{Backend, ModelError, TrainableModel};
use crate::variant::Variant;

impl Backend {
    /// Whether this backend implements `variant`: the autograd backend every variant built
    /// from parts and every registered family, the fused engine the variants built from
    /// parts it has.
    pub fn supports(self, variant: &Variant) -> bool {
        match (self, &variant.family) {
            (Self::Autograd, None) => true,
            (Self::Autograd, Some(_)) => variant.registered_family().is_some(),
            (Self::Fused, family) => family.is_none() && has_fused(variant),
        }
    }

    /// The backend a variant trains with unless told otherwise: fused where it exists.
    pub fn default_for(variant: &Variant) -> Self {
        if Self::Fused.supports(variant) {
            Self::Fused
        } else {
            Self::Autograd
        }
    }
}

/// Whether the fused engine implements the variant's parts. The match is exhaustive so that
/// a new bottleneck kind has to decide.
fn has_fused(variant: &Variant) -> bool {
    match variant.bottleneck {
        BottleneckKind::Identity
        | BottleneckKind::Sparse { .. }
        | BottleneckKind::Variational { .. }
        | BottleneckKind::VectorQuantized { .. } => true,
    }
}

/// Builds `variant` at `latent_dim` for images of `input_dim` pixels in `backend`, drawing
/// the initial weights from `rng` (PyTorch's default initialisation; the same draws in
/// either backend). A family variant is validated, then built by its family.
pub fn build(
    variant: &Variant,
    latent_dim: usize,
    input_dim: usize,
    backend: Backend,
    rng: &mut dyn RngCore,
) -> Result<Box<dyn TrainableModel>, ModelError> {
    if !backend.supports(variant) {
        return Err(ModelError::Unavailable {
            variant: variant.name.clone(),
            backend,
        });
    }
    Ok(match backend {
        Backend::Fused => Box::new(Autoencoder::new(
            variant,
            latent_dim,
            input_dim,
            &mut &mut *rng,
        )),
        Backend::Autograd if variant.family.is_some() => {
            variant.validate().map_err(ModelError::InvalidVariant)?;
            let family = variant.registered_family().expect("supported: registered");
            (family.build)(
                variant,
                latent_dim,
                input_dim,
                &crate::autograd::device()?,
                rng,
            )?
        }
        Backend::Autograd => Box::new(AutogradModel::new(
            variant,
            latent_dim,
            input_dim,
            &crate::autograd::device()?,
            rng,
        )?),
    })
}

/// Builds `variant` in `backend` and loads its tensors from the checkpoint at `path`
/// (written by either backend).
pub fn load(
    variant: &Variant,
    latent_dim: usize,
    input_dim: usize,
    backend: Backend,
    path: &Path,
) -> Result<Box<dyn TrainableModel>, ModelError> {
    // Every tensor is overwritten, so the initial draws do not matter.
    let mut model = build(
        variant,
        latent_dim,
        input_dim,
        backend,
        &mut ChaCha8Rng::seed_from_u64(0),
    )?;
    model.load(path)?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for b in Backend::ALL {
            assert_eq!(b.name().parse::<Backend>().unwrap(), b);
            assert_eq!(serde_json::to_string(&b).unwrap(), format!("\"{b}\""));
        }
        let err = "gpu".parse::<Backend>().unwrap_err().to_string();
        assert!(err.contains("gpu") && err.contains("fused") && err.contains("autograd"));
    }

    #[test]
    fn every_registered_variant_defaults_to_a_backend_that_supports_it() {
        for v in crate::variants::all() {
            assert!(Backend::Autograd.supports(&v), "{}", v.name);
            assert!(Backend::default_for(&v).supports(&v), "{}", v.name);
        }
        let vanilla = crate::variants::by_name("vanilla").unwrap();
        assert_eq!(Backend::default_for(&vanilla), Backend::Fused);
    }

    #[test]
    fn families_are_autograd_only_and_unknown_ones_unsupported() {
        let families: Vec<_> = crate::variants::all()
            .into_iter()
            .filter(|v| v.family.is_some())
            .collect();
        assert!(!families.is_empty());
        for v in &families {
            assert!(!Backend::Fused.supports(v), "{}", v.name);
            assert_eq!(Backend::default_for(v), Backend::Autograd, "{}", v.name);
        }
        let mut unknown = families[0].clone();
        unknown.family.as_mut().unwrap().name = "nonesuch".into();
        assert!(!Backend::Autograd.supports(&unknown));
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let err = build(&unknown, 2, 16, Backend::Autograd, &mut rng).unwrap_err();
        assert!(err.to_string().contains("has no autograd"), "{err}");
        let err = build(&families[0], 2, 16, Backend::Fused, &mut rng).unwrap_err();
        assert!(err.to_string().contains("has no fused"), "{err}");
    }

    #[test]
    fn an_invalid_family_variant_is_an_error_naming_the_setting() {
        let mut v = crate::variants::by_name("contractive").unwrap();
        v.family
            .as_mut()
            .unwrap()
            .settings
            .insert("lambda".into(), -1.0);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let err = build(&v, 2, 16, Backend::Autograd, &mut rng).unwrap_err();
        assert!(err.to_string().contains("`lambda`"), "{err}");
    }
}
