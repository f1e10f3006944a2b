#!/usr/bin/env bash
# Installs and starts PostgreSQL for the Postgres checkpointer's tests; prints the URL.
# Idempotent; runs as root (CI) and leaves a role and database named for the tests.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -n | tail -1)
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
  runuser -u postgres -- pg_isready -q && break
  sleep 1
done
psql_() { runuser -u postgres -- psql -qtAc "$1"; }
[ "$(psql_ "SELECT 1 FROM pg_roles WHERE rolname='codeagent'")" = 1 ] ||
  psql_ "CREATE ROLE codeagent LOGIN PASSWORD 'codeagent-test'"
[ "$(psql_ "SELECT 1 FROM pg_database WHERE datname='codeagent_test'")" = 1 ] ||
  psql_ "CREATE DATABASE codeagent_test OWNER codeagent"
echo "postgresql://codeagent:codeagent-test@127.0.0.1:5432/codeagent_test"
