//! `sq diagnose`'s pure core (habit 6): [`facts`] describe what collection gathered,
//! [`engine::diagnose`] turns them into findings, [`report`] is the `--json` contract, the exit
//! code rule and the human rendering. Nothing here does I/O or reads a clock.

pub mod collect;
pub mod engine;
pub mod facts;
pub mod local;
pub mod report;

pub use engine::diagnose;
pub use facts::*;
pub use report::{
    Code, EnvironmentReport, Expiry, Finding, Fix, ProfileReport, Report, SCHEMA_VERSION, Severity, Status,
    Summary, TokenReport, render_human, render_human_width,
};

#[cfg(test)]
mod tests;
