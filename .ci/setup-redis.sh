#!/usr/bin/env bash
# Installs redis-server for the Celery engine's tests; prints its path on the last line.
# Idempotent; starts no service: each test starts its own server, bound to 127.0.0.1 on a
# free port (tests/redis_support.py).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v redis-server >/dev/null; then
  # Debian's package starts a system-wide server on 6379 from its postinst; a
  # policy-rc.d that answers 101 ("action forbidden") stops that, for this install only.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
fi
command -v redis-server
