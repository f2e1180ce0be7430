//! Images as they are cached between computing and rendering: 8-bit gray levels in a hex
//! string, so a job's JSON stays compact and the renderer draws exactly what was computed.

use serde::{Deserialize, Serialize};

/// `count` square images of `side x side` pixels, quantised to 0..=255 as the PNG and GIF
/// writers would, stored as lowercase hex (two characters per pixel).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pixels {
    /// Width and height of one image.
    pub side: usize,
    /// Number of images.
    pub count: usize,
    /// Gray levels, image after image, row-major.
    pub hex: String,
}

impl Pixels {
    /// Quantises `values` in [0, 1] (clamped), `count x side x side` row-major.
    ///
    /// # Panics
    /// If `values.len()` is not a multiple of `side * side`.
    pub fn from_unit(values: &[f32], side: usize) -> Self {
        let area = side * side;
        assert!(
            area > 0 && values.len().is_multiple_of(area),
            "not n x side x side"
        );
        let mut hex = String::with_capacity(values.len() * 2);
        for &v in values {
            let level = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            hex.push_str(&format!("{level:02x}"));
        }
        Self {
            side,
            count: values.len() / area,
            hex,
        }
    }

    /// Gray levels back in [0, 1]; quantising them again gives the same levels.
    pub fn to_unit(&self) -> anyhow::Result<Vec<f32>> {
        let bytes = self.hex.as_bytes();
        if bytes.len() != 2 * self.count * self.side * self.side {
            anyhow::bail!(
                "pixel data holds {} values, expected {} images of {}x{}",
                bytes.len() / 2,
                self.count,
                self.side,
                self.side
            );
        }
        bytes
            .chunks_exact(2)
            .map(|pair| {
                let s = std::str::from_utf8(pair)?;
                Ok(f32::from(u8::from_str_radix(s, 16)?) / 255.0)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_exact_after_quantisation() {
        let values = [0.0, 1.0, 0.5, 0.25, -1.0, 2.0, 0.999, 0.001];
        let p = Pixels::from_unit(&values, 2);
        assert_eq!(p.count, 2);
        let back = p.to_unit().unwrap();
        assert_eq!(back[0], 0.0);
        assert_eq!(back[1], 1.0);
        assert_eq!(Pixels::from_unit(&back, 2), p);
        let broken = Pixels {
            count: 3,
            ..p.clone()
        };
        assert!(broken.to_unit().is_err());
    }
}
