//! The domain's plain types, shared by every layer: which networks there are, what kinds of
//! profile exist and what each needs, and how Meta's error codes are read.
//!
//! Leaf modules: nothing here imports anything of sq outside `model`, and nothing here does
//! I/O, so `diagnose`, `meta`, `publish`, `db`, `auth` and the commands can all depend on it
//! without depending on each other (see `docs/ARCHITECTURE.md`).
//!
//! - [`network`]: [`Network`], the three networks.
//! - [`profile`]: [`ProfileKind`] (with its permissions), [`Via`], and the one
//!   (network, via) → kind mapping.
//! - [`classify`]: the one classifier of Meta's error codes.

pub mod classify;
pub mod network;
pub mod profile;

pub use network::Network;
pub use profile::{ProfileKind, Via};
