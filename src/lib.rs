pub mod meta;
pub mod sandbox;
pub mod secret;

pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
