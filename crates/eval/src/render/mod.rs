//! Rendering of already computed results to PNG and GIF files: labelled, upscaled
//! image grids, interpolation strips and animations, ROC curves, 2-D scatter plots,
//! dot-and-whisker plots and heatmaps. Nothing here computes a result; every file is
//! written atomically (temporary file then rename), and text uses the embedded DejaVu
//! Sans font, never a system font.

mod dot_whisker;
mod figure;
mod font;
mod gif;
mod grid;
mod heatmap;
mod plot;
mod roc_plot;
mod scatter_plot;
mod xy_plot;

pub use self::dot_whisker::{
    dot_whisker_plot, DotWhiskerPlot, DotWhiskerPoint, DotWhiskerSeries, DOT_WHISKER_FRAME_PX,
    DOT_WHISKER_ROW_PX, DOT_WHISKER_SERIES_PX, DOT_WHISKER_WIDTH_PX,
};
pub use self::figure::{
    interpolation_gif_frames, interpolation_strip, reconstruction_grid, sample_grid,
    square_grid_shape, strip_frame_indices, upscale, FIGURE_SCALE, RECONSTRUCTION_ROWS,
};
pub use self::gif::write_gif_images;
pub use self::grid::{image_grid, save_png, GRID_PAD};
pub use self::heatmap::{heatmap_plot, HEATMAP_CELL_PX, MISSING_CELL};
pub use self::roc_plot::{roc_grid_plot, RocPanel, ROC_PANEL_PX};
pub use self::scatter_plot::{scatter_grid_plot, ScatterPanel, LEGEND_PX, SCATTER_PANEL_PX};
pub use self::xy_plot::{xy_plot, XyPlot, XY_PLOT_PX};
