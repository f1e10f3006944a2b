"""Benchmark: the embedded model decoding 1, 2, 4, 5 answers side by side.

Usage::

    python -m codeagent.evals.benchmarks.bench_parallel --slots 1,2,4,5 [--model NAME] [--json]

For each ``K`` it starts the embedded server with ``K`` slots (llama.cpp ``n_parallel``,
a unified KV cache) and asks ``K`` answers of one coding prompt at once (temperature
0.8, a seed each, ``--max-tokens`` each, as a sampling coder's candidates), then
reports the wall time, the output tokens the server counted and the aggregate output
tokens per second. The reference, in the same run, is ``K`` = 1: one answer at a
time. ``speedup`` is each row's tokens/s over that reference's; ``candidates_s`` is
what ``--candidates`` answers would take at that rate, against drawing them one by one.
"""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import typer

from codeagent.tools.models.local import start_server
from codeagent.tools.models.store import DEFAULT_MODEL

__all__ = ["main", "measure"]

PROMPT = (
    "Write a Python function `histogram(words: list[str]) -> dict[str, int]` that counts "
    "how often each word occurs, ignoring case and punctuation, with a docstring and "
    "three doctest examples. Answer with one Python code block."
)


def _ask(base_url: str, model: str, seed: int, max_tokens: int) -> dict[str, Any]:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "temperature": 0.8,
        "seed": seed,
        "max_tokens": max_tokens,
    }
    request = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def measure(model: str, slots: int, max_tokens: int, threads: int | None) -> dict[str, Any]:
    """``slots`` answers at once on a server with ``slots`` slots."""
    server = start_server(model, slots=slots, threads=threads, context_size=2048)
    try:
        _ask(server.base_url, server.name, 0, 8)  # warm: the prompt's first pass
        started = time.perf_counter()
        with ThreadPoolExecutor(slots) as pool:
            answers = list(
                pool.map(
                    lambda seed: _ask(server.base_url, server.name, seed, max_tokens),
                    range(1, slots + 1),
                )
            )
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    tokens = sum(int(a["usage"]["completion_tokens"]) for a in answers)
    return {
        "slots": slots,
        "seconds": round(seconds, 2),
        "output_tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 2),
    }


def main(
    slots: Annotated[str, typer.Option(help="Slot counts to measure, comma-separated.")] = (
        "1,2,4,5"
    ),
    model: Annotated[str, typer.Option(help="Embedded model.")] = DEFAULT_MODEL,
    max_tokens: Annotated[int, typer.Option(help="Output tokens per answer.")] = 96,
    candidates: Annotated[int, typer.Option(help="Answers a sampling coder draws.")] = 5,
    threads: Annotated[int | None, typer.Option(help="CPU threads (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print aggregate output tokens/s with 1..K answers decoded side by side."""
    counts = sorted({int(k) for k in slots.split(",")} | {1})
    rows = [measure(model, k, max_tokens, threads) for k in counts]
    base = rows[0]["tokens_per_s"]
    for row in rows:
        row["speedup"] = round(row["tokens_per_s"] / base, 2)
        row["candidates_s"] = round(candidates * max_tokens / row["tokens_per_s"], 1)
    data = {"model": model, "max_tokens": max_tokens, "candidates": candidates, "rows": rows}
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"{model}, {max_tokens} output tokens per answer")
    typer.echo(f"{'slots':>5} {'seconds':>8} {'tokens':>7} {'tokens/s':>9} {'speed-up':>8}")
    for row in rows:
        typer.echo(
            f"{row['slots']:>5} {row['seconds']:>8} {row['output_tokens']:>7} "
            f"{row['tokens_per_s']:>9} {row['speedup']:>8}"
        )
    one, best = rows[0], max(rows, key=lambda r: r["tokens_per_s"])
    typer.echo(
        f"{candidates} candidates of {max_tokens} tokens: {one['candidates_s']} s one by one, "
        f"{best['candidates_s']} s with {best['slots']} slots"
    )


if __name__ == "__main__":
    typer.run(main)
