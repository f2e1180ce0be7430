//! Looping animated GIFs of interpolation frames.

use std::io;
use std::path::Path;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, DynamicImage, Frame, GrayImage};

use super::grid::image_grid;
use ae_data::fs::write_atomic;

/// Writes `frames` (row-major, each `side x side` in [0, 1]) as an
/// infinitely looping GIF that plays forward then backward: frames
/// `0, 1, ..., n-1, n-2, ..., 1`, i.e. `2n - 2` frames for `n >= 2`, each
/// shown `frame_delay_ms` milliseconds (GIF stores hundredths of a second).
///
/// # Errors
/// If encoding or writing fails, or there are no frames.
///
/// # Panics
/// If the length is not a multiple of `side * side`.
pub fn write_gif(frames: &[f32], side: usize, path: &Path, frame_delay_ms: u32) -> io::Result<()> {
    let area = side * side;
    assert!(
        side > 0 && frames.len().is_multiple_of(area),
        "frames must be n x side x side"
    );
    let images: Vec<GrayImage> = frames
        .chunks_exact(area)
        .map(|f| image_grid(f, side, 1, 1, 0))
        .collect();
    write_gif_images(&images, path, frame_delay_ms)
}

/// As [`write_gif`], for frames that are already images (e.g. grids), all
/// of the size of the first.
///
/// # Errors
/// If encoding or writing fails, there are no frames, or sizes differ.
pub fn write_gif_images(frames: &[GrayImage], path: &Path, frame_delay_ms: u32) -> io::Result<()> {
    let invalid = |msg: &str| io::Error::new(io::ErrorKind::InvalidInput, msg.to_string());
    let first = frames.first().ok_or_else(|| invalid("no frames"))?;
    if frames.iter().any(|f| f.dimensions() != first.dimensions()) {
        return Err(invalid("frames differ in size"));
    }
    let n = frames.len();
    let order = (0..n).chain((1..n.saturating_sub(1)).rev());
    let delay = Delay::from_numer_denom_ms(frame_delay_ms, 1);
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut bytes, 10);
        encoder
            .set_repeat(Repeat::Infinite)
            .map_err(io::Error::other)?;
        let frames = order.map(|k| {
            let rgba = DynamicImage::ImageLuma8(frames[k].clone()).into_rgba8();
            Frame::from_parts(rgba, 0, 0, delay)
        });
        encoder.encode_frames(frames).map_err(io::Error::other)?;
    }
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::gif::GifDecoder;
    use image::AnimationDecoder;

    #[test]
    fn ping_pong_frames_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.gif");
        let n = 5;
        let frames: Vec<f32> = (0..n).flat_map(|k| vec![k as f32 / 4.0; 28 * 28]).collect();
        write_gif(&frames, 28, &path, 100).unwrap();
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let decoded = GifDecoder::new(file)
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap();
        assert_eq!(decoded.len(), 2 * n - 2);
        let values: Vec<u8> = decoded
            .iter()
            .map(|f| f.buffer().get_pixel(3, 3)[0])
            .collect();
        assert_eq!(values, [0, 64, 128, 191, 255, 191, 128, 64]);
        for f in &decoded {
            assert_eq!(f.buffer().dimensions(), (28, 28));
            assert_eq!(f.delay().numer_denom_ms(), (100, 1));
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn single_frame_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.gif");
        write_gif(&[0.5; 4], 2, &path, 50).unwrap();
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        assert_eq!(GifDecoder::new(file).unwrap().into_frames().count(), 1);
        assert!(write_gif_images(&[], &path, 50).is_err());
    }
}
