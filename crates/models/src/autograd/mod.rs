//! The autograd backend: a variant's autoencoder as candle-nn modules, trained by candle's
//! automatic differentiation and Adam, with the fused engine's loss, BatchNorm and Adam as
//! candle operations ([`ops`]).
//!
//! Built from the variant's description alone (network kind, bottleneck, schedule, input
//! noise). Parameters live in one [`VarMap`] under the fused engine's names, so checkpoints
//! of either backend load into the other. Initial weights, input noise, the VAE's `eps` and
//! prior samples come from the caller's seeded RNG, drawn in the fused engine's order.

pub mod bottleneck;
pub mod network;
pub mod ops;
pub mod parts;
pub mod spec;

use std::collections::HashMap;
use std::path::Path;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{ModuleT, VarBuilder, VarMap};
use rand::RngCore;

use self::bottleneck::TensorBottleneck;
use self::network::Network;
use self::ops::Adam;
use self::spec::{decoder_spec, encoder_spec};
use crate::checkpoint::CheckpointError;
use crate::config::{stage_of_epoch, TrainingConfig};
use crate::kernels::noise;
use crate::latent::Capabilities;
use crate::latent::LatentMode;
use crate::model::Backend;
use crate::model::{check_rows, LossTerms, Model, ModelError, TrainableModel};
use crate::model::{Losses, INFERENCE_CHUNK};
use crate::variant::{Schedule, Variant};

/// The device the autograd backend computes on: the first CUDA device when built with the
/// `cuda` feature, the CPU otherwise.
pub fn device() -> Result<Device, ModelError> {
    #[cfg(feature = "cuda")]
    return Ok(Device::new_cuda(0)?);
    #[cfg(not(feature = "cuda"))]
    Ok(Device::Cpu)
}

/// The training forward pass of one batch: the objective to differentiate and its terms.
#[derive(Debug)]
pub struct TrainingLoss {
    /// Reconstruction plus the bottleneck's term, a scalar tensor.
    pub total: Tensor,
    /// The same as numbers.
    pub terms: LossTerms,
}

/// A variant's autoencoder in candle-nn.
pub struct AutogradModel {
    variant: Variant,
    latent_dim: usize,
    input_dim: usize,
    device: Device,
    varmap: VarMap,
    encoder: Network,
    bottleneck: TensorBottleneck,
    decoder: Network,
    /// The stage being trained and its optimizer.
    training: Option<(usize, Adam)>,
}

impl AutogradModel {
    /// Builds `variant` at `latent_dim` for images of `input_dim` pixels on `device`,
    /// drawing the initial weights from `rng` in the fused engine's order: encoder blocks,
    /// decoder blocks, then the bottleneck's parameters.
    pub fn new(
        variant: &Variant,
        latent_dim: usize,
        input_dim: usize,
        device: &Device,
        rng: &mut dyn RngCore,
    ) -> Result<Self, ModelError> {
        if let Some(family) = &variant.family {
            return Err(ModelError::InvalidVariant(format!(
                "variant `{}` is built by its family `{}` (see `backend::build`)",
                variant.name, family.name
            )));
        }
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let encoded_dim = variant.bottleneck.encoded_dim(latent_dim);
        let encoder = Network::new(
            &encoder_spec(variant.network, input_dim, encoded_dim),
            &varmap,
            vb.pp("encoder"),
            rng,
        )?;
        let decoder = Network::new(
            &decoder_spec(variant.network, latent_dim, input_dim),
            &varmap,
            vb.pp("decoder"),
            rng,
        )?;
        let bottleneck =
            TensorBottleneck::new(&variant.bottleneck, latent_dim, &varmap, device, rng)?;
        Ok(Self {
            variant: variant.clone(),
            latent_dim,
            input_dim,
            device: device.clone(),
            varmap,
            encoder,
            bottleneck,
            decoder,
            training: None,
        })
    }

    /// Every tensor (parameters and BatchNorm buffers) by checkpoint key.
    pub fn vars(&self) -> HashMap<String, Var> {
        parts::vars(&self.varmap)
    }

    /// Number of stages of the variant's schedule.
    fn num_stages(&self) -> usize {
        match self.variant.schedule {
            Schedule::Joint => 1,
            Schedule::GreedyLayerwise => self.encoder.depth(),
        }
    }

    /// The stage being trained (the full network outside training).
    fn stage(&self) -> usize {
        self.training
            .as_ref()
            .map_or(self.num_stages(), |(stage, _)| *stage)
    }

    /// Stage `stage`'s active encoder and decoder blocks and its trainable block indices.
    /// Joint: everything. Greedy: the outer `stage` blocks, of which only the innermost of
    /// each network learns.
    fn stage_blocks(&self, stage: usize) -> StageBlocks {
        let depth = self.encoder.depth();
        match self.variant.schedule {
            Schedule::Joint => StageBlocks {
                encoder: 0..depth,
                decoder: 0..self.decoder.depth(),
                trainable: None,
            },
            Schedule::GreedyLayerwise => StageBlocks {
                encoder: 0..stage,
                decoder: depth - stage..depth,
                trainable: Some((stage - 1, depth - stage)),
            },
        }
    }

    /// The training loss of the batch `x` (`[n, input_dim]`) in the current stage: input
    /// noise, batch statistics (the running statistics move), bottleneck, stable BCE.
    pub fn training_loss(
        &self,
        x: &[f32],
        rng: &mut dyn RngCore,
    ) -> Result<TrainingLoss, ModelError> {
        let n = check_rows("training batch", x, self.input_dim)?;
        let target = Tensor::from_slice(x, (n, self.input_dim), &self.device)?;
        let input = match self.variant.input_noise {
            None => target.clone(),
            Some(sd) => {
                // Drawn in the fused engine's layout, one column per image.
                let mut draws = vec![0.0f32; n * self.input_dim];
                noise::standard_normals(rng.next_u64(), &mut draws);
                let draws = Tensor::from_vec(draws, (self.input_dim, n), &self.device)?.t()?;
                (&target + (draws * f64::from(sd))?)?.clamp(0f32, 1f32)?
            }
        };
        let blocks = self.stage_blocks(self.stage());
        let encoder_trainable = |i: usize| blocks.trainable.is_none_or(|(e, _)| e == i);
        let decoder_trainable = |i: usize| blocks.trainable.is_none_or(|(_, d)| d == i);
        let e = self
            .encoder
            .forward_range(&input, blocks.encoder, true, &encoder_trainable)?;
        let (z, bottleneck_loss) = self.bottleneck.forward(&e, LatentMode::Sampled, rng)?;
        let logits = self
            .decoder
            .forward_range(&z, blocks.decoder, true, &decoder_trainable)?;
        let recon = ops::bce_mean(&logits, &target)?;
        let mut terms = LossTerms {
            recon: scalar(&recon)?,
            ..LossTerms::default()
        };
        let total = match (bottleneck_loss, self.variant.bottleneck.loss_name()) {
            (Some(loss), Some(name)) => {
                terms.regularizers.push((name.to_string(), scalar(&loss)?));
                (recon + loss)?
            }
            _ => recon,
        };
        Ok(TrainingLoss { total, terms })
    }

    /// One update of the current stage's optimizer from `grads` (creating the default Adam
    /// for the full network if training has not begun).
    pub fn apply_gradients(&mut self, grads: &GradStore) -> Result<(), ModelError> {
        if self.training.is_none() {
            let stage = self.num_stages();
            self.training = Some((stage, self.optimizer(stage, 1e-3)?));
        }
        let (_, optimizer) = self.training.as_mut().expect("set above");
        optimizer.step(grads)?;
        Ok(())
    }

    /// A fresh Adam over the parameters stage `stage` trains (never BatchNorm's running
    /// statistics, which are buffers).
    fn optimizer(&self, stage: usize, lr: f32) -> Result<Adam, ModelError> {
        let blocks = self.stage_blocks(stage);
        let learns = |name: &str| match blocks.trainable {
            None => true,
            Some((e, d)) => {
                name.starts_with(&format!("encoder.{e}."))
                    || name.starts_with(&format!("decoder.{d}."))
            }
        };
        let mut vars: Vec<(String, Var)> = self
            .vars()
            .into_iter()
            .filter(|(name, _)| !name.contains(".running_") && learns(name))
            .collect();
        // A fixed order, so that nothing depends on the hash map's.
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Adam::new(vars.into_iter().map(|(_, v)| v).collect(), lr))
    }

    /// Runs `f` over `x` in chunks of [`INFERENCE_CHUNK`] rows of `width`.
    fn by_chunks(
        &self,
        x: &[f32],
        width: usize,
        f: impl FnMut(&Tensor) -> candle_core::Result<Tensor>,
    ) -> Result<Vec<f32>, ModelError> {
        parts::by_chunks(&self.device, x, width, f)
    }
}

impl std::fmt::Debug for AutogradModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutogradModel")
            .field("variant", &self.variant.name)
            .field("latent_dim", &self.latent_dim)
            .field("device", &self.device)
            .field("stage", &self.training.as_ref().map(|(stage, _)| stage))
            .finish_non_exhaustive()
    }
}

/// Which blocks a stage runs and trains.
struct StageBlocks {
    encoder: std::ops::Range<usize>,
    decoder: std::ops::Range<usize>,
    /// `(encoder block, decoder block)` that learn; `None`: every block.
    trainable: Option<(usize, usize)>,
}

/// Element-wise BCE of `sigmoid(logits)` against `target` in the stable form
/// `relu(l) - l t + ln(1 + exp(-|l|))`.
pub fn bce_sum(logits: &Tensor, target: &Tensor) -> candle_core::Result<Tensor> {
    let softplus = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    (logits.relu()? - (logits * target)?)? + softplus
}

/// The value of a scalar tensor.
pub fn scalar(t: &Tensor) -> Result<f64, ModelError> {
    Ok(f64::from(t.to_dtype(DType::F32)?.to_scalar::<f32>()?))
}

impl Model for AutogradModel {
    fn variant(&self) -> &Variant {
        &self.variant
    }

    fn backend(&self) -> Backend {
        Backend::Autograd
    }

    fn latent_dim(&self) -> usize {
        self.latent_dim
    }

    fn input_dim(&self) -> usize {
        self.input_dim
    }

    fn encoded_dim(&self) -> usize {
        self.variant.bottleneck.encoded_dim(self.latent_dim)
    }

    fn capabilities(&self) -> Capabilities {
        self.variant.bottleneck.capabilities()
    }

    fn network_param_count(&self) -> usize {
        parts::network_param_count(&self.varmap)
    }

    fn encode(&self, x: &[f32]) -> Result<Vec<f32>, ModelError> {
        check_rows("images", x, self.input_dim)?;
        self.by_chunks(x, self.input_dim, |t| self.encoder.forward_t(t, false))
    }

    fn bottleneck(
        &self,
        e: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError> {
        let width = self.encoded_dim();
        check_rows("encoder outputs", e, width)?;
        self.by_chunks(e, width, |t| Ok(self.bottleneck.forward(t, mode, rng)?.0))
    }

    fn decode_logits(&self, z: &[f32]) -> Result<Vec<f32>, ModelError> {
        check_rows("latent codes", z, self.latent_dim)?;
        self.by_chunks(z, self.latent_dim, |t| self.decoder.forward_t(t, false))
    }

    fn sample_latents(
        &self,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Option<Vec<f32>>, ModelError> {
        Ok(self.bottleneck.sample(n, rng)?)
    }

    fn evaluate(
        &self,
        x: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Losses, ModelError> {
        let rows = check_rows("images", x, self.input_dim)?;
        // During training, the validation loss is the current stage's network's.
        let blocks = self.stage_blocks(self.stage());
        let mut sum = Losses::default();
        for chunk in x.chunks(INFERENCE_CHUNK * self.input_dim) {
            let n = chunk.len() / self.input_dim;
            let target = Tensor::from_slice(chunk, (n, self.input_dim), &self.device)?;
            let e =
                (self.encoder).forward_range(&target, blocks.encoder.clone(), false, &|_| true)?;
            let (z, loss) = self.bottleneck.forward(&e, mode, rng)?;
            let logits =
                (self.decoder).forward_range(&z, blocks.decoder.clone(), false, &|_| true)?;
            sum.recon += scalar(&bce_sum(&logits, &target)?.sum_all()?)?;
            if let Some(loss) = loss {
                sum.bottleneck += scalar(&loss)? * n as f64;
            }
        }
        Ok(Losses {
            recon: sum.recon / rows as f64,
            bottleneck: sum.bottleneck / rows as f64,
        })
    }

    fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        parts::save_vars(&self.varmap, path)
    }

    fn load(&mut self, path: &Path) -> Result<(), CheckpointError> {
        parts::load_vars(&self.varmap, &self.device, path)
    }
}

impl TrainableModel for AutogradModel {
    fn begin_epoch(&mut self, epoch: usize, config: &TrainingConfig) -> Result<usize, ModelError> {
        let stage = stage_of_epoch(epoch, config.epochs, self.num_stages());
        if self.training.as_ref().map(|(s, _)| *s) != Some(stage) {
            let optimizer = self.optimizer(stage, config.learning_rate)?;
            self.training = Some((stage, optimizer));
        }
        Ok(stage)
    }

    fn train_step(&mut self, x: &[f32], rng: &mut dyn RngCore) -> Result<LossTerms, ModelError> {
        let loss = self.training_loss(x, rng)?;
        let grads = loss.total.backward()?;
        self.apply_gradients(&grads)?;
        Ok(loss.terms)
    }

    fn end_training(&mut self) {
        self.training = None;
    }
}
