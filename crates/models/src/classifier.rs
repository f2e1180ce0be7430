//! The linear probe's classifiers: a linear layer trained on features the caller forms (the
//! probe on a frozen autoencoder), or on a randomly initialised dense encoder of its own (the
//! probe's baselines), stepped by the shared [`Adam`].
//!
//! Rows in, rows out (one sample per row): the layers, their column layout and the
//! optimizer's parameter list stay in this crate. The caller computes the loss of the logits
//! and hands back its gradient with respect to them ([`Classifier::step`]).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use rand::RngCore;

use crate::checkpoint::{self, io_error, CheckpointError};
use crate::fused::layers::{Block, Linear};
use crate::fused::network::Network;
use crate::kernels::layout::{column_chunks, to_columns, to_rows};
use crate::kernels::optim::{Adam, AdamConfig};
use crate::kernels::param::{NamedTensor, NamedTensorMut, Param};

/// SPEC's dense encoder on its own (`input -> w1 -> w2 -> out`, hidden blocks
/// `Linear(no bias) -> BatchNorm -> ReLU`), drawn from the RNG exactly as an autoencoder's
/// dense encoder is: the network under the probe's baselines.
#[derive(Clone, Debug)]
pub struct DenseEncoder {
    net: Network,
}

impl DenseEncoder {
    /// A dense encoder from `input_dim` to `out_dim` with PyTorch's initialisation, drawn
    /// from `rng`.
    pub fn new(input_dim: usize, out_dim: usize, rng: &mut dyn RngCore) -> Self {
        Self {
            net: Network::dense_encoder(input_dim, out_dim, &mut &mut *rng),
        }
    }

    /// A stack of hidden blocks (`Linear(no bias) -> BatchNorm -> ReLU`) between consecutive
    /// `widths` (`[input, hidden..., out]`), drawn from `rng` layer by layer with PyTorch's
    /// initialisation: a plain multilayer perceptron whose outputs are ReLU activations.
    ///
    /// # Panics
    /// With fewer than two widths.
    pub fn mlp(widths: &[usize], rng: &mut dyn RngCore) -> Self {
        assert!(
            widths.len() >= 2,
            "an MLP needs an input and an output width"
        );
        let blocks = widths
            .windows(2)
            .map(|w| Block::hidden(w[0], w[1], &mut &mut *rng))
            .collect();
        Self {
            net: Network::new(blocks),
        }
    }

    /// Pixels per input row.
    pub fn input_dim(&self) -> usize {
        self.net.in_dim()
    }

    /// Width of an output row.
    pub fn out_dim(&self) -> usize {
        self.net.out_dim()
    }

    /// Outputs in eval mode (BatchNorm on its running statistics), `[rows, out_dim]`.
    ///
    /// # Panics
    /// If `x` is not whole rows of [`DenseEncoder::input_dim`].
    pub fn encode(&self, x: &[f32]) -> Vec<f32> {
        check_width("encoder input", x, self.input_dim());
        self.net.infer(x)
    }

    /// Outputs with BatchNorm in training mode on consecutive batches of `batch_size` rows
    /// (batch statistics, running statistics moved by each batch), `[rows, out_dim]`.
    fn encode_in_training_mode(&mut self, x: &[f32], batch_size: usize) -> Vec<f32> {
        let (width, out_dim) = (self.input_dim(), self.out_dim());
        let mut out = Vec::with_capacity(x.len() / width * out_dim);
        for (columns, n) in column_chunks(x, width, batch_size.max(1)) {
            out.extend(to_rows(self.net.forward(&columns, n, true), out_dim, n));
        }
        out
    }

    /// Sets every BatchNorm layer's running mean and variance to the mean and biased
    /// variance of its input over all rows of `x` (`[rows, input_dim]`), layer by layer, each
    /// layer's input computed in eval mode with the statistics already set: what a
    /// training-mode pass over all the rows at once normalises with.
    ///
    /// # Panics
    /// If `x` is not whole rows of [`DenseEncoder::input_dim`].
    pub fn fit_batch_norm_statistics(&mut self, x: &[f32]) {
        check_width("encoder input", x, self.input_dim());
        let n = x.len() / self.input_dim();
        if n == 0 {
            return;
        }
        let mut h = to_columns(x, n, self.input_dim());
        for block in &mut self.net.blocks {
            if let Some(bn) = &mut block.batch_norm {
                let mut z = vec![0.0f32; block.linear.out_dim * n];
                block.linear.forward(&h, n, &mut z);
                for ((row, mean), var) in z
                    .chunks_exact(n)
                    .zip(&mut bn.running_mean)
                    .zip(&mut bn.running_var)
                {
                    let m = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
                    let v = row
                        .iter()
                        .map(|&v| (f64::from(v) - m) * (f64::from(v) - m))
                        .sum::<f64>()
                        / n as f64;
                    (*mean, *var) = (m as f32, v as f32);
                }
            }
            h = block.forward(&h, n, false).to_vec();
        }
    }
}

/// What training a [`Classifier`] does to its encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncoderTraining {
    /// The encoder is optimised with the linear layer, end to end (the `supervised`
    /// baseline).
    Optimised,
    /// The encoder is not optimised but runs in training mode on the training batches:
    /// BatchNorm normalises with batch statistics and moves its running statistics, as an
    /// encoder left out of PyTorch's optimizer but not frozen does (the reference's "trained
    /// from scratch" baseline).
    Unoptimised,
}

/// A `Linear(features, classes)` on the caller's features, or on a [`DenseEncoder`]'s
/// outputs, with its own Adam.
#[derive(Clone, Debug)]
pub struct Classifier {
    encoder: Option<(DenseEncoder, EncoderTraining)>,
    head: Linear,
    adam: Adam,
    /// The last training batch's encoder input, `[input_dim, rows]` (with an encoder only).
    images: Vec<f32>,
    /// The last training batch's input of the linear layer, `[feature_dim, rows]`.
    features: Vec<f32>,
    /// Rows of the last training batch.
    rows: usize,
}

impl Classifier {
    /// A linear layer from `feature_dim` features to `classes` logits, with PyTorch's
    /// initialisation drawn from `rng`, trained by Adam with `learning_rate`.
    pub fn linear(
        feature_dim: usize,
        classes: usize,
        learning_rate: f32,
        rng: &mut dyn RngCore,
    ) -> Self {
        Self::new(None, feature_dim, classes, learning_rate, rng)
    }

    /// A linear layer on `encoder`'s outputs, drawn from `rng` (after the encoder, which
    /// the caller drew), trained by Adam with `learning_rate`; `training` says what happens
    /// to the encoder.
    pub fn on_encoder(
        encoder: DenseEncoder,
        training: EncoderTraining,
        classes: usize,
        learning_rate: f32,
        rng: &mut dyn RngCore,
    ) -> Self {
        let feature_dim = encoder.out_dim();
        Self::new(
            Some((encoder, training)),
            feature_dim,
            classes,
            learning_rate,
            rng,
        )
    }

    fn new(
        encoder: Option<(DenseEncoder, EncoderTraining)>,
        feature_dim: usize,
        classes: usize,
        learning_rate: f32,
        rng: &mut dyn RngCore,
    ) -> Self {
        Self {
            encoder,
            head: Linear::new(feature_dim, classes, true, &mut &mut *rng),
            adam: Adam::new(AdamConfig {
                lr: learning_rate,
                ..AdamConfig::default()
            }),
            images: Vec::new(),
            features: Vec::new(),
            rows: 0,
        }
    }

    /// Width of an input row: the encoder's input, or the linear layer's.
    pub fn input_dim(&self) -> usize {
        match &self.encoder {
            Some((encoder, _)) => encoder.input_dim(),
            None => self.head.in_dim,
        }
    }

    /// Number of classes (logits per row).
    pub fn classes(&self) -> usize {
        self.head.out_dim
    }

    /// Width of the linear layer's input (the penultimate layer's width).
    pub fn feature_dim(&self) -> usize {
        self.head.in_dim
    }

    /// Sets Adam's learning rate for the following steps (a decay schedule).
    pub fn set_learning_rate(&mut self, lr: f32) {
        self.adam.set_learning_rate(lr);
    }

    /// The linear layer's inputs in eval mode, `[rows, feature_dim]`: the encoder's outputs
    /// (its BatchNorm on its running statistics), or `x` itself without an encoder. These
    /// are the classifier's penultimate-layer features.
    ///
    /// # Panics
    /// If `x` is not whole rows of [`Classifier::input_dim`].
    pub fn features(&self, x: &[f32]) -> Vec<f32> {
        match &self.encoder {
            Some((encoder, _)) => encoder.encode(x),
            None => {
                check_width("classifier input", x, self.head.in_dim);
                x.to_vec()
            }
        }
    }

    /// Logits (`[rows, classes]`) of penultimate-layer features from
    /// [`Classifier::features`]: `logits(x) == logits_of_features(&features(x))`.
    ///
    /// # Panics
    /// If `features` is not whole rows of [`Classifier::feature_dim`].
    pub fn logits_of_features(&self, features: &[f32]) -> Vec<f32> {
        self.head_logits(features)
    }

    /// Every tensor (weights, BatchNorm statistics) under its checkpoint key:
    /// `encoder.<block>.linear.weight`, `encoder.<block>.bn.running_mean`, `head.weight`, ...
    fn named_tensors(&self) -> Vec<NamedTensor<'_>> {
        let mut out = Vec::new();
        if let Some((encoder, _)) = &self.encoder {
            encoder.net.named_tensors("encoder", &mut out);
        }
        self.head.named_tensors("head", &mut out);
        out
    }

    fn named_tensors_mut(&mut self) -> Vec<NamedTensorMut<'_>> {
        let mut out = Vec::new();
        if let Some((encoder, _)) = &mut self.encoder {
            encoder.net.named_tensors_mut("encoder", &mut out);
        }
        self.head.named_tensors_mut("head", &mut out);
        out
    }

    /// Saves the weights and BatchNorm statistics to a safetensors file at `path` (through
    /// a temporary file and a rename); the optimizer's state is not saved.
    ///
    /// # Errors
    /// If the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        let mut tensors = HashMap::new();
        for t in self.named_tensors() {
            let tensor = Tensor::from_slice(t.values, t.shape.as_slice(), &Device::Cpu)
                .map_err(|e| io_error(path, e))?;
            tensors.insert(t.name, tensor);
        }
        checkpoint::write_tensors(&tensors, path)
    }

    /// Loads weights and BatchNorm statistics saved by [`Classifier::save`] into this
    /// classifier, which must have the same architecture.
    ///
    /// # Errors
    /// If the file cannot be read, or a tensor is missing or has another shape.
    pub fn load(&mut self, path: &Path) -> Result<(), CheckpointError> {
        let tensors = checkpoint::read_tensors(path)?;
        for t in self.named_tensors_mut() {
            *t.values = checkpoint::tensor(&tensors, &t.name, &t.shape, path)?
                .flatten_all()
                .and_then(|f| f.to_vec1::<f32>())
                .map_err(|e| io_error(path, e))?;
        }
        Ok(())
    }

    /// Logits (`[rows, classes]`) of a training batch `x` in training mode (the encoder's
    /// BatchNorm on batch statistics, moving its running statistics), kept for
    /// [`Classifier::step`].
    ///
    /// # Panics
    /// If `x` is not whole rows of [`Classifier::input_dim`].
    pub fn train_logits(&mut self, x: &[f32]) -> Vec<f32> {
        let n = check_width("classifier input", x, self.input_dim());
        self.rows = n;
        self.features = match &mut self.encoder {
            Some((encoder, _)) => {
                self.images = to_columns(x, n, encoder.input_dim());
                encoder.net.forward(&self.images, n, true).to_vec()
            }
            None => to_columns(x, n, self.head.in_dim),
        };
        self.head_logits_of_columns(&self.features, n)
    }

    /// One optimisation step from the gradient of the loss with respect to the logits of
    /// the last [`Classifier::train_logits`] (`[rows, classes]`): gradients of the linear
    /// layer and, if it is [`EncoderTraining::Optimised`], of the encoder, then one Adam
    /// update of those parameters.
    ///
    /// # Panics
    /// If `grad_logits` does not hold one row of [`Classifier::classes`] per row of the last
    /// training batch.
    pub fn step(&mut self, grad_logits: &[f32]) {
        let n = self.rows;
        assert_eq!(
            grad_logits.len(),
            n * self.classes(),
            "one logit gradient per logit of the last training batch"
        );
        let grad = to_columns(grad_logits, n, self.classes());
        self.head.backward_params(&self.features, &grad, n);
        let mut params: Vec<&mut Param> = Vec::new();
        if let Some((encoder, EncoderTraining::Optimised)) = &mut self.encoder {
            let mut grad_features = vec![0.0; n * self.head.in_dim];
            self.head.backward_input(&grad, n, &mut grad_features);
            encoder.net.backward(&self.images, &grad_features, n, false);
            encoder.net.params_mut(&mut params);
        }
        self.head.params_mut(&mut params);
        self.adam.step(&mut params);
    }

    /// Logits (`[rows, classes]`) in eval mode (the encoder's BatchNorm on its running
    /// statistics).
    ///
    /// # Panics
    /// If `x` is not whole rows of [`Classifier::input_dim`].
    pub fn logits(&self, x: &[f32]) -> Vec<f32> {
        match &self.encoder {
            Some((encoder, _)) => self.head_logits(&encoder.encode(x)),
            None => self.head_logits(x),
        }
    }

    /// Logits (`[rows, classes]`) with the encoder's BatchNorm in training mode on
    /// consecutive batches of `batch_size` rows (batch statistics, running statistics moved),
    /// as if the encoder were never switched to eval mode; [`Classifier::logits`] without an
    /// encoder.
    ///
    /// # Panics
    /// If `x` is not whole rows of [`Classifier::input_dim`].
    pub fn logits_in_training_mode(&mut self, x: &[f32], batch_size: usize) -> Vec<f32> {
        check_width("classifier input", x, self.input_dim());
        match &mut self.encoder {
            Some((encoder, _)) => {
                let features = encoder.encode_in_training_mode(x, batch_size);
                self.head_logits(&features)
            }
            None => self.head_logits(x),
        }
    }

    /// The linear layer on `[rows, feature_dim]` features, all rows in one product.
    fn head_logits(&self, features: &[f32]) -> Vec<f32> {
        let n = check_width("features", features, self.head.in_dim);
        self.head_logits_of_columns(&to_columns(features, n, self.head.in_dim), n)
    }

    fn head_logits_of_columns(&self, columns: &[f32], n: usize) -> Vec<f32> {
        let mut logits = vec![0.0; n * self.head.out_dim];
        self.head.forward(columns, n, &mut logits);
        to_rows(&logits, self.head.out_dim, n)
    }
}

/// Rows of `width` in `values`, or a panic naming `what`.
fn check_width(what: &str, values: &[f32], width: usize) -> usize {
    assert!(
        width > 0 && values.len().is_multiple_of(width),
        "{what}: {} values are not whole rows of {width}",
        values.len()
    );
    values.len() / width
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
        (0..n).map(|_| rng.random::<f32>()).collect()
    }

    #[test]
    fn first_step_moves_each_logit_by_lr_times_the_features_l1_norm_plus_one() {
        // One row x = [1, -2, 0.5], logit gradient g = [0.5, -0.25]. The weight gradient is
        // g_c x_j and the bias gradient g_c; Adam's first step moves every parameter by
        // lr against the sign of its gradient, so logit c moves by
        // -lr sign(g_c) (|1| + |-2| + |0.5| + 1) = -0.1 * 4.5 sign(g_c): -0.45 and +0.45.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut clf = Classifier::linear(3, 2, 0.1, &mut rng);
        let x = [1.0, -2.0, 0.5];
        let before = clf.train_logits(&x);
        clf.step(&[0.5, -0.25]);
        let after = clf.logits(&x);
        assert!(
            (after[0] - before[0] + 0.45).abs() < 1e-5,
            "{before:?} {after:?}"
        );
        assert!(
            (after[1] - before[1] - 0.45).abs() < 1e-5,
            "{before:?} {after:?}"
        );
    }

    /// The layers driven by hand, as the probe drove them before this type existed.
    fn by_hand(
        x: &[f32],
        grads: &[Vec<f32>],
        optimise_encoder: bool,
        rng: &mut ChaCha8Rng,
    ) -> Vec<f32> {
        let mut net = Network::dense_encoder(64, 5, rng);
        let mut head = Linear::new(5, 3, true, rng);
        let mut adam = Adam::new(AdamConfig::default());
        let n = x.len() / 64;
        let columns = to_columns(x, n, 64);
        for g in grads {
            let features = net.forward(&columns, n, true).to_vec();
            let g = to_columns(g, n, 3);
            head.backward_params(&features, &g, n);
            let mut params = Vec::new();
            if optimise_encoder {
                let mut grad_features = vec![0.0; n * 5];
                head.backward_input(&g, n, &mut grad_features);
                net.backward(&columns, &grad_features, n, false);
                net.params_mut(&mut params);
            }
            head.params_mut(&mut params);
            adam.step(&mut params);
        }
        let features = net.infer(x);
        let mut logits = vec![0.0; n * 3];
        head.forward(&to_columns(&features, n, 5), n, &mut logits);
        to_rows(&logits, 3, n)
    }

    #[test]
    fn training_on_an_encoder_is_the_layers_driven_by_hand_to_the_bit() {
        let mut data = ChaCha8Rng::seed_from_u64(1);
        let x = random(8 * 64, &mut data);
        let grads: Vec<Vec<f32>> = (0..3)
            .map(|_| random(8 * 3, &mut data).iter().map(|g| g - 0.5).collect())
            .collect();
        for training in [EncoderTraining::Optimised, EncoderTraining::Unoptimised] {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let encoder = DenseEncoder::new(64, 5, &mut rng);
            let mut clf = Classifier::on_encoder(encoder, training, 3, 1e-3, &mut rng);
            for g in &grads {
                clf.train_logits(&x);
                clf.step(g);
            }
            let optimise = training == EncoderTraining::Optimised;
            let expected = by_hand(&x, &grads, optimise, &mut ChaCha8Rng::seed_from_u64(7));
            assert_eq!(clf.logits(&x), expected, "{training:?}");
        }
    }

    #[test]
    fn an_unoptimised_encoder_moves_only_its_running_statistics() {
        let mut data = ChaCha8Rng::seed_from_u64(2);
        let x = random(16 * 64, &mut data);
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let encoder = DenseEncoder::new(64, 5, &mut rng);
        let untouched = encoder.clone();
        let mut clf =
            Classifier::on_encoder(encoder, EncoderTraining::Unoptimised, 3, 1e-3, &mut rng);
        clf.train_logits(&x);
        clf.step(&[0.1; 16 * 3]);
        let (trained, _) = clf.encoder.as_ref().unwrap();
        for (a, b) in trained.net.blocks.iter().zip(&untouched.net.blocks) {
            assert_eq!(a.linear.weight.value, b.linear.weight.value);
            if let (Some(a), Some(b)) = (&a.batch_norm, &b.batch_norm) {
                assert_eq!(a.gamma.value, b.gamma.value);
                assert_ne!(a.running_mean, b.running_mean);
            }
        }
    }

    #[test]
    fn fitted_statistics_make_eval_mode_match_one_training_mode_pass() {
        // After fitting on x, eval mode normalises with x's own mean and biased variance:
        // what a training-mode pass over all rows of x at once does (up to the f32 rounding
        // of the stored statistics).
        let mut data = ChaCha8Rng::seed_from_u64(5);
        let x = random(40 * 64, &mut data);
        let mut encoder = DenseEncoder::new(64, 5, &mut ChaCha8Rng::seed_from_u64(6));
        let mut batch = encoder.clone();
        encoder.fit_batch_norm_statistics(&x);
        let expected = batch.encode_in_training_mode(&x, 40);
        for (a, b) in encoder.encode(&x).iter().zip(&expected) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn an_mlp_classifier_saves_loads_and_splits_at_its_features() {
        let mut data = ChaCha8Rng::seed_from_u64(8);
        let x = random(6 * 64, &mut data);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let encoder = DenseEncoder::mlp(&[64, 16, 8], &mut rng);
        let mut clf =
            Classifier::on_encoder(encoder, EncoderTraining::Optimised, 3, 1e-2, &mut rng);
        assert_eq!(
            (clf.input_dim(), clf.feature_dim(), clf.classes()),
            (64, 8, 3)
        );
        // Two steps move the BatchNorm statistics and the weights away from their start.
        for _ in 0..2 {
            clf.train_logits(&x);
            clf.step(&[0.1; 6 * 3]);
        }
        let features = clf.features(&x);
        assert_eq!(features.len(), 6 * 8);
        // The features are ReLU activations.
        assert!(features.iter().all(|&f| f >= 0.0));
        assert_eq!(clf.logits_of_features(&features), clf.logits(&x));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("classifier.safetensors");
        clf.save(&path).unwrap();
        let fresh_encoder = DenseEncoder::mlp(&[64, 16, 8], &mut rng);
        let mut loaded =
            Classifier::on_encoder(fresh_encoder, EncoderTraining::Optimised, 3, 1e-2, &mut rng);
        assert_ne!(loaded.logits(&x), clf.logits(&x));
        loaded.load(&path).unwrap();
        assert_eq!(loaded.logits(&x), clf.logits(&x));
        // Another architecture is refused, naming the tensor.
        let other = DenseEncoder::mlp(&[64, 12, 8], &mut rng);
        let mut other =
            Classifier::on_encoder(other, EncoderTraining::Optimised, 3, 1e-2, &mut rng);
        let err = other.load(&path).unwrap_err().to_string();
        assert!(err.contains("encoder.0.linear.weight"), "{err}");
    }

    #[test]
    #[should_panic(expected = "classifier input: 7 values are not whole rows of 3")]
    fn ragged_input_names_itself() {
        let mut clf = Classifier::linear(3, 2, 0.1, &mut ChaCha8Rng::seed_from_u64(0));
        clf.train_logits(&[0.0; 7]);
    }
}
