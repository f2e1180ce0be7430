//! Rendering of computed results to PNG and GIF files (no computing).
