//! SHA-256 helpers and the `SHA256SUMS` file format (`<hex>  <name>` per line).

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::DataError;

/// Name of the checksum file looked for in a dataset directory.
pub const SUMS_FILE: &str = "SHA256SUMS";

/// Lower-case hex SHA-256 digest of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Parse the text of a `SHA256SUMS` file (as written by `sha256sum`) into a map
/// from file name to lower-case hex digest. Blank lines and `#` comments are
/// skipped; a `*` binary-mode marker before the name is accepted. `path` is only
/// used in error messages.
pub fn parse_sums(text: &str, path: &Path) -> Result<HashMap<String, String>, DataError> {
    let mut map = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |detail: &str| DataError::BadChecksumFile {
            path: path.to_path_buf(),
            line: i + 1,
            detail: detail.to_string(),
        };
        let (hex, rest) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("expected \"<sha256-hex>  <file name>\""))?;
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad("digest is not 64 hex digits"));
        }
        let name = rest.trim_start();
        let name = name.strip_prefix('*').unwrap_or(name);
        if name.is_empty() {
            return Err(bad("missing file name"));
        }
        map.insert(name.to_string(), hex.to_ascii_lowercase());
    }
    Ok(map)
}

/// Read and parse `path` as a `SHA256SUMS` file.
pub fn read_sums(path: &Path) -> Result<HashMap<String, String>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    parse_sums(&text, path)
}

/// Check that `bytes` (read from `path`) hash to `expected` (hex, any case).
pub fn verify(bytes: &[u8], expected: &str, path: &Path) -> Result<(), DataError> {
    let actual = sha256_hex(bytes);
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(DataError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected: expected.to_ascii_lowercase(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn parse_sums_accepts_sha256sum_format() {
        let h = "a".repeat(64);
        let text = format!("{h}  file-a\n\n# c\n{}  *file-b\n", "B".repeat(64));
        let m = parse_sums(&text, Path::new("SUMS")).unwrap();
        assert_eq!(m["file-a"], h);
        assert_eq!(m["file-b"], "b".repeat(64));
    }

    #[test]
    fn parse_sums_rejects_garbage() {
        let e = parse_sums("nothex  x\n", Path::new("dir/SHA256SUMS")).unwrap_err();
        assert!(matches!(e, DataError::BadChecksumFile { line: 1, .. }));
        assert!(e.to_string().contains("SHA256SUMS"));
    }

    #[test]
    fn verify_reports_both_digests() {
        let e = verify(b"abc", &"0".repeat(64), Path::new("f.bin")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("f.bin") && msg.contains(&"0".repeat(64)) && msg.contains("ba7816bf"));
    }
}
