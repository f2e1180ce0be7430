//! Saving and loading the fused engine's autoencoders (through [`crate::checkpoint`]).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};

use crate::checkpoint::{io_error, read_tensors, tensor, write_tensors, CheckpointError};
use crate::fused::autoencoder::Autoencoder;

/// Saves every tensor of `model` to `path` (keys like `encoder.0.linear.weight`,
/// `encoder.0.bn.running_mean`), through a temporary file and a rename.
pub fn save(model: &Autoencoder, path: &Path) -> Result<(), CheckpointError> {
    let mut tensors = HashMap::new();
    for t in model.named_tensors() {
        let tensor = Tensor::from_slice(t.values, t.shape.as_slice(), &Device::Cpu)
            .map_err(|e| io_error(path, e))?;
        tensors.insert(t.name, tensor);
    }
    write_tensors(&tensors, path)
}

/// Loads the tensors of `path` into `model`, which must have been built for the same
/// variant and latent size.
pub fn load_into(model: &mut Autoencoder, path: &Path) -> Result<(), CheckpointError> {
    let tensors = read_tensors(path)?;
    for t in model.named_tensors_mut() {
        *t.values = tensor(&tensors, &t.name, &t.shape, path)?
            .flatten_all()
            .and_then(|f| f.to_vec1::<f32>())
            .map_err(|e| io_error(path, e))?;
    }
    Ok(())
}
