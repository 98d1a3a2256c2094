//! The Meta emulator ("the sandbox"): an offline, stateful stand-in for Facebook Login, Graph,
//! Instagram and Threads, driven by a scenario and steered through `/_sandbox/…`.
//!
//! It speaks Meta's wire format (meta-platform.md) with its own types and imports nothing from
//! the rest of sq, so a field sq misreads can't agree with itself here. docs/sandbox.md is the
//! user-facing reference for the scenario format and the control API.

mod consent;
mod control;
mod graph;
mod oauth;
mod publish;
mod scenario;
mod server;
mod wire;
mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use scenario::{AccessLevel, Scenario};

/// What to serve and how.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// 0 = a random free port.
    pub port: u16,
    pub scenario: Scenario,
    /// Added to every Meta request (an async sleep; control requests are never delayed).
    pub latency: Duration,
}

impl SandboxOptions {
    /// Random port, no latency.
    pub fn new(scenario: Scenario) -> SandboxOptions {
        SandboxOptions { port: 0, scenario, latency: Duration::ZERO }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("can't read scenario file {path}: {source}")]
    ScenarioIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bad scenario file {path} at line {line}, column {column}: {message}")]
    ScenarioParse { path: PathBuf, line: usize, column: usize, message: String },
    #[error("unknown built-in scenario {name:?}; built-in scenarios: {known} (or a path to a JSON file)")]
    UnknownScenario { name: String, known: String },
    #[error(
        "can't listen on 127.0.0.1:{port}: the port is already in use (pick another with --port, or 0 for a random one)"
    )]
    PortBusy { port: u16 },
    #[error("can't listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("can't start the sandbox runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("sandbox internal error: {0}")]
    Internal(String),
}

/// A sandbox serving on the current tokio runtime.
pub struct RunningSandbox {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// Bind to 127.0.0.1 and serve on the current tokio runtime until `shutdown` (or drop).
pub async fn start(opts: SandboxOptions) -> Result<RunningSandbox, SandboxError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            SandboxError::PortBusy { port: opts.port }
        } else {
            SandboxError::Bind { port: opts.port, source }
        }
    })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind { port: opts.port, source })?;
    let latency_ms = u64::try_from(opts.latency.as_millis()).unwrap_or(u64::MAX);
    let shared = Arc::new(server::Shared::new(opts.scenario, latency_ms, format!("http://{addr}")));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(server::serve(listener, shared, rx));
    Ok(RunningSandbox { addr, stop: Some(tx), task })
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`; Meta host H is at `{base_url}/{H}/…`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, drop open connections (hung requests included) and wait for the loop.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A sandbox on its own multi-thread runtime on a background thread, for synchronous callers
/// (tests of the binary, `sq demo`). Dropping it stops the server and joins the thread.
pub struct SandboxThread {
    base_url: String,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SandboxThread {
    pub fn start(opts: SandboxOptions) -> Result<SandboxThread, SandboxError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("sq-sandbox")
            .build()
            .map_err(SandboxError::Runtime)?;
        let running = rt.block_on(start(opts))?;
        let base_url = running.base_url();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sq-sandbox".to_string())
            .spawn(move || {
                // Park until asked to stop (or the handle is dropped), then shut down in order.
                let _ = rx.recv();
                rt.block_on(running.shutdown());
                rt.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(SandboxError::Runtime)?;
        Ok(SandboxThread { base_url, stop: Some(tx), thread: Some(thread) })
    }

    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }
}

impl Drop for SandboxThread {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
