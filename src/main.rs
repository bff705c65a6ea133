//! `mirador`: with no arguments, the desktop app; with a subcommand, the headless CLI.

/// ONNX Runtime 1.31's Linux build records telemetry events in a database under
/// `~/.cache/Microsoft/DeveloperTools/` (for upload) unless `ORT_DISABLE_TELEMETRY` is set when the
/// library loads; the API switch ort's `with_telemetry(false)` uses comes too late to stop it.
#[allow(unsafe_code)]
fn main() -> std::process::ExitCode {
    if std::env::var_os("ORT_DISABLE_TELEMETRY").is_none() {
        // SAFETY: the first statement of `main`: no other thread exists yet that could read the
        // environment while it changes.
        unsafe { std::env::set_var("ORT_DISABLE_TELEMETRY", "1") };
    }
    mirador::cli::main()
}
