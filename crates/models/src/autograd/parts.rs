//! What the autograd families share, so that a family module holds only its mechanism:
//! [`Parts`] (an encoder and decoder in one var map, the batch, input noise, the
//! reconstruction loss, prior draws), [`Objective`] (a batch's loss terms as tensors),
//! [`ParamGroup`] (Adam over the parameters under some key prefixes) and [`FamilyModel`],
//! whose every implementation is a [`Model`]. Checkpoint helpers serve the study's variants'
//! [`super::AutogradModel`] too.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{ModuleT, VarBuilder, VarMap};
use rand::RngCore;

use super::network::Network;
use super::ops::{Adam, Stack};
use super::scalar;
use super::spec::{decoder_spec, encoder_spec, BlockSpec};
use crate::checkpoint::{self, io_error, CheckpointError};
use crate::config::TrainingConfig;
use crate::family::Family;
use crate::kernels::noise;
use crate::kernels::noise::standard_normal_prior;
use crate::latent::Capabilities;
use crate::latent::LatentMode;
use crate::model::Backend;
use crate::model::{check_rows, LossTerms, Model, ModelError, TrainableModel};
use crate::model::{Losses, INFERENCE_CHUNK};
use crate::variant::Variant;

/// Builds a decoder from its block specs, given the encoder, the var map, a builder under
/// `decoder` and the RNG to draw from.
pub type DecoderBuilder<'a> = &'a dyn Fn(
    &[BlockSpec],
    &Network,
    &VarMap,
    VarBuilder,
    &mut dyn RngCore,
) -> candle_core::Result<Network>;

/// A family's encoder and decoder (the variant's network kind, `input -> latent -> input`)
/// with their parameters in one var map, named as the study's variants name theirs.
pub struct Parts {
    /// The variant built.
    pub variant: Variant,
    /// What its family's models can do (the family declares it).
    pub capabilities: Capabilities,
    /// Size of the latent code (and of the encoder's output).
    pub latent_dim: usize,
    /// Pixels per image.
    pub input_dim: usize,
    /// Where the tensors live.
    pub device: Device,
    /// Every tensor by checkpoint key.
    pub varmap: VarMap,
    /// `encoder.*`.
    pub encoder: Network,
    /// `decoder.*`; its output is logits.
    pub decoder: Network,
    /// The encoder's and the decoder's blocks.
    specs: [Vec<BlockSpec>; 2],
    /// The encoder and the decoder as fused stacks, which training runs in their place
    /// ([`Parts::with_fused_stacks`]).
    stacks: Option<[Stack; 2]>,
    /// Every stack whose gradients an optimizer collects: those two and the family's own
    /// ([`Parts::stack`]).
    trained_stacks: Vec<Stack>,
}

impl Parts {
    /// The variant's encoder and decoder, weights drawn from `rng` in order (encoder blocks,
    /// then decoder blocks) with PyTorch's initialisation.
    pub fn new(
        family: &Family,
        variant: &Variant,
        latent_dim: usize,
        input_dim: usize,
        device: &Device,
        rng: &mut dyn RngCore,
    ) -> Result<Self, ModelError> {
        let encoder = encoder_spec(variant.network, input_dim, latent_dim);
        let decoder = decoder_spec(variant.network, latent_dim, input_dim);
        let dims = (latent_dim, input_dim);
        Self::with_specs(family, variant, dims, device, rng, &encoder, &decoder)
    }

    /// As [`Parts::new`], with the decoder built by `decoder`.
    pub fn with_decoder(
        family: &Family,
        variant: &Variant,
        latent_dim: usize,
        input_dim: usize,
        device: &Device,
        rng: &mut dyn RngCore,
        decoder: DecoderBuilder,
    ) -> Result<Self, ModelError> {
        let encoder = encoder_spec(variant.network, input_dim, latent_dim);
        let specs = (
            encoder.as_slice(),
            &decoder_spec(variant.network, latent_dim, input_dim)[..],
        );
        Self::build(
            family,
            variant,
            (latent_dim, input_dim),
            device,
            rng,
            specs,
            decoder,
        )
    }

    /// A family's own encoder and decoder blocks (`input_dim -> latent_dim -> input_dim`,
    /// the decoder's output is logits), weights drawn from `rng` in order.
    pub fn with_specs(
        family: &Family,
        variant: &Variant,
        dims: (usize, usize),
        device: &Device,
        rng: &mut dyn RngCore,
        encoder: &[BlockSpec],
        decoder: &[BlockSpec],
    ) -> Result<Self, ModelError> {
        let plain: DecoderBuilder = &|spec, _, varmap, vb, rng| Network::new(spec, varmap, vb, rng);
        Self::build(
            family,
            variant,
            dims,
            device,
            rng,
            (encoder, decoder),
            plain,
        )
    }

    /// The encoder of `specs.0` and the decoder of `specs.1`, built by `decoder`, in a fresh
    /// var map.
    fn build(
        family: &Family,
        variant: &Variant,
        (latent_dim, input_dim): (usize, usize),
        device: &Device,
        rng: &mut dyn RngCore,
        specs: (&[BlockSpec], &[BlockSpec]),
        decoder: DecoderBuilder,
    ) -> Result<Self, ModelError> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let encoder = Network::new(specs.0, &varmap, vb.pp("encoder"), rng)?;
        let decoder = decoder(specs.1, &encoder, &varmap, vb.pp("decoder"), rng)?;
        Ok(Self {
            variant: variant.clone(),
            capabilities: family.capabilities,
            latent_dim,
            input_dim,
            device: device.clone(),
            varmap,
            encoder,
            decoder,
            specs: [specs.0.to_vec(), specs.1.to_vec()],
            stacks: None,
            trained_stacks: Vec::new(),
        })
    }

    /// The same parts, trained through the encoder and the decoder as fused stacks
    /// ([`Stack`]: one graph node each, the fused engine's arithmetic); evaluation keeps the
    /// candle modules. For a family whose graph needs no gradient of a weight (a tied or a
    /// contractive one does).
    ///
    /// # Errors
    /// If a block is a convolution, or the variant trains in stages.
    pub fn with_fused_stacks(mut self) -> Result<Self, ModelError> {
        if self.variant.schedule != crate::variant::Schedule::Joint {
            return Err(ModelError::InvalidVariant(format!(
                "variant `{}` trains in stages, which fused stacks do not run",
                self.variant.name
            )));
        }
        let [encoder, decoder] = [("encoder", 0), ("decoder", 1)]
            .map(|(prefix, i)| Stack::new(&self.specs[i], prefix, &self.varmap));
        let stacks = [encoder?, decoder?];
        self.trained_stacks.extend(stacks.iter().cloned());
        self.stacks = Some(stacks);
        Ok(self)
    }

    /// Another network of `spec` under `prefix` in the same var map (a discriminator), its
    /// weights drawn from `rng`, as a fused stack whose gradients the optimizers collect.
    ///
    /// # Errors
    /// If a block is a convolution.
    pub fn stack(
        &mut self,
        prefix: &str,
        spec: &[BlockSpec],
        rng: &mut dyn RngCore,
    ) -> Result<Stack, ModelError> {
        self.network(prefix, spec, rng)?;
        let stack = Stack::new(spec, prefix, &self.varmap)?;
        self.trained_stacks.push(stack.clone());
        Ok(stack)
    }

    /// Moves the parameter gradients that the stacks' backward passes left into `grads`.
    pub fn add_stack_gradients(
        &self,
        grads: &mut candle_core::backprop::GradStore,
    ) -> Result<(), ModelError> {
        for stack in &self.trained_stacks {
            stack.add_gradients(grads)?;
        }
        Ok(())
    }

    /// The encoder (`which` 0) or the decoder (1) on `x`: its fused stack in training where
    /// there is one, the candle modules otherwise.
    fn run(&self, which: usize, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        match (&self.stacks, train) {
            (Some(stacks), true) => stacks[which].forward(x),
            _ => [&self.encoder, &self.decoder][which].forward_t(x, train),
        }
    }

    /// Another network of `spec` under `prefix` in the same var map (a discriminator), its
    /// weights drawn from `rng`.
    pub fn network(
        &self,
        prefix: &str,
        spec: &[BlockSpec],
        rng: &mut dyn RngCore,
    ) -> Result<Network, ModelError> {
        let vb = VarBuilder::from_varmap(&self.varmap, DType::F32, &self.device);
        Ok(Network::new(spec, &self.varmap, vb.pp(prefix), rng)?)
    }

    /// Overwrites the tensor stored under `name` with `values` (row-major, its shape).
    pub fn set(&self, name: &str, values: &[f32]) -> Result<(), ModelError> {
        let var = vars(&self.varmap).remove(name).ok_or_else(|| {
            ModelError::InvalidVariant(format!(
                "variant `{}` has no tensor `{name}`",
                self.variant.name
            ))
        })?;
        var.set(&Tensor::from_slice(values, var.shape(), &self.device)?)?;
        Ok(())
    }

    /// The images `x` as an `[n, input_dim]` tensor.
    pub fn batch(&self, x: &[f32]) -> Result<Tensor, ModelError> {
        let n = check_rows("batch", x, self.input_dim)?;
        Ok(Tensor::from_slice(x, (n, self.input_dim), &self.device)?)
    }

    /// The encoder's input: in training, `clip(x + sd * N(0, 1), 0, 1)` with the variant's
    /// input noise (if any), the normals drawn from one `rng` seed; `x` otherwise.
    pub fn input(
        &self,
        x: &Tensor,
        train: bool,
        rng: &mut dyn RngCore,
    ) -> Result<Tensor, ModelError> {
        match self.variant.input_noise {
            Some(sd) if train => {
                let mut draws = vec![0.0f32; x.elem_count()];
                noise::standard_normals(rng.next_u64(), &mut draws);
                let draws = Tensor::from_vec(draws, x.shape(), &self.device)?;
                Ok((x + (draws * f64::from(sd))?)?.clamp(0f32, 1f32)?)
            }
            _ => Ok(x.clone()),
        }
    }

    /// Reconstruction BCE of decoder `logits` against `target`: summed over pixels,
    /// averaged over the batch.
    pub fn reconstruction(&self, logits: &Tensor, target: &Tensor) -> Result<Tensor, ModelError> {
        Ok(super::ops::bce_mean(logits, target)?)
    }

    /// `n` draws from the prior N(0, I) over the latent space, `[n, latent_dim]`.
    pub fn prior(&self, n: usize, rng: &mut dyn RngCore) -> Result<Tensor, ModelError> {
        let draws = standard_normal_prior(n, self.latent_dim, rng);
        Ok(Tensor::from_vec(draws, (n, self.latent_dim), &self.device)?)
    }

    /// The plain autoencoding pass: input (noisy in training), encoder, `latent`, decoder,
    /// reconstruction; no regulariser.
    pub fn autoencode(
        &self,
        x: &Tensor,
        train: bool,
        rng: &mut dyn RngCore,
        latent: &dyn Fn(&Tensor) -> candle_core::Result<Tensor>,
    ) -> Result<Objective, ModelError> {
        let e = self.run(0, &self.input(x, train, rng)?, train)?;
        let z = latent(&e)?;
        let logits = self.run(1, &z, train)?;
        Ok(Objective {
            recon: self.reconstruction(&logits, x)?,
            regularizers: Vec::new(),
            latent: z,
        })
    }
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts")
            .field("variant", &self.variant.name)
            .field("latent_dim", &self.latent_dim)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

/// A batch's objective as tensors: what the optimizer minimises and the terms it reports.
#[derive(Debug)]
pub struct Objective {
    /// Reconstruction BCE (a scalar).
    pub recon: Tensor,
    /// The other terms of the autoencoder's objective by name (scalars), added to `recon`.
    pub regularizers: Vec<(&'static str, Tensor)>,
    /// The batch's latent codes, `[n, latent_dim]`.
    pub latent: Tensor,
}

impl Objective {
    /// `recon` plus every regulariser.
    pub fn total(&self) -> Result<Tensor, ModelError> {
        let mut total = self.recon.clone();
        for (_, term) in &self.regularizers {
            total = (total + term)?;
        }
        Ok(total)
    }

    /// The terms as numbers.
    pub fn terms(&self) -> Result<LossTerms, ModelError> {
        Ok(LossTerms {
            recon: scalar(&self.recon)?,
            regularizers: self
                .regularizers
                .iter()
                .map(|(name, t)| Ok((name.to_string(), scalar(t)?)))
                .collect::<Result<_, ModelError>>()?,
            auxiliary: Vec::new(),
        })
    }
}

/// The parameters whose keys start with one of some prefixes, and their Adam (weight decay
/// 0) while training: created by [`ParamGroup::begin`], dropped by [`ParamGroup::end`].
#[derive(Debug)]
pub struct ParamGroup {
    prefixes: &'static [&'static str],
    adam: Option<Adam>,
}

impl ParamGroup {
    /// The encoder's and the decoder's parameters.
    pub const AUTOENCODER: &'static [&'static str] = &["encoder.", "decoder."];

    /// The parameters under `prefixes`, not yet training.
    pub fn new(prefixes: &'static [&'static str]) -> Self {
        Self {
            prefixes,
            adam: None,
        }
    }

    /// Starts a fresh Adam at learning rate `lr`, unless one is running.
    pub fn begin(&mut self, parts: &Parts, lr: f32) -> Result<(), ModelError> {
        if self.adam.is_none() {
            let mut vars: Vec<(String, Var)> = vars(&parts.varmap)
                .into_iter()
                .filter(|(name, _)| {
                    !name.contains(".running_") && self.prefixes.iter().any(|p| name.starts_with(p))
                })
                .collect();
            // A fixed order, so that nothing depends on the hash map's.
            vars.sort_by(|a, b| a.0.cmp(&b.0));
            self.adam = Some(Adam::new(vars.into_iter().map(|(_, v)| v).collect(), lr));
        }
        Ok(())
    }

    /// One Adam step of the group's parameters down the gradient of `loss` (at the default
    /// learning rate 1e-3 if training has not begun).
    pub fn minimize(&mut self, parts: &Parts, loss: &Tensor) -> Result<(), ModelError> {
        self.begin(parts, 1e-3)?;
        let adam = self.adam.as_mut().expect("begun above");
        let mut grads = loss.backward()?;
        parts.add_stack_gradients(&mut grads)?;
        adam.step(&grads)?;
        Ok(())
    }

    /// Drops the optimizer state.
    pub fn end(&mut self) {
        self.adam = None;
    }
}

/// A family trained the plain way: one Adam (weight decay 0) over the encoder and decoder,
/// a fresh one per training, one step per batch down the family's
/// [`FamilyModel::objective`]. A family with other optimizers or a schedule implements
/// [`TrainableModel`] itself instead (`adversarial.rs`, `k_sparse.rs`).
#[derive(Debug)]
pub struct OneAdam<F> {
    family: F,
    adam: ParamGroup,
}

impl<F: FamilyModel> OneAdam<F> {
    /// `family`, to be trained by one Adam.
    pub fn new(family: F) -> Self {
        Self {
            family,
            adam: ParamGroup::new(ParamGroup::AUTOENCODER),
        }
    }
}

impl<F: FamilyModel> FamilyModel for OneAdam<F> {
    fn parts(&self) -> &Parts {
        self.family.parts()
    }

    fn latent(&self, e: &Tensor) -> candle_core::Result<Tensor> {
        self.family.latent(e)
    }

    fn objective(
        &self,
        x: &Tensor,
        train: bool,
        rng: &mut dyn RngCore,
    ) -> Result<Objective, ModelError> {
        self.family.objective(x, train, rng)
    }

    fn sample_latents(
        &self,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Option<Vec<f32>>, ModelError> {
        FamilyModel::sample_latents(&self.family, n, rng)
    }
}

impl<F: FamilyModel> TrainableModel for OneAdam<F> {
    fn begin_epoch(&mut self, _epoch: usize, config: &TrainingConfig) -> Result<usize, ModelError> {
        self.adam.begin(self.family.parts(), config.learning_rate)?;
        Ok(1)
    }

    fn train_step(&mut self, x: &[f32], rng: &mut dyn RngCore) -> Result<LossTerms, ModelError> {
        let parts = self.family.parts();
        let objective = self.family.objective(&parts.batch(x)?, true, rng)?;
        self.adam.minimize(parts, &objective.total()?)?;
        objective.terms()
    }

    fn end_training(&mut self) {
        self.adam.end();
    }
}

/// An autograd family's model: its [`Parts`] and what it does differently from a plain
/// autoencoder. Every implementation is a [`Model`] (encode, bottleneck, decode, validation
/// loss, save and load come from here); training comes from [`OneAdam`], or the family
/// implements [`TrainableModel`] itself, owning its optimizers and its schedule.
pub trait FamilyModel: Send + std::fmt::Debug {
    /// The encoder, decoder and var map.
    fn parts(&self) -> &Parts;

    /// The latent code of encoder outputs `e` (`[n, latent_dim]`): `e` itself unless the
    /// family has a bottleneck.
    fn latent(&self, e: &Tensor) -> candle_core::Result<Tensor> {
        Ok(e.clone())
    }

    /// The objective of the batch `x` in training (`train`: input noise, batch statistics)
    /// or eval mode: the plain autoencoding pass unless the family adds to it.
    fn objective(
        &self,
        x: &Tensor,
        train: bool,
        rng: &mut dyn RngCore,
    ) -> Result<Objective, ModelError> {
        self.parts().autoencode(x, train, rng, &|e| self.latent(e))
    }

    /// `n` latent codes from the family's prior, or `None` without one: N(0, I) for a
    /// family that declares it can sample, unless it draws otherwise.
    fn sample_latents(
        &self,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Option<Vec<f32>>, ModelError> {
        let p = self.parts();
        Ok(p.capabilities
            .can_sample
            .then(|| standard_normal_prior(n, p.latent_dim, rng)))
    }
}

impl<F: FamilyModel> Model for F {
    fn variant(&self) -> &Variant {
        &self.parts().variant
    }

    fn backend(&self) -> Backend {
        Backend::Autograd
    }

    fn latent_dim(&self) -> usize {
        self.parts().latent_dim
    }

    fn input_dim(&self) -> usize {
        self.parts().input_dim
    }

    fn encoded_dim(&self) -> usize {
        self.parts().latent_dim
    }

    fn capabilities(&self) -> Capabilities {
        self.parts().capabilities
    }

    fn network_param_count(&self) -> usize {
        network_param_count(&self.parts().varmap)
    }

    fn encode(&self, x: &[f32]) -> Result<Vec<f32>, ModelError> {
        let p = self.parts();
        check_rows("images", x, p.input_dim)?;
        by_chunks(&p.device, x, p.input_dim, |t| p.encoder.forward_t(t, false))
    }

    fn bottleneck(
        &self,
        e: &[f32],
        _mode: LatentMode,
        _rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError> {
        let p = self.parts();
        check_rows("encoder outputs", e, p.latent_dim)?;
        by_chunks(&p.device, e, p.latent_dim, |t| self.latent(t))
    }

    fn decode_logits(&self, z: &[f32]) -> Result<Vec<f32>, ModelError> {
        let p = self.parts();
        check_rows("latent codes", z, p.latent_dim)?;
        by_chunks(&p.device, z, p.latent_dim, |t| {
            p.decoder.forward_t(t, false)
        })
    }

    fn sample_latents(
        &self,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Option<Vec<f32>>, ModelError> {
        FamilyModel::sample_latents(self, n, rng)
    }

    fn evaluate(
        &self,
        x: &[f32],
        _mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Losses, ModelError> {
        let p = self.parts();
        let rows = check_rows("images", x, p.input_dim)?;
        let mut sum = Losses::default();
        for chunk in x.chunks(INFERENCE_CHUNK * p.input_dim) {
            let n = (chunk.len() / p.input_dim) as f64;
            let losses = self
                .objective(&p.batch(chunk)?, false, rng)?
                .terms()?
                .losses();
            sum.recon += losses.recon * n;
            sum.bottleneck += losses.bottleneck * n;
        }
        Ok(Losses {
            recon: sum.recon / rows as f64,
            bottleneck: sum.bottleneck / rows as f64,
        })
    }

    fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        save_vars(&self.parts().varmap, path)
    }

    fn load(&mut self, path: &Path) -> Result<(), CheckpointError> {
        load_vars(&self.parts().varmap, &self.parts().device, path)
    }
}

/// Every tensor of `varmap` (parameters and BatchNorm buffers) by checkpoint key.
pub fn vars(varmap: &VarMap) -> HashMap<String, Var> {
    varmap.data().lock().expect("var map lock").clone()
}

/// Trainable scalars under `encoder.` and `decoder.` (not BatchNorm's running statistics).
pub fn network_param_count(varmap: &VarMap) -> usize {
    vars(varmap)
        .iter()
        .filter(|(name, _)| {
            (name.starts_with("encoder.") || name.starts_with("decoder."))
                && !name.contains(".running_")
        })
        .map(|(_, v)| v.elem_count())
        .sum()
}

/// Writes every tensor of `varmap` to a safetensors file at `path`.
pub fn save_vars(varmap: &VarMap, path: &Path) -> Result<(), CheckpointError> {
    let tensors: HashMap<String, Tensor> = vars(varmap)
        .into_iter()
        .map(|(name, var)| Ok((name, var.as_tensor().to_device(&Device::Cpu)?)))
        .collect::<candle_core::Result<_>>()
        .map_err(|e| io_error(path, e))?;
    checkpoint::write_tensors(&tensors, path)
}

/// Overwrites every tensor of `varmap` from the safetensors file at `path`.
pub fn load_vars(varmap: &VarMap, device: &Device, path: &Path) -> Result<(), CheckpointError> {
    let tensors = checkpoint::read_tensors(path)?;
    for (name, var) in vars(varmap) {
        let value = checkpoint::tensor(&tensors, &name, var.dims(), path)?;
        value
            .to_device(device)
            .and_then(|v| var.set(&v))
            .map_err(|e| io_error(path, e))?;
    }
    Ok(())
}

/// Runs `f` over `x` in chunks of [`INFERENCE_CHUNK`] rows of `width`, each chunk as an
/// `[n, width]` tensor, collecting the rows of the results.
pub fn by_chunks(
    device: &Device,
    x: &[f32],
    width: usize,
    mut f: impl FnMut(&Tensor) -> candle_core::Result<Tensor>,
) -> Result<Vec<f32>, ModelError> {
    let mut out = Vec::new();
    for chunk in x.chunks(INFERENCE_CHUNK * width) {
        let t = Tensor::from_slice(chunk, (chunk.len() / width, width), device)?;
        out.extend(f(&t)?.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::families::wasserstein::FAMILY;

    fn parts(variant: &Variant) -> Parts {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        Parts::new(&FAMILY, variant, 3, 64, &Device::Cpu, &mut rng).unwrap()
    }

    /// One Adam step through the fused stacks moves every parameter and running statistic as
    /// one step through the candle modules does.
    #[test]
    fn a_step_through_fused_stacks_equals_one_through_the_modules() {
        let vanilla = crate::variants::by_name("vanilla").unwrap();
        let x: Vec<f32> = (0..6 * 64)
            .map(|i| (i * 7919 % 101) as f32 / 101.0)
            .collect();
        let mut after = Vec::new();
        for stacks in [false, true] {
            let p = if stacks {
                parts(&vanilla).with_fused_stacks().unwrap()
            } else {
                parts(&vanilla)
            };
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let objective = p.autoencode(&p.batch(&x).unwrap(), true, &mut rng, &|e| Ok(e.clone()));
            let loss = objective.unwrap().total().unwrap();
            let mut adam = ParamGroup::new(ParamGroup::AUTOENCODER);
            adam.minimize(&p, &loss).unwrap();
            let mut tensors: Vec<(String, Vec<f32>)> = vars(&p.varmap)
                .into_iter()
                .map(|(name, v)| (name, v.flatten_all().unwrap().to_vec1().unwrap()))
                .collect();
            tensors.sort_by(|a, b| a.0.cmp(&b.0));
            after.push((scalar(&loss).unwrap(), tensors));
        }
        let ((plain_loss, plain), (fused_loss, fused)) = (&after[0], &after[1]);
        assert!((plain_loss - fused_loss).abs() < 1e-4 * plain_loss.abs());
        // Six dense blocks: 4 with BatchNorm (weight, gamma, beta, two running statistics),
        // 2 with a bias (weight, bias).
        assert_eq!(fused.len(), 4 * 5 + 2 * 2);
        let start = parts(&vanilla);
        let initial = vars(&start.varmap);
        for ((name, a), (_, b)) in plain.iter().zip(fused) {
            let moved = initial[name]
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                != *b;
            // Every parameter learns and every running statistic moves: the fused stacks'
            // gradients reached Adam, their statistics the vars.
            assert!(moved, "{name} did not move");
            // The code's bias has a true gradient of 0 (the decoder's first BatchNorm undoes
            // any shift of every code), so its first Adam step is rounding noise over `eps`.
            if name == "encoder.2.linear.bias" {
                continue;
            }
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 1e-5 * (1.0 + x.abs()),
                    "{name}: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn fused_stacks_refuse_convolutions_and_staged_training() {
        let staged = parts(&crate::variants::by_name("stacked").unwrap()).with_fused_stacks();
        assert!(staged.unwrap_err().to_string().contains("stages"));
        let conv = crate::autograd::spec::ConvSpec {
            in_channels: 1,
            out_channels: 2,
            side: 8,
            transposed: false,
        };
        let spec = [BlockSpec::conv(conv, true)];
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let vanilla = crate::variants::by_name("vanilla").unwrap();
        let p = Parts::with_specs(
            &FAMILY,
            &vanilla,
            (3, 64),
            &Device::Cpu,
            &mut rng,
            &spec,
            &[],
        );
        let err = p.unwrap().with_fused_stacks().unwrap_err().to_string();
        assert!(err.contains("convolutions"), "{err}");
    }
}
