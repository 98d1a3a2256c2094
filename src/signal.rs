//! The one way sq's long-running commands learn they should stop.

/// Resolves on Ctrl-C, or on SIGTERM (a service manager stopping the process) where there is
/// one, so `sq publish --watch` and `sq sandbox` end cleanly either way.
pub async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
