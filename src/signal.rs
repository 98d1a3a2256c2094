//! The one way sq's long-running commands learn they should stop.

/// Ctrl-C, or SIGTERM (a service manager stopping the process) where there is one, so
/// `sq publish --watch` and `sq sandbox serve` end cleanly either way.
///
/// The handlers are registered by [`Shutdown::install`], not when waiting starts: a signal that
/// arrives in between (say, right after `sandbox serve` wrote its port file) is then caught
/// instead of killing the process with the default action.
pub struct Shutdown {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    /// Must be called inside the tokio runtime.
    pub fn install() -> Shutdown {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
                (Ok(int), Ok(term)) => Some((int, term)),
                _ => None,
            };
            Shutdown { signals }
        }
        #[cfg(not(unix))]
        Shutdown {}
    }

    /// Resolves on the first Ctrl-C or SIGTERM.
    pub async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut int, mut term)) = self.signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
