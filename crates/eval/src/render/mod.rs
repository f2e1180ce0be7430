//! Rendering of already computed results to PNG and GIF files: image grids,
//! interpolation animations, ROC curves, 2-D scatter plots, dot-and-whisker plots
//! and heatmaps. Nothing here computes a result; every file is written atomically
//! (temporary file then rename), and text uses the embedded DejaVu Sans font, never
//! a system font.

mod dot_whisker;
mod font;
mod gif;
mod grid;
mod heatmap;
mod plot;
mod roc_plot;
mod scatter_plot;

pub use self::dot_whisker::{
    dot_whisker_plot, DotWhiskerPlot, DotWhiskerPoint, DotWhiskerSeries, DOT_WHISKER_FRAME_PX,
    DOT_WHISKER_ROW_PX, DOT_WHISKER_SERIES_PX, DOT_WHISKER_WIDTH_PX,
};
pub use self::gif::{write_gif, write_gif_images};
pub use self::grid::{image_grid, interpolation_strip, reconstruction_grid, save_png, GRID_PAD};
pub use self::heatmap::{heatmap_plot, HEATMAP_CELL_PX, MISSING_CELL};
pub use self::roc_plot::{roc_grid_plot, RocPanel, ROC_PANEL_PX};
pub use self::scatter_plot::{scatter_grid_plot, ScatterPanel, LEGEND_PX, SCATTER_PANEL_PX};
