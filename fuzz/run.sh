#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 30 s each) with cargo fuzz (nightly,
# libFuzzer, coverage-guided). Installs cargo-fuzz when missing. No sanitizer: the code under
# test is safe Rust, where a bug shows as a panic, and an AddressSanitizer build of the whole
# dependency tree costs CI many minutes. A crash fails the run, with the input saved
# under fuzz/artifacts/<target>/. Usage: fuzz/run.sh [seconds per target]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz build --sanitizer none
status=0
for target in signature_header marker pds_body rpc_params jwt; do
  mkdir -p "corpus/$target"
  log="$(mktemp)"
  if cargo +nightly fuzz run --sanitizer none "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "$target: ${runs:-?} inputs in $seconds s, no crash"
  else
    echo "$target: CRASH (input under fuzz/artifacts/$target)" >&2
    grep -E 'panicked|ERROR|SUMMARY' "$log" | head -n 20 >&2
    status=1
  fi
  rm -f "$log"
done
exit "$status"
