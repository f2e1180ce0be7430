//! The autoencoder families written for the autograd backend, one module each, and the
//! [`prelude`] they import. Each declares `pub static FAMILY` (see [`crate::family::Family`])
//! and is listed once below; the registry ([`crate::variants`]) finds them here.

pub mod prelude;

use crate::family::Family;
use crate::variant::Variant;

macro_rules! families {
    ($($family:ident),* $(,)?) => {
        $(pub mod $family;)*

        /// Every family, in the registry's order.
        pub fn all() -> Vec<&'static Family> {
            vec![$(&$family::FAMILY),*]
        }

        /// Each family's registered variant, in the same order.
        pub fn variants() -> Vec<Variant> {
            vec![$($family::variant()),*]
        }
    };
}

families!(contractive, tied, adversarial, wasserstein, k_sparse, conv);
