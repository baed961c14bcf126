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
# - helm (HELM_VERSION below), which lints and renders deploy/helm/k8s-expenses for the chart's
#   tests: built once with `go install` from the Go module proxy (several minutes; Go must be
#   installed) into HELM_CACHE_DIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/k8s-expenses/helm-<version>.
#   The tests run that binary, not a helm on PATH, so every machine renders with the same version.
#
# Cheap when everything is present: a few `command -v`, one file comparison and one file test.
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

# The helm the chart's tests run (test/support/helm.ts reads this line and computes the same path).
HELM_VERSION=v4.3.2
HELM_DIR="${HELM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-expenses/helm-$HELM_VERSION}"

ensure_helm() {
  [[ -x "$HELM_DIR/helm" ]] && return 0
  if ! command -v go >/dev/null 2>&1; then
    say "helm $HELM_VERSION is missing from $HELM_DIR and Go is not installed to build it"
    say "install Go from https://go.dev/dl/ (helm $HELM_VERSION needs Go 1.26; Go 1.21 or newer fetches that toolchain by itself), or put a helm $HELM_VERSION binary at $HELM_DIR/helm"
    exit 1
  fi
  mkdir -p "$(dirname "$HELM_DIR")"
  # Two runs at once (e.g. two terminals) build once.
  exec 8>"$HELM_DIR.lock"
  if command -v flock >/dev/null 2>&1; then flock 8; fi
  if [[ -x "$HELM_DIR/helm" ]]; then exec 8>&-; return 0; fi

  say "building helm $HELM_VERSION with go install into $HELM_DIR (several minutes, once per machine)"
  local build
  build="$(mktemp -d "$HELM_DIR.build.XXXXXX")"
  # Go's output goes to a file: it only matters when the build fails. The binary is moved into
  # place last, so a build that died half-way leaves nothing that looks installed.
  if ! GOBIN="$build" go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >"$build/go.log" 2>&1; then
    cat "$build/go.log" >&2
    rm -rf "$build"
    say "could not build helm $HELM_VERSION (is the Go module proxy reachable? see GOPROXY)"
    exit 1
  fi
  mkdir -p "$HELM_DIR"
  mv "$build/helm" "$HELM_DIR/helm"
  rm -rf "$build"
  exec 8>&-
}

ensure_debian_packages
ensure_helm
# Fetch the broker's jars now rather than inside Vitest's global setup, where a slow download
# would look like a hanging test run. Quiet when the cache is already complete.
bash "$SCRIPT_DIR/kafka-broker.sh" install >/dev/null
