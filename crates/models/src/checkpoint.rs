//! Checkpoints: a model's tensors as safetensors (via candle), written atomically, under
//! the same keys in either backend; each backend saves and loads its own models with these.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

/// Why a checkpoint could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing the file failed.
    #[error("checkpoint {path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A tensor the model needs is absent.
    #[error("checkpoint {path}: tensor `{name}` is missing")]
    Missing {
        /// The file.
        path: PathBuf,
        /// The key.
        name: String,
    },
    /// A tensor has another shape than the model's.
    #[error(
        "checkpoint {path}: tensor `{name}` has shape {found:?}, the model needs {expected:?}"
    )]
    Shape {
        /// The file.
        path: PathBuf,
        /// The key.
        name: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
}

pub(crate) fn io_error(path: &Path, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes named tensors to a safetensors file at `path`, through a temporary file and a
/// rename, creating the directory if needed.
pub fn write_tensors(
    tensors: &HashMap<String, Tensor>,
    path: &Path,
) -> Result<(), CheckpointError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(path, e))?;
    }
    let tmp = path.with_extension("safetensors.tmp");
    candle_core::safetensors::save(tensors, &tmp).map_err(|e| io_error(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

/// The tensors of the safetensors file at `path`, on the CPU.
pub fn read_tensors(path: &Path) -> Result<HashMap<String, Tensor>, CheckpointError> {
    candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| io_error(path, e))
}

/// The tensor `name` of a checkpoint read from `path`, checked against the model's `shape`.
pub fn tensor<'a>(
    tensors: &'a HashMap<String, Tensor>,
    name: &str,
    shape: &[usize],
    path: &Path,
) -> Result<&'a Tensor, CheckpointError> {
    let tensor = tensors.get(name).ok_or_else(|| CheckpointError::Missing {
        path: path.to_path_buf(),
        name: name.to_string(),
    })?;
    if tensor.dims() != shape {
        return Err(CheckpointError::Shape {
            path: path.to_path_buf(),
            name: name.to_string(),
            expected: shape.to_vec(),
            found: tensor.dims().to_vec(),
        });
    }
    Ok(tensor)
}
