//! Looping animated GIFs of interpolation frames (see
//! [`interpolation_gif_frames`](super::interpolation_gif_frames)).

use std::borrow::Cow;
use std::io;
use std::path::Path;

use gif::{DisposalMethod, Encoder, Repeat};
use image::GrayImage;

use ae_data::fs::write_atomic;

/// Writes `frames` (all of the size of the first) as an infinitely looping
/// GIF that plays forward then backward: frames `0, 1, ..., n-1, n-2, ..., 1`,
/// i.e. `2n - 2` frames for `n >= 2`, each shown `frame_delay_ms`
/// milliseconds (rounded to the hundredths of a second GIF stores); written
/// atomically. Gray levels are kept exactly: the GIF has one global palette of
/// the 256 gray levels, and every frame after the first stores only the
/// smallest rectangle in which it differs from the one before (drawn over it).
///
/// # Errors
/// If encoding or writing fails, there are no frames, sizes differ, or a side
/// exceeds 65535 pixels.
pub fn write_gif_images(frames: &[GrayImage], path: &Path, frame_delay_ms: u32) -> io::Result<()> {
    let invalid = |msg: &str| io::Error::new(io::ErrorKind::InvalidInput, msg.to_string());
    let first = frames.first().ok_or_else(|| invalid("no frames"))?;
    if frames.iter().any(|f| f.dimensions() != first.dimensions()) {
        return Err(invalid("frames differ in size"));
    }
    let side = |v: u32| u16::try_from(v).map_err(|_| invalid("GIF sides are at most 65535"));
    let (width, height) = (side(first.width())?, side(first.height())?);
    let delay = u16::try_from(frame_delay_ms.saturating_add(5) / 10).unwrap_or(u16::MAX);
    let palette: Vec<u8> = (0..=255u8).flat_map(|v| [v, v, v]).collect();
    let n = frames.len();
    let order = (0..n).chain((1..n.saturating_sub(1)).rev());
    let mut bytes = Vec::new();
    {
        let mut encoder =
            Encoder::new(&mut bytes, width, height, &palette).map_err(io::Error::other)?;
        encoder
            .set_repeat(Repeat::Infinite)
            .map_err(io::Error::other)?;
        let mut previous: Option<&GrayImage> = None;
        for k in order {
            let img = &frames[k];
            let (x0, y0, x1, y1) = match previous {
                None => (0, 0, img.width(), img.height()),
                Some(before) => changed_box(before, img),
            };
            let buffer: Vec<u8> = (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| img.get_pixel(x, y)[0]))
                .collect();
            let frame = gif::Frame {
                delay,
                dispose: DisposalMethod::Keep,
                left: x0 as u16,
                top: y0 as u16,
                width: (x1 - x0) as u16,
                height: (y1 - y0) as u16,
                buffer: Cow::Owned(buffer),
                ..gif::Frame::default()
            };
            encoder.write_frame(&frame).map_err(io::Error::other)?;
            previous = Some(img);
        }
    }
    write_atomic(path, &bytes)
}

/// The smallest rectangle `[x0, x1) x [y0, y1)` holding every pixel in which
/// `a` and `b` (of one size) differ; the top-left pixel when they are equal.
fn changed_box(a: &GrayImage, b: &GrayImage) -> (u32, u32, u32, u32) {
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in b.enumerate_pixels() {
        if a.get_pixel(x, y) != p {
            bounds = Some(bounds.map_or((x, y, x + 1, y + 1), |(x0, y0, x1, y1)| {
                (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1))
            }));
        }
    }
    bounds.unwrap_or((0, 0, 1, 1))
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
        let frames: Vec<GrayImage> = [0, 64, 128, 191, 255]
            .map(|v| GrayImage::from_pixel(28, 28, image::Luma([v])))
            .into();
        write_gif_images(&frames, &path, 100).unwrap();
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
        let one = GrayImage::from_pixel(2, 2, image::Luma([128]));
        write_gif_images(std::slice::from_ref(&one), &path, 50).unwrap();
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        assert_eq!(GifDecoder::new(file).unwrap().into_frames().count(), 1);
        assert!(write_gif_images(&[], &path, 50).is_err());
        let other = GrayImage::new(3, 2);
        assert!(write_gif_images(&[one, other], &path, 50).is_err());
    }

    #[test]
    fn later_frames_store_only_what_changed_and_decode_exactly() {
        // A 20 x 12 page with a constant band, a block whose gray level moves, and a
        // repeated frame (nothing changes).
        let frame = |v: u8| {
            GrayImage::from_fn(20, 12, |x, y| {
                let inside = (5..9).contains(&x) && (6..10).contains(&y);
                image::Luma([if y < 3 {
                    200
                } else if inside {
                    v
                } else {
                    0
                }])
            })
        };
        let frames = vec![frame(10), frame(77), frame(77), frame(255)];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.gif");
        write_gif_images(&frames, &path, 40).unwrap();

        // Stored rectangles: the whole page, then only the block (or one pixel).
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::Indexed);
        let mut decoder = options
            .read_info(std::fs::File::open(&path).unwrap())
            .unwrap();
        let mut rects = Vec::new();
        while let Some(f) = decoder.read_next_frame().unwrap() {
            assert_eq!(f.delay, 4);
            assert!(f.palette.is_none(), "frames use the global palette");
            rects.push((f.left, f.top, f.width, f.height));
        }
        assert_eq!(
            rects,
            [
                (0, 0, 20, 12),
                (5, 6, 4, 4),
                (0, 0, 1, 1),
                (5, 6, 4, 4),
                (5, 6, 4, 4),
                (0, 0, 1, 1)
            ]
        );

        // Composed, every frame shows exactly its gray levels.
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let decoded = GifDecoder::new(file)
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap();
        let order = [0, 1, 2, 3, 2, 1];
        assert_eq!(decoded.len(), order.len());
        for (f, &k) in decoded.iter().zip(&order) {
            let gray = image::DynamicImage::ImageRgba8(f.buffer().clone()).into_luma8();
            assert_eq!(gray, frames[k], "frame {k}");
        }
    }
}
