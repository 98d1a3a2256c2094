use crate::cmd::Exit;
use crate::ctx::Ctx;
use crate::error::Error;

/// Put failed posts back on the queue
#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_ctx: &Ctx, _args: Args) -> Result<Exit, Error> {
    Ok(Exit::Success)
}
