//! `sq token print`: the only command that shows a whole token (like `gh auth token`).

use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::error::Error;

/// Print a profile's whole token on stdout (the only command that does)
///
/// The token that publishes for the profile: the Page token for a Facebook Page or an
/// Instagram account via its Page, the Instagram Login or Threads token otherwise. Use it to
/// hand a token to another tool; keep it out of logs and shell history.
///
/// Examples:
///   sq token print facebook:777
///   TOKEN=$(sq token print "Acme Bakery")
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct PrintArgs {
    /// facebook:<page-id>, instagram:<id>, threads:<id>, or the profile's name
    pub profile: String,
}

pub async fn print(ctx: &Ctx, args: PrintArgs) -> Result<Exit, Error> {
    let row = ctx.db()?.resolve(&args.profile)?;
    let account = row.profile.token_account(&row.connection);
    let reference = row.profile.reference();
    let token = ctx.with_store(move |s| s.load(&account)).await?.ok_or_else(|| {
        Error::action("token_missing", format!("no token is stored for {reference}"))
            .hint(format!("reconnect it: sq reauth {} {reference}", row.profile.kind.name()))
    })?;
    if ctx.printer.is_json() {
        ctx.printer
            .json(&serde_json::json!({"profile": row.profile.reference(), "token": token.expose()}))?;
    } else {
        ctx.printer.answer(token.expose());
    }
    Ok(Exit::Success)
}
