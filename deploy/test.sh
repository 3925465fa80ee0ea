#!/usr/bin/env bash
# The project's test command: every test target (unit, integration, bins, examples, benches).
#
# Debug profile on purpose: Cargo.toml sets `[profile.dev.package."*"] opt-level = 2`, so the
# heavy dependencies (SQLite, image decoding, PDF parsing) run optimised while our own crate
# compiles fast and keeps debug assertions and overflow checks on. A release build would cost a
# cold ~4 min on 2 cores for little gain.
#
# PostgreSQL, browser, object-store and reverse-proxy tests are mandatory here
# (LOKET_REQUIRE_PG=1, LOKET_REQUIRE_BROWSER=1, LOKET_REQUIRE_GARAGE=1, LOKET_REQUIRE_NGINX=1);
# set one to empty on a machine without PostgreSQL, Chromium, Garage (deploy/install-garage.sh)
# or nginx to skip those tests instead.
# OMP_THREAD_LIMIT=1 must be in the environment before libgomp loads: tesseract is 3-4x faster
# with it on 2 cores, and tests run two at a time anyway. `--all-targets` also builds and runs the benches once as smoke
# tests; BENCH_SIZES keeps the intake benchmark small there (`cargo bench` uses its real sizes).
# Extra arguments go to cargo test (e.g. `deploy/test.sh -- --nocapture`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LOKET_REQUIRE_PG="${LOKET_REQUIRE_PG-1}"
[[ -n "$LOKET_REQUIRE_PG" ]] || unset LOKET_REQUIRE_PG
export LOKET_REQUIRE_BROWSER="${LOKET_REQUIRE_BROWSER-1}"
[[ -n "$LOKET_REQUIRE_BROWSER" ]] || unset LOKET_REQUIRE_BROWSER
export LOKET_REQUIRE_GARAGE="${LOKET_REQUIRE_GARAGE-1}"
[[ -n "$LOKET_REQUIRE_GARAGE" ]] || unset LOKET_REQUIRE_GARAGE
export LOKET_REQUIRE_NGINX="${LOKET_REQUIRE_NGINX-1}"
[[ -n "$LOKET_REQUIRE_NGINX" ]] || unset LOKET_REQUIRE_NGINX
export OMP_THREAD_LIMIT=1
export BENCH_SIZES="${BENCH_SIZES:-50}"
exec cargo test --all-targets "$@"
