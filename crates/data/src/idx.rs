//! The IDX file format (images: magic 0x00000803, labels: magic 0x00000801),
//! optionally gzip-compressed, with exact length checks.

use std::io::Read;
use std::path::Path;

use crate::DataError;

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

const IMAGES_HEADER_LEN: usize = 16;
const LABELS_HEADER_LEN: usize = 8;

/// Read a whole file, transparently decompressing it when it starts with the
/// gzip magic bytes (`1f 8b`), whatever its name.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    if raw.len() < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
        return Ok(raw);
    }
    // The gzip trailer holds the uncompressed size mod 2^32: a good capacity hint.
    let hint = if raw.len() >= 18 {
        let t = &raw[raw.len() - 4..];
        u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize
    } else {
        0
    };
    let mut out = Vec::with_capacity(hint.min(1 << 30));
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|e| DataError::io(path, e))?;
    Ok(out)
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn check_header(
    bytes: &[u8],
    path: &Path,
    magic: u32,
    header_len: usize,
) -> Result<Vec<usize>, DataError> {
    if bytes.len() < 4 {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected_len: header_len,
            actual_len: bytes.len(),
        });
    }
    let found = be_u32(bytes, 0);
    if found != magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            expected: magic,
            found,
        });
    }
    if bytes.len() < header_len {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected_len: header_len,
            actual_len: bytes.len(),
        });
    }
    let dims: Vec<usize> = (4..header_len)
        .step_by(4)
        .map(|at| be_u32(bytes, at) as usize)
        .collect();
    let payload = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|p| p.checked_add(header_len))
        .ok_or_else(|| DataError::DimensionMismatch {
            path: path.to_path_buf(),
            detail: format!("header dimensions {dims:?} overflow"),
        })?;
    if bytes.len() < payload {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected_len: payload,
            actual_len: bytes.len(),
        });
    }
    if bytes.len() > payload {
        return Err(DataError::TrailingBytes {
            path: path.to_path_buf(),
            expected_len: payload,
            actual_len: bytes.len(),
        });
    }
    Ok(dims)
}

/// Validate the header of decompressed IDX image bytes and return
/// `(count, rows, cols, pixels)` where `pixels` borrows the payload
/// (`count * rows * cols` bytes, image-major, row-major). `path` is only used in
/// error messages.
pub fn parse_idx_images_ref<'a>(
    bytes: &'a [u8],
    path: &Path,
) -> Result<(usize, usize, usize, &'a [u8]), DataError> {
    let dims = check_header(bytes, path, IMAGES_MAGIC, IMAGES_HEADER_LEN)?;
    Ok((dims[0], dims[1], dims[2], &bytes[IMAGES_HEADER_LEN..]))
}

/// Parse decompressed IDX image bytes into `(count, rows, cols, pixels)`.
/// The payload must be exactly `count * rows * cols` bytes long.
pub fn parse_idx_images(
    bytes: &[u8],
    path: &Path,
) -> Result<(usize, usize, usize, Vec<u8>), DataError> {
    let (n, r, c, px) = parse_idx_images_ref(bytes, path)?;
    Ok((n, r, c, px.to_vec()))
}

/// Parse decompressed IDX label bytes; the payload must be exactly `count`
/// bytes long. The values are returned as stored: which of them are valid classes
/// depends on the dataset ([`crate::Layout::classes`] checks and maps them).
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    check_header(bytes, path, LABELS_MAGIC, LABELS_HEADER_LEN)?;
    Ok(bytes[LABELS_HEADER_LEN..].to_vec())
}

/// Read an IDX image file (gzip or raw) into `(count, rows, cols, pixels)`.
pub fn read_idx_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>), DataError> {
    parse_idx_images(&read_maybe_gz(path)?, path)
}

/// Read an IDX label file (gzip or raw); the labels are returned as stored.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    parse_idx_labels(&read_maybe_gz(path)?, path)
}

/// Encode an IDX image file (test fixtures and tools).
pub fn encode_idx_images(count: usize, rows: usize, cols: usize, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(IMAGES_HEADER_LEN + pixels.len());
    for v in [IMAGES_MAGIC, count as u32, rows as u32, cols as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// Encode an IDX label file (test fixtures and tools).
pub fn encode_idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(LABELS_HEADER_LEN + labels.len());
    out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("some/train-images-idx3-ubyte")
    }

    #[test]
    fn images_roundtrip() {
        let px: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
        let bytes = encode_idx_images(2, 3, 4, &px);
        assert_eq!(parse_idx_images(&bytes, p()).unwrap(), (2, 3, 4, px));
    }

    #[test]
    fn labels_roundtrip() {
        let bytes = encode_idx_labels(&[5, 0, 4, 1, 9]);
        assert_eq!(parse_idx_labels(&bytes, p()).unwrap(), vec![5, 0, 4, 1, 9]);
    }

    #[test]
    fn truncated_payload_is_an_error() {
        let mut bytes = encode_idx_images(2, 3, 4, &[0; 24]);
        bytes.pop();
        let e = parse_idx_images(&bytes, p()).unwrap_err();
        assert!(matches!(
            e,
            DataError::Truncated {
                expected_len: 40,
                actual_len: 39,
                ..
            }
        ));
        assert!(e.to_string().contains("train-images-idx3-ubyte"));
    }

    #[test]
    fn truncated_header_is_an_error() {
        let bytes = encode_idx_images(2, 3, 4, &[0; 24]);
        let e = parse_idx_images(&bytes[..10], p()).unwrap_err();
        assert!(matches!(
            e,
            DataError::Truncated {
                expected_len: 16,
                ..
            }
        ));
        let e = parse_idx_labels(&[0, 0], p()).unwrap_err();
        assert!(matches!(e, DataError::Truncated { .. }));
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = encode_idx_labels(&[1, 2]);
        bytes.push(3);
        let e = parse_idx_labels(&bytes, p()).unwrap_err();
        assert!(matches!(e, DataError::TrailingBytes { .. }));
    }

    #[test]
    fn wrong_magic_is_an_error() {
        let bytes = encode_idx_labels(&[1, 2]);
        let e = parse_idx_images(&bytes, p()).unwrap_err();
        assert!(matches!(
            e,
            DataError::BadMagic {
                expected: IMAGES_MAGIC,
                found: LABELS_MAGIC,
                ..
            }
        ));
        assert!(e.to_string().contains("0x00000803"));
    }

    #[test]
    fn labels_are_returned_as_stored() {
        // Range checks belong to the dataset's layout, not to the file format.
        let bytes = encode_idx_labels(&[1, 26, 255]);
        assert_eq!(parse_idx_labels(&bytes, p()).unwrap(), vec![1, 26, 255]);
    }

    #[test]
    fn huge_header_dimensions_do_not_overflow() {
        let mut bytes = Vec::new();
        for v in [IMAGES_MAGIC, u32::MAX, u32::MAX, u32::MAX] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        assert!(parse_idx_images(&bytes, p()).is_err());
    }
}
