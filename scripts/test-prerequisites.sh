#!/usr/bin/env bash
# Run by `npm test` before the type check and Vitest: makes sure the tools the tests run are on
# this machine, so a fresh CI machine needs nothing beyond Node and apt (as root).
#
# - Debian packages: prometheus (prometheus, promtool), victoria-metrics, kcat, docker-compose,
#   openjdk-17-jre-headless, maven; bsdutils (script) and python3, which play a terminal for the
#   tests of the service's terminal behaviour.
#   Missing ones are installed with apt-get when running as root; otherwise the script says what
#   to install and fails.
# - java (OpenJDK 17) and mvn (Apache Maven) fetch and run the Kafka broker; installed the same way.
# - The Kafka broker's classpath (scripts/kafka-broker.sh install): a no-op once cached.
#
# Cheap when everything is present: a few `command -v` and one file comparison.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# command the tests run -> Debian package that provides it
declare -A PACKAGE_OF=(
  [prometheus]=prometheus
  [promtool]=prometheus
  [victoria-metrics]=victoria-metrics
  [kcat]=kcat
  [docker-compose]=docker-compose
  [java]=openjdk-17-jre-headless
  [mvn]=maven
  [script]=bsdutils
  [python3]=python3
)

say() { printf 'test-prerequisites: %s\n' "$*" >&2; }

missing_packages() {
  local cmd
  for cmd in "${!PACKAGE_OF[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || printf '%s\n' "${PACKAGE_OF[$cmd]}"
  done | sort -u
}

ensure_debian_packages() {
  local missing
  missing="$(missing_packages | tr '\n' ' ')"
  missing="${missing% }"
  [[ -z "$missing" ]] && return 0

  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing Debian packages: $missing"
    say "install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing"
    exit 1
  fi

  say "installing missing Debian packages: $missing"
  # No prompts, and no needrestart service questions from apt's hooks.
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
  apt-get update -q </dev/null >/dev/null
  # shellcheck disable=SC2086  # one word per package
  apt-get install -y -q --no-install-recommends $missing </dev/null >/dev/null

  missing="$(missing_packages | tr '\n' ' ')"
  [[ -z "${missing% }" ]] || { say "still missing after apt-get install: $missing"; exit 1; }
}

ensure_debian_packages
# Fetch the broker's jars now rather than inside Vitest's global setup, where a slow download
# would look like a hanging test run. Quiet when the cache is already complete.
bash "$SCRIPT_DIR/kafka-broker.sh" install >/dev/null
