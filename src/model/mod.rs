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
//! - [`text`]: `sanitize`, for text from outside that will be printed.
//! - [`grant`]: how a login's (granular) grant covers a Page, read the same way by `diagnose`
//!   and by the commands that save a login.

pub mod classify;
pub mod grant;
pub mod network;
pub mod profile;
pub mod text;

pub use network::Network;
pub use profile::{ProfileKind, Via};
