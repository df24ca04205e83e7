//! Structures stdin offline: `cargo run --release -p logai --example parse < FILE`.

fn main() -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    logai::cli::parse(stdin.lock(), stdout.lock())
}
