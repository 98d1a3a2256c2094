use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::sandbox::{self, SandboxOptions, Scenario};
use std::path::PathBuf;
use std::time::Duration;

/// Run the offline Meta emulator
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: SandboxCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    Serve(ServeArgs),
}

/// Serve an offline, stateful emulator of the Meta endpoints sq uses
///
/// It listens on 127.0.0.1 only and runs until interrupted. Point sq or your own scripts at it
/// with SQ_META_API_BASE. The world comes from a built-in scenario or a JSON file; the control
/// API under /_sandbox/ injects events (password change, expiry, lost role, quota, throttling,
/// 5xx, hangs), chooses what the next consent screen grants, and shows what was published.
/// See docs/sandbox.md.
///
/// Examples:
///   sq sandbox serve --port 8080
///   sq sandbox serve --scenario everything --port-file /tmp/sq-port &
///   export SQ_META_API_BASE=http://127.0.0.1:$(cat /tmp/sq-port)
///   sq sandbox serve --scenario ./my-world.json --latency-ms 50
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// A built-in scenario name or a JSON scenario file
    #[arg(long, value_name = "FILE|NAME", default_value = "default")]
    pub scenario: String,
    /// Latency added to every answer, in milliseconds
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Write the chosen port to this file once listening (for scripts)
    #[arg(long, value_name = "F")]
    pub port_file: Option<PathBuf>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let SandboxCommand::Serve(args) = args.command;
    let stop = crate::signal::Shutdown::install();
    let scenario = Scenario::load(&args.scenario).map_err(|e| {
        Error::usage(e.to_string())
            .hint(format!("built-in scenarios: {}", Scenario::builtin_names().join(", ")))
    })?;
    let running = sandbox::start(SandboxOptions {
        port: args.port,
        scenario,
        latency: Duration::from_millis(args.latency_ms),
    })
    .await
    .map_err(|e| {
        Error::failure("sandbox", e.to_string()).hint("choose another --port, or --port 0 for a free one")
    })?;
    let base = running.base_url();
    if let Some(path) = &args.port_file {
        crate::fsutil::write_atomic(path, format!("{}\n", running.addr().port()).as_bytes(), 0o644)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
    if ctx.printer.is_json() {
        ctx.printer.json(&serde_json::json!({"base_url": base, "port": running.addr().port()}))?;
    } else {
        ctx.printer.answer(&base);
    }
    ctx.printer.status(format!("Meta sandbox listening on {base} (scenario {})", args.scenario));
    ctx.printer.hint(format!("export SQ_META_API_BASE={base}"));
    ctx.printer.status("Press Ctrl-C to stop.");
    stop.wait().await;
    running.shutdown().await;
    ctx.printer.status("sandbox stopped");
    Ok(Exit::Success)
}
