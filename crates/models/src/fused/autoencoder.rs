//! An autoencoder built from a [`Variant`]: encoder, bottleneck and decoder, with the
//! training step (forward, loss, backward) and its schedule's stages. Inference is the model
//! interface's ([`crate::Model`], implemented in [`crate::fused::model`]).

use rand::{Rng, RngCore};

use crate::fused::bottleneck::{self, Bottleneck};
use crate::fused::network::Network;
use crate::kernels::layout::transpose_into;
use crate::kernels::loss::bce_loss_and_grad;
use crate::kernels::noise;
use crate::kernels::optim::Adam;
use crate::kernels::param::{NamedTensor, NamedTensorMut, Param};
use crate::latent::LatentMode;
use crate::model::Losses;
use crate::variant::{NetworkKind, Schedule, Variant};

/// A variant's network at one latent size.
#[derive(Debug)]
pub struct Autoencoder {
    /// What was built.
    pub variant: Variant,
    /// Size of the latent code `z`.
    pub latent_dim: usize,
    /// Encoder, producing `e`.
    pub encoder: Network,
    /// Bottleneck, `e -> z`.
    pub bottleneck: Box<dyn Bottleneck>,
    /// Decoder, producing logits.
    pub decoder: Network,
    /// The training batch of the last forward pass, `[input_dim, n]`.
    batch: Vec<f32>,
    /// Its noisy version, for variants with input noise.
    noisy_batch: Vec<f32>,
    /// Rows of the last training batch.
    batch_rows: usize,
    grad_logits: Vec<f32>,
    /// The schedule stage being trained and its Adam (see [`crate::fused::model`]).
    pub(crate) training: Option<(usize, Adam)>,
}

impl Autoencoder {
    /// Builds `variant` at `latent_dim` for inputs of `input_dim` pixels, drawing the initial
    /// weights from `rng` (PyTorch's default initialisation).
    pub fn new(variant: &Variant, latent_dim: usize, input_dim: usize, rng: &mut impl Rng) -> Self {
        let encoded_dim = variant.bottleneck.encoded_dim(latent_dim);
        let (encoder, decoder) = match variant.network {
            NetworkKind::Shallow => (
                Network::shallow_encoder(input_dim, encoded_dim, rng),
                Network::shallow_decoder(latent_dim, input_dim, rng),
            ),
            NetworkKind::Dense => (
                Network::dense_encoder(input_dim, encoded_dim, rng),
                Network::dense_decoder(latent_dim, input_dim, rng),
            ),
        };
        let bottleneck = bottleneck::build(&variant.bottleneck, latent_dim, rng);
        Self {
            variant: variant.clone(),
            latent_dim,
            encoder,
            bottleneck,
            decoder,
            batch: Vec::new(),
            noisy_batch: Vec::new(),
            batch_rows: 0,
            grad_logits: Vec::new(),
            training: None,
        }
    }

    /// Training stages of this variant's schedule: the number of stages.
    pub fn num_stages(&self) -> usize {
        match self.variant.schedule {
            Schedule::Joint => 1,
            Schedule::GreedyLayerwise => self.encoder.blocks.len(),
        }
    }

    /// Configures stage `stage` (1-based) of the schedule. For the greedy schedule, stage `k`
    /// runs the outer `k` encoder and decoder blocks and freezes those of earlier stages
    /// (their BatchNorm then runs on running statistics); blocks not yet reached are frozen
    /// too, so the optimizer leaves them alone. The last stage is the full network.
    pub fn set_stage(&mut self, stage: usize) {
        assert!(
            (1..=self.num_stages()).contains(&stage),
            "stage {stage} out of range"
        );
        if self.variant.schedule == Schedule::Joint {
            return;
        }
        let depth = self.encoder.blocks.len();
        self.encoder.set_active(0..stage);
        self.decoder.set_active(depth - stage..depth);
        for (i, b) in self.encoder.blocks.iter_mut().enumerate() {
            b.set_frozen(i + 1 != stage);
        }
        for (i, b) in self.decoder.blocks.iter_mut().enumerate() {
            b.set_frozen(i != depth - stage);
        }
    }

    /// Leaves any schedule stage: the full network, nothing frozen.
    pub fn set_full(&mut self) {
        let (e, d) = (self.encoder.blocks.len(), self.decoder.blocks.len());
        self.encoder.set_active(0..e);
        self.decoder.set_active(0..d);
        self.encoder
            .blocks
            .iter_mut()
            .for_each(|b| b.set_frozen(false));
        self.decoder
            .blocks
            .iter_mut()
            .for_each(|b| b.set_frozen(false));
    }

    /// One training forward and backward pass on `n` rows of `x` (one image per row): input
    /// noise (if the variant has it), BatchNorm in training mode, loss, and gradients left in
    /// the parameters.
    pub fn forward_backward(&mut self, x: &[f32], n: usize, rng: &mut dyn RngCore) -> Losses {
        let losses = self.forward_train(x, n, rng);
        self.backward();
        losses
    }

    /// The forward half of [`Autoencoder::forward_backward`], including the loss and its
    /// gradient with respect to the logits. The batch is kept, in the engine's column layout
    /// (see [`crate::kernels::layout`]), for [`Autoencoder::backward`].
    pub fn forward_train(&mut self, x: &[f32], n: usize, rng: &mut dyn RngCore) -> Losses {
        let width = self.encoder.in_dim();
        transpose_into(&x[..n * width], n, width, &mut self.batch);
        self.batch_rows = n;
        if let Some(sd) = self.variant.input_noise {
            noise::corrupt(&self.batch, sd, rng.next_u64(), &mut self.noisy_batch);
        }
        let input: &[f32] = if self.variant.input_noise.is_some() {
            &self.noisy_batch
        } else {
            &self.batch
        };
        let e = self.encoder.forward(input, n, true);
        let bottleneck_loss = self.bottleneck.forward(e, n, LatentMode::Sampled, rng);
        let logits = self.decoder.forward(self.bottleneck.latent(), n, true);
        let recon = bce_loss_and_grad(logits, &self.batch, n, &mut self.grad_logits);
        Losses {
            recon,
            bottleneck: bottleneck_loss,
        }
    }

    /// The backward half of [`Autoencoder::forward_backward`], for the batch of the
    /// preceding [`Autoencoder::forward_train`].
    pub fn backward(&mut self) {
        let n = self.batch_rows;
        let grad_z = self
            .decoder
            .backward(self.bottleneck.latent(), &self.grad_logits, n, true)
            .expect("input gradient requested");
        let grad_e = self.bottleneck.backward(self.encoder.output(), grad_z, n);
        let input: &[f32] = if self.variant.input_noise.is_some() {
            &self.noisy_batch
        } else {
            &self.batch
        };
        self.encoder.backward(input, grad_e, n, false);
    }

    /// Every trainable parameter in a fixed order (encoder, bottleneck, decoder).
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut out = Vec::new();
        self.encoder.params_mut(&mut out);
        self.bottleneck.params_mut(&mut out);
        self.decoder.params_mut(&mut out);
        out
    }

    /// Every tensor of the model (parameters and BatchNorm buffers) under its checkpoint key.
    pub fn named_tensors(&self) -> Vec<NamedTensor<'_>> {
        let mut out = Vec::new();
        self.encoder.named_tensors("encoder", &mut out);
        self.bottleneck.named_tensors("bottleneck", &mut out);
        self.decoder.named_tensors("decoder", &mut out);
        out
    }

    /// Mutable views of the same tensors, for loading a checkpoint.
    pub fn named_tensors_mut(&mut self) -> Vec<NamedTensorMut<'_>> {
        let mut out = Vec::new();
        self.encoder.named_tensors_mut("encoder", &mut out);
        self.bottleneck.named_tensors_mut("bottleneck", &mut out);
        self.decoder.named_tensors_mut("decoder", &mut out);
        out
    }
}
