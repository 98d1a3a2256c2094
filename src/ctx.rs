//! The context every command runs in (habit 4): settings plus every side effect as a value or
//! a trait object, so tests can swap them.

use crate::env::Env;
use crate::error::Error;
use crate::output::Printer;
use crate::prompt::Prompter;
use crate::settings::Settings;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

pub struct Ctx {
    pub settings: Settings,
    pub env: Env,
    pub printer: Printer,
    pub prompter: Box<dyn Prompter>,
    pub clock: Arc<dyn Clock>,
    http: OnceLock<reqwest::Client>,
}

/// Meta answers in well under this; a hung connection must not freeze a cron job.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Ctx {
    pub fn new(
        settings: Settings,
        env: Env,
        printer: Printer,
        prompter: Box<dyn Prompter>,
        clock: Arc<dyn Clock>,
    ) -> Ctx {
        Ctx { settings, env, printer, prompter, clock, http: OnceLock::new() }
    }

    /// One HTTP client for the whole run (connection pooling across batches). Built on first
    /// use so commands that never talk to Meta start fast.
    pub fn http(&self) -> Result<&reqwest::Client, Error> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("sq/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(HTTP_TIMEOUT)
            // Redirects from Meta's API are not expected; following one could send the
            // Authorization header somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| Error::failure("internal", format!("could not start the HTTP client: {e}")))?;
        Ok(self.http.get_or_init(|| client))
    }
}
