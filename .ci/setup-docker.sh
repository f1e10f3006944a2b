#!/usr/bin/env bash
# CI: a Docker engine and the codeagent sandbox image, idempotently.
# Runs as root with CI=true and no stdin. Installs docker.io and debootstrap when
# missing, starts dockerd when no engine answers, then builds the sandbox image
# with the project's own CLI (offline route: debootstrap from the host's apt mirror).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" </dev/null >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: /tmp/dockerd.log)"
  setsid dockerd >/tmp/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
if ! docker info >/dev/null 2>&1; then
  echo "the Docker engine did not start; last lines of /tmp/dockerd.log:" >&2
  tail -n 20 /tmp/dockerd.log >&2 || true
  exit 1
fi

PY="${PYTHON:-$(command -v python || command -v python3)}"
image=$("$PY" -c 'from codeagent.tools.sandbox.image import default_image; print(default_image())')
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "sandbox image $image already built"
else
  "$PY" -c 'from codeagent.graphs.cli.sandbox import app; app()' build --offline
fi
"$PY" -c 'from codeagent.graphs.cli.sandbox import app; app()' doctor
