//! `sq diagnose`'s pure core: [`facts`] describe what collection gathered, [`engine::diagnose`]
//! turns them into findings, [`report`] is the `--json` contract and the [`Verdict`] the exit
//! code comes from. Nothing here does I/O or reads a clock, and nothing here imports anything
//! of sq but the model (`crate::model`): collection, local checks and the human rendering are
//! the command's (`cmd/diagnose/`).

pub mod engine;
pub mod facts;
pub mod report;

pub use engine::diagnose;
pub use facts::*;
pub use report::{
    Code, EnvironmentReport, Expiry, Finding, Fix, ProfileReport, Report, SCHEMA_VERSION, Severity, Status,
    Summary, TokenReport, Verdict, human_time, rfc3339,
};

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
