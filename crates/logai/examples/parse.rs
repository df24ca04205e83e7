//! Structures stdin offline: `cargo run --release -p logai --example parse < FILE`.
//!
//! As `redscope logai parse` does, with [`logai::Config::default`] unless the environment names
//! another value of a threshold (for evaluations such as `crates/logai/loo.py`):
//! `LOGAI_SIMILARITY` ([`logai::Config::similarity`]) and `LOGAI_WORD_VARIANTS`
//! ([`logai::Config::word_variants`]).

use logai::Config;

/// The value of `name` in the environment, parsed, or `default` when unset.
fn threshold<T: std::str::FromStr>(name: &str, default: T) -> std::io::Result<T> {
    match std::env::var(name) {
        Ok(text) => text.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad {name}: {text}"),
            )
        }),
        Err(_) => Ok(default),
    }
}

fn main() -> std::io::Result<()> {
    let defaults = Config::default();
    let config = Config {
        similarity: threshold("LOGAI_SIMILARITY", defaults.similarity)?,
        word_variants: threshold("LOGAI_WORD_VARIANTS", defaults.word_variants)?,
        ..defaults
    };
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    logai::cli::parse_with(config, stdin.lock(), stdout.lock())
}
