//! Shared plotting plumbing: in-memory bitmap figures saved as PNG, palette.

use std::error::Error;
use std::io;
use std::path::Path;

use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::font::ensure_font;
use super::grid::save_png;

/// A figure's drawing area.
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Ten distinct class colours (matplotlib's "tab10"), indexed by digit.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// An invalid-input error with `msg`.
pub(crate) fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}

/// Number of grid rows needed for `n` panels in `ncols` columns (0 -> 1 column).
pub(crate) fn grid_shape(n: usize, ncols: usize) -> (usize, usize) {
    let ncols = ncols.max(1).min(n.max(1));
    (n.div_ceil(ncols).max(1), ncols)
}

/// Draws a `width x height` white figure with `draw` into memory and saves
/// it as PNG at `path` (atomically).
pub(crate) fn render_png<F>(path: &Path, width: u32, height: u32, draw: F) -> io::Result<()>
where
    F: FnOnce(&Area<'_>) -> Result<(), Box<dyn Error>>,
{
    ensure_font();
    let mut buf = vec![255u8; width as usize * height as usize * 3];
    {
        let to_io = |e: Box<dyn Error>| io::Error::other(e.to_string());
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| to_io(e.into()))?;
        draw(&root).map_err(to_io)?;
        root.present().map_err(|e| to_io(e.into()))?;
    }
    let img = RgbImage::from_raw(width, height, buf).expect("buffer has width * height * 3 bytes");
    save_png(&img, path)
}
