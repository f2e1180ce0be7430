//! The embedded DejaVu Sans font, registered once with plotters.

use std::sync::Once;

use plotters::style::FontStyle;

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans.LICENSE`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Font family name to use in every plot.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the embedded font as plotters' "sans-serif" family (every
/// style falls back to it); safe and cheap to call any number of times.
pub(crate) fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS)
            .unwrap_or_else(|_| panic!("embedded DejaVu Sans font is invalid"));
    });
}
