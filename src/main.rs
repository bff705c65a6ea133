//! `mirador`: with no arguments, the desktop app; with a subcommand, the headless CLI.

fn main() -> std::process::ExitCode {
    mirador::cli::main()
}
