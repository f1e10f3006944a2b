"""``codeagent trace show`` and ``codeagent audit``: a job's trace and audit log, locally."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from codeagent.graphs.cli.config import Home, cli_run_config
from codeagent.graphs.jobs.store import store_for
from codeagent.tools.observability.trace_file import SpanNode, load_spans, span_tree

__all__ = ["register", "span_label"]

out = Console()
trace_app = typer.Typer(help="Show a job's OpenTelemetry trace from its run folder.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def span_label(span: SpanNode) -> str:
    """One line for a span: name, duration and what matters about it (pure)."""
    a = span.attributes
    parts = [f"[bold]{span.name}[/bold]", f"{span.duration_s:.2f}s"]
    if "gen_ai.usage.input_tokens" in a:
        tokens_out = a.get("gen_ai.usage.output_tokens", 0)
        parts.append(f"tokens {a['gen_ai.usage.input_tokens']} in / {tokens_out} out")
    if "process.exit_code" in a:
        parts.append(
            f"exit {a['process.exit_code']}"
            + (" TIMED OUT" if a.get("codeagent.sandbox.timed_out") else "")
        )
    if "codeagent.transition.to" in a:
        reason = next(
            (
                e.get("codeagent.reason", "")
                for e in span.events
                if e["name"] == "codeagent.transition"
            ),
            "",
        )
        outcome = a.get("codeagent.transition.outcome")
        parts.append(f"-> {a['codeagent.transition.to']} ({outcome}: {reason[:80]})")
    if "codeagent.status" in a:
        parts.append(f"status {a['codeagent.status']}")
    if span.status_code == 2:
        parts.append("[red]ERROR[/red]")
    return "  ".join(parts)


def _add(tree: Tree, span: SpanNode) -> None:
    branch = tree.add(span_label(span), highlight=False)
    for child in span.children:
        _add(branch, child)


@trace_app.command("show")
def show(
    ctx: typer.Context,
    thread_id: Annotated[str, typer.Argument(help="The job.")],
    as_json: JsonFlag = False,
    home: Home = None,
) -> None:
    """Print a job's span tree with durations, node outcomes and tokens."""
    store = store_for(cli_run_config(ctx, home))
    record = store.load_record(thread_id)
    data: dict[str, Any] = store.read_trace(thread_id)
    if as_json:
        out.print_json(json.dumps(data))
        return
    roots = span_tree(load_spans(data))
    if not roots:
        out.print(f"job {thread_id} has no trace yet")
        return
    for span in roots:
        tree = Tree(f"trace {span.trace_id}  (job {record.thread_id})", highlight=False)
        _add(tree, span)
        out.print(tree)
    out.print(
        f"stored in {store.where(thread_id)}  (for Jaeger: codeagent trace show {thread_id} "
        "--json > trace.json, then Search -> Upload JSON)"
    )


def audit(
    ctx: typer.Context,
    thread_id: Annotated[str, typer.Argument(help="The job.")],
    as_json: JsonFlag = False,
    home: Home = None,
) -> None:
    """Print a job's audit log: model calls, sandbox commands, files written, decisions."""
    store = store_for(cli_run_config(ctx, home))
    store.load_record(thread_id)
    lines = store.read_audit(thread_id)
    if as_json:
        out.print_json(json.dumps(lines))
        return
    table = Table(title=f"audit of job {thread_id}")
    for column in ("event", "what", "result"):
        table.add_column(column)
    for line in lines:
        table.add_row(line["event"], *_describe(line))
    out.print(table)


def _describe(line: dict[str, Any]) -> tuple[str, str]:
    event = line["event"]
    if event == "model_call":
        tokens = f"{line.get('input_tokens', 0)} in / {line.get('output_tokens', 0)} out"
        finish = [r for r in line.get("finish_reasons", []) if r != "stop"]
        ended = f", ended: {', '.join(finish)}" if finish else ""
        return line.get("model", ""), f"{tokens}, {line['duration_s']}s{ended}"
    if event == "sandbox_run":
        return (
            f"[{line.get('backend')}] {str(line.get('command', ''))[:60]}",
            f"exit {line.get('exit_code')}, {line['duration_s']}s",
        )
    if event == "node":
        files = ", ".join(line.get("files_written", []))
        return (
            f"{line.get('node')} (attempt {line.get('attempt')})",
            f"wrote {files}" if files else line.get("error", ""),
        )
    if event == "transition":
        return (
            f"{line.get('from')} -> {line.get('to')}",
            f"{line.get('outcome')}: {str(line.get('reason', ''))[:70]}",
        )
    return line.get("workflow", ""), str(line.get("status", ""))


def register(app: typer.Typer) -> None:
    """Add ``trace`` and ``audit`` to the main app."""
    app.add_typer(trace_app, name="trace")
    app.command("audit")(audit)
