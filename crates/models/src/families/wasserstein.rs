//! The `wasserstein` family (Tolstikhin et al. 2018, WAE-MMD): a dense autoencoder whose
//! objective adds `weight * MMD(z, z~)`, the unbiased estimate of the squared maximum mean
//! discrepancy between the batch's codes `z` and as many draws `z~` of the prior N(0, I),
//! with the inverse multiquadratic kernel `k(a, b) = C / (C + ||a - b||^2)`,
//! `C = 2 * latent_dim` (the paper's `2 d sigma^2` with `sigma^2 = 1`) and the paper's
//! weight 10. It samples by decoding prior draws.

use crate::autograd::ops::imq_mmd;
use crate::families::prelude::*;

/// dense Wasserstein autoencoder, MMD penalty between the codes and N(0, I) (weight 10).
pub fn variant() -> Variant {
    let description =
        "dense Wasserstein autoencoder, MMD penalty between the codes and N(0, I) (weight 10)";
    Variant::of_family("wasserstein", description, &[("weight", 10.0)])
}

/// Samples from N(0, I), a deterministic latent; `weight` weighs the MMD.
pub static FAMILY: Family = Family {
    name: "wasserstein",
    // 2: the MMD as one node (`ops::imq_mmd`).
    revision: 2,
    capabilities: Capabilities::SAMPLES,
    settings: &[Setting::new("weight", "at least 0", |v| v >= 0.0)],
    build: |variant, latent_dim, input_dim, device, rng| {
        let parts = Parts::new(&FAMILY, variant, latent_dim, input_dim, device, rng)?;
        Ok(Box::new(OneAdam::new(Wasserstein::new(parts)?)))
    },
};

/// The Wasserstein autoencoder (trained by one Adam: [`OneAdam`]).
#[derive(Debug)]
struct Wasserstein {
    parts: Parts,
    weight: f64,
}

impl Wasserstein {
    fn new(parts: Parts) -> Result<Self> {
        let weight = parts.variant.setting("weight")?;
        Ok(Self { parts, weight })
    }
}

impl FamilyModel for Wasserstein {
    fn parts(&self) -> &Parts {
        &self.parts
    }

    fn objective(&self, x: &Tensor, train: bool, rng: &mut dyn RngCore) -> Result<Objective> {
        let mut objective = self.parts.autoencode(x, train, rng, &|e| Ok(e.clone()))?;
        let prior = self.parts.prior(objective.latent.dim(0)?, rng)?;
        let penalty = (imq_mmd(&objective.latent, &prior)? * self.weight)?;
        objective.regularizers.push(("mmd", penalty));
        Ok(objective)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn scalar(t: &Tensor) -> f64 {
        f64::from(t.to_scalar::<f32>().unwrap())
    }

    #[test]
    fn the_penalty_is_the_weighted_mmd_against_prior_draws_from_the_rng() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let parts = Parts::new(&FAMILY, &variant(), 2, 16, &Device::Cpu, &mut rng).unwrap();
        let m = Wasserstein::new(parts).unwrap();
        let x = m.parts.batch(&[0.5; 4 * 16]).unwrap();
        let mut replay = rng.clone();
        let objective = m.objective(&x, false, &mut rng).unwrap();
        let prior = m.parts.prior(4, &mut replay).unwrap();
        let expected = scalar(&(imq_mmd(&objective.latent, &prior).unwrap() * 10.0).unwrap());
        let terms = objective.terms().unwrap();
        assert_eq!(terms.regularizers, [("mmd".to_string(), expected)]);
    }
}
