"""How the CLI shows a job: one line per node as it finishes, and a summary."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.status import Status
from rich.table import Table

from codeagent.graphs.jobs.delivery import Delivery
from codeagent.graphs.jobs.runner import NodeEvent, RunResult

__all__ = ["Progress", "describe_update", "format_tests", "print_result"]

_STATUS_STYLE = {
    "success": "green",
    "failed": "red",
    "budget_exceeded": "yellow",
    "error": "red",
    "awaiting_approval": "cyan",
    "rejected": "red",
}


def format_tests(report: dict[str, Any], noun: str = "") -> str:
    """``6/6 passed (effective 4/6: 2 vacuous)``, or ``3/4 passed`` without vacuous tests (pure).

    A vacuous test passed against a stub of the code too; ``passed`` in the report is
    the effective count and ``raw_passed`` what the test runner said. ``noun`` goes
    before ``passed`` (``tests``). Disputed tests (model-written tests the code and the
    candidates agreeing with it all fail; not in ``total``) are named after it.
    """
    passed, total = report.get("passed", 0), report.get("total", 0)
    vacuous = int(report.get("vacuous") or 0)
    raw = report.get("raw_passed", passed) if vacuous else passed
    line = f"{raw}/{total} {noun} passed" if noun else f"{raw}/{total} passed"
    line = f"{line} (effective {passed}/{total}: {vacuous} vacuous)" if vacuous else line
    disputed = int(report.get("disputed") or 0)
    return f"{line}, {disputed} disputed (not counted)" if disputed else line


def describe_update(node: str, update: dict[str, Any]) -> tuple[bool, str]:
    """``(ok, text)`` for one node's update (pure)."""
    transition = (update.get("transitions") or [{}])[-1]
    arrow = f" -> {transition.get('to')} ({transition.get('outcome')})" if transition else ""
    ok = transition.get("outcome") not in ("fail", "changes", "budget", "rollback")
    if update.get("plan"):
        plan = update["plan"]
        files = ", ".join(plan.get("files", []))
        text = f"plan v{plan.get('version')}: {len(plan.get('steps', []))} steps, files: {files}"
    elif update.get("rollback") and update.get("history"):
        r = update["history"][-1].get("report") or {}  # the run that failed, not the restored
        restored = update["rollback"].get("restored_attempt")
        text = f"{r.get('passed', 0)}/{r.get('total', 0)} tests passed; back to attempt {restored}"
    elif update.get("test_report"):
        r = update["test_report"]
        cov = f", coverage {r['coverage']}%" if r.get("coverage") is not None else ""
        text = f"{format_tests(r, 'tests')}{cov}"
    elif update.get("review"):
        review = update["review"]
        text = f"review: {review.get('verdict')}"
        if review.get("comments") and review.get("verdict") != "approve":
            text += f" ({str(review['comments'][0])[:80]})"
    elif "files" in update:
        text = f"attempt {update.get('attempt', '?')}: {', '.join(update['files'])}"
    else:
        text = transition.get("reason", "")
    return ok, text + arrow


class Progress:
    """Shows node-by-node progress; a context manager around a job."""

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.console = console
        self.enabled = (enabled and console.is_terminal) or enabled
        self._status: Status | None = None

    def __enter__(self) -> Progress:
        if self.enabled and self.console.is_terminal:
            self._status = self.console.status("starting")
            self._status.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._status is not None:
            self._status.stop()

    def on_event(self, event: NodeEvent) -> None:
        """Render one :class:`NodeEvent`."""
        if not self.enabled:
            return
        if event.kind == "start":
            if self._status is not None:
                self._status.update(f"running [bold]{event.node}[/bold] ...")
            return
        ok, text = describe_update(event.node, event.update)
        mark = "[green]✓[/green]" if ok else "[yellow]✗[/yellow]"
        self.console.print(f"{mark} [bold]{event.node:<8}[/bold] {text}", highlight=False)


def print_delivery(console: Console, delivery: Delivery) -> None:
    """What was done with a repo job's patch."""
    if delivery.applied:
        console.print(f"applied to the repository: {', '.join(delivery.applied)}", highlight=False)
    if delivery.branch:
        console.print(
            f"committed on the new branch {delivery.branch} ({(delivery.commit or '')[:12]});"
            " the current branch and the working tree are unchanged",
            highlight=False,
        )


def print_result(console: Console, result: RunResult) -> None:
    """The end-of-job summary table."""
    table = Table(show_header=False, box=None)
    style = _STATUS_STYLE.get(result.status, "white")
    table.add_row("status", f"[bold {style}]{result.status}[/bold {style}]")
    if result.workflow:
        why = f" ({result.workflow_reason})" if result.workflow_reason else ""
        table.add_row("workflow", f"{result.workflow}{why}")
    table.add_row("attempts", str(result.attempts))
    report = result.test_report or {}
    if report:
        table.add_row("tests", format_tests(report))
        if report.get("coverage") is not None:
            table.add_row("coverage", f"{report['coverage']}%")
        for note in report.get("notes") or []:
            table.add_row("note", str(note))
        if report.get("regressions"):
            table.add_row("regressions", ", ".join(report["regressions"][:5]))
        if "verified" in report and report.get("ok") is not None:
            table.add_row("checked", "yes" if report["verified"] else "no test checks the change")
    if result.patch is not None:
        patch = report.get("patch") or {}
        files = ", ".join(patch.get("files") or []) or "(no change)"
        table.add_row(
            "patch",
            f"{files} (+{patch.get('added', 0)} -{patch.get('removed', 0)} lines)",
        )
    usage = result.usage
    table.add_row(
        "model",
        f"{usage.get('calls', 0)} calls, {usage.get('input_tokens', 0)} in / "
        f"{usage.get('output_tokens', 0)} out tokens",
    )
    table.add_row("thread", result.thread_id)
    if result.trace_id:
        table.add_row("trace", result.trace_url or result.trace_id)
    if result.out_dir and result.patch is not None:
        table.add_row("patch file", f"{result.out_dir}/changes.patch")
    elif result.out_dir:
        table.add_row("files", f"{result.out_dir} ({', '.join([*result.files, *result.tests])})")
    console.print(table)
    if result.patch and result.ok:
        console.print(
            f"apply it: codeagent apply {result.thread_id}  (or --branch NAME for a new branch)",
            highlight=False,
        )
    if result.status == "awaiting_approval":
        kind = (result.approval or {}).get("kind", "")
        console.print(
            f"waiting for approval of the {kind}: codeagent approve {result.thread_id} "
            f"[--edit plan.json] | codeagent reject {result.thread_id} --reason ...",
            highlight=False,
        )
    if result.status == "budget_exceeded":
        console.print(
            f"a budget is spent; the best attempt is kept. To go on where it stopped: "
            f"codeagent resume {result.thread_id} --max-model-calls N "
            f"[--max-tokens N] [--max-wall-s S]",
            highlight=False,
        )
    if result.error:
        console.print(f"[bold red]error:[/bold red] {result.error}", highlight=False)
        console.print(f"the job is checkpointed: codeagent resume {result.thread_id}")
