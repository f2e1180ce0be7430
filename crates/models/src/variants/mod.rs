//! The registry of bakeoff variants, one module each.
//!
//! To add a variant: write `variants/my_variant.rs` with `pub fn variant() -> Variant`, and
//! add its module name to the `registry!` line below. Nothing else changes: the CLI, the
//! experiment files and the report pick it up by name.

use crate::variant::Variant;

macro_rules! registry {
    ($($module:ident),* $(,)?) => {
        $(mod $module;)*

        /// Every registered variant, in the study's order.
        pub fn all() -> Vec<Variant> {
            vec![$($module::variant()),*]
        }
    };
}

registry!(
    shallow,
    vanilla,
    stacked,
    sparse,
    denoising,
    vae,
    beta_vae_strict,
    beta_vae_loose,
    vq
);

/// An unknown variant name.
#[derive(Debug, thiserror::Error)]
#[error("unknown variant `{name}`; known variants: {known}")]
pub struct UnknownVariant {
    /// The name asked for.
    pub name: String,
    /// The registered names, comma separated.
    pub known: String,
}

/// The variant registered under `name`.
pub fn by_name(name: &str) -> Result<Variant, UnknownVariant> {
    let all = all();
    all.iter()
        .find(|v| v.name == name)
        .cloned()
        .ok_or_else(|| UnknownVariant {
            name: name.to_string(),
            known: all
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The registered names, in order.
pub fn names() -> Vec<String> {
    all().into_iter().map(|v| v.name).collect()
}
