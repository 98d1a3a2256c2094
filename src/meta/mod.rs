//! The Meta client: the one place sq talks to Meta (Facebook Graph, Instagram, Threads).
//!
//! - [`hosts`]: every URL (honours `SQ_META_API_BASE` / `SQ_GRAPH_VERSION`).
//! - [`client`]: [`GraphClient`] — auth header, `appsecret_proof`, retries, usage recording.
//! - [`error`]: Meta's error shapes → [`MetaError`], and its exit-code translation. What the
//!   codes mean is the classifier's (`crate::model::classify`).
//! - [`usage`]: `X-App-Usage` / `X-Business-Use-Case-Usage` (§9).
//! - [`paging`], [`batch`]: `paging.next` following and synchronous batches (§10).
//! - [`catalog`]: every request sq can send, kept in step with `docs/meta-api.md`.
//! - [`oauth`]: the three code exchanges through the `oauth2` crate, with Meta's token and
//!   error shapes.
//! - [`types`], [`api`]: the typed calls sq needs; [`publish`]: the publishing calls (§7).
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

pub mod api;
pub mod batch;
pub mod catalog;
pub mod client;
pub mod error;
pub mod hosts;
pub mod oauth;
pub mod paging;
pub mod publish;
pub mod types;
pub mod usage;

pub use batch::BatchItem;
pub use client::{AppCredentials, AuthScheme, GraphClient, Limits, Method, Request, appsecret_proof};
pub use error::{ApiError, MetaError};
pub use hosts::{Host, MetaEndpoints};
pub use usage::Usage;
