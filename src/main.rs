fn main() -> std::process::ExitCode {
    sq::main()
}
