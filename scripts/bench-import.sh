#!/usr/bin/env bash
# Benchmark of `roster import`: N users with an email account and a 1 GiB drive each (default
# 100,000), from CSV into a fresh release-built server on SQLite, on this machine.
# Usage: scripts/bench-import.sh [rows]        Prints the wall time and rows per second.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-100000}"
cargo build --release -q -p roster --manifest-path "$root/Cargo.toml"
roster="$root/target/release/roster"

work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
export ROSTER_DATA_DIR="$work/data" ROSTER_CONFIG_DIR="$work/config" ROSTER_LOG=warn
export ROSTER_ADMIN_PASSWORD="bench-admin-password" ROSTER_PASSWORD="bench-admin-password"
unset ROSTER_DATABASE_URL

awk -v n="$rows" 'BEGIN {
  print "user_id,nick_name,identity,drive_size";
  for (i = 0; i < n; i++) printf "u%07d,User %d,u%07d@example.com,1G\n", i, i, i;
}' > "$work/users.csv"

port=$(( 20000 + RANDOM % 20000 ))
"$roster" serve --listen "127.0.0.1:$port" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  "$roster" login --server "http://127.0.0.1:$port" > /dev/null 2>&1 && break
  sleep 0.1
done

start=$(date +%s.%N)
"$roster" import "$work/users.csv" 2> /dev/null
end=$(date +%s.%N)
server_cpu=$(ps -o time= -p "$server" | tr -d ' ')
awk -v s="$start" -v e="$end" -v n="$rows" -v cpu="$server_cpu" -v loadavg="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "imported %d rows in %.1f s: %.0f rows/s (server CPU %s, load average %s)\n", n, e - s, n / (e - s), cpu, loadavg
}'
