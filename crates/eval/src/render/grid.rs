//! Grids and strips of grayscale images, and PNG saving.

use std::io::{self, Cursor};
use std::ops::Deref;
use std::path::Path;

use image::{
    EncodableLayout, GrayImage, ImageBuffer, ImageFormat, Luma, Pixel, PixelWithColorType,
};

use ae_data::fs::write_atomic;

/// Padding in pixels between the tiles of a figure (before upscaling).
pub const GRID_PAD: usize = 2;

/// Value of padding pixels and of missing tiles' surroundings: mid gray, so
/// that tiles stand apart from both black backgrounds and white strokes.
const PAD_VALUE: u8 = 128;

fn to_u8(x: f32) -> u8 {
    (x.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Tiles `images` (row-major, each `side x side` with values in [0, 1],
/// clamped, scaled to 0..=255) into `rows x cols` tiles in reading order,
/// with `pad` gray pixels between neighbouring tiles (none around the
/// border): the result is `cols*side + (cols-1)*pad` wide and
/// `rows*side + (rows-1)*pad` high. Tiles beyond the given images stay black.
///
/// # Panics
/// If `side == 0`, `images.len()` is not a multiple of `side * side`, or
/// there are more than `rows * cols` images.
pub fn image_grid(images: &[f32], side: usize, rows: usize, cols: usize, pad: usize) -> GrayImage {
    let area = side * side;
    assert!(
        side > 0 && images.len().is_multiple_of(area),
        "images must be n x side x side"
    );
    assert!(images.len() / area <= rows * cols, "more images than tiles");
    let span = |k: usize| (k * side + k.saturating_sub(1) * pad) as u32;
    let mut img = GrayImage::from_pixel(span(cols), span(rows), Luma([PAD_VALUE]));
    for r in 0..rows {
        for c in 0..cols {
            let (x0, y0) = ((c * (side + pad)) as u32, (r * (side + pad)) as u32);
            let tile = images.chunks_exact(area).nth(r * cols + c);
            for y in 0..side {
                for x in 0..side {
                    let v = tile.map_or(0, |t| to_u8(t[y * side + x]));
                    img.put_pixel(x0 + x as u32, y0 + y as u32, Luma([v]));
                }
            }
        }
    }
    img
}

/// Encodes `img` (gray, RGB, ...) as PNG and writes it atomically to `path`.
pub fn save_png<P, C>(img: &ImageBuffer<P, C>, path: &Path) -> io::Result<()>
where
    P: Pixel + PixelWithColorType,
    [P::Subpixel]: EncodableLayout,
    C: Deref<Target = [P::Subpixel]>,
{
    let mut bytes = Cursor::new(Vec::new());
    img.write_to(&mut bytes, ImageFormat::Png)
        .map_err(io::Error::other)?;
    write_atomic(path, bytes.get_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_size_scaling_and_padding() {
        // Three 2x2 images in a 2x2 grid with 1 pixel padding.
        let images = [
            0.0, 1.0, 0.5, 2.0, /**/ -1.0, 0.2, 0.2, 0.2, /**/ 1.0, 1.0, 1.0, 1.0,
        ];
        let g = image_grid(&images, 2, 2, 2, 1);
        assert_eq!(g.dimensions(), (5, 5));
        assert_eq!(g.get_pixel(1, 0)[0], 255);
        assert_eq!(g.get_pixel(0, 1)[0], 128);
        assert_eq!(g.get_pixel(1, 1)[0], 255); // clamped
        assert_eq!(g.get_pixel(2, 0)[0], PAD_VALUE);
        assert_eq!(g.get_pixel(3, 0)[0], 0); // clamped
        assert_eq!(g.get_pixel(0, 3)[0], 255);
        assert_eq!(g.get_pixel(4, 4)[0], 0); // missing tile
    }

    #[test]
    fn png_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.png");
        let g = image_grid(&[0.25; 16], 4, 1, 1, 0);
        save_png(&g, &path).unwrap();
        let back = image::open(&path).unwrap().to_luma8();
        assert_eq!(back, g);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
