#!/usr/bin/env bash
# Sets up and runs the whole test suite: formatting, lints, Rust unit/integration tests,
# the OpenTelemetry Python SDK end-to-end tests and, when the web UI is present, its browser
# tests. Installs what it needs (Python packages in .venv, npm packages, Debian's chromium
# when running as root).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=never

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
cargo --version

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

step "Log AI: severity on the corpus of real programs' logs"
python3 crates/logai/eval_corpus.py --min-sev 0.97 --max-fpe 0.001 | tail -1

step "python: OpenTelemetry SDK end to end"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
cargo build -p redscope
REDSCOPE_BIN="$ROOT/target/debug/redscope" .venv/bin/python -m pytest -q tests/python

if [ -f web/package.json ]; then
  step "web UI: build and browser tests"
  scripts/web-test.sh
fi

step "all tests passed"
