"""``codeagent sandbox``: build the sandbox image and check the sandbox backends.

Errors print a message and a hint and exit with status 2, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from codeagent.tools.errors import CodeAgentError, SandboxMissing
from codeagent.tools.sandbox.factory import DoctorReport, doctor
from codeagent.tools.sandbox.image import build_image, default_image
from codeagent.tools.sandbox.preflight import check_sandbox
from codeagent.tools.sandbox.setup import host_facts, setup_plan

__all__ = ["app"]

app = typer.Typer(
    help="Build the Docker sandbox image and check which sandbox backend is usable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_err = Console(stderr=True)
_out = Console()


def _fail(exc: CodeAgentError) -> NoReturn:
    _err.print(f"[red]error:[/red] {exc.message}", highlight=False)
    if exc.hint:
        _err.print(f"  hint: {exc.hint}", highlight=False)
    raise typer.Exit(2)


@app.command()
def build(
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Skip the Dockerfile (registry) route: debootstrap from the host's apt mirror.",
        ),
    ] = False,
    tag: Annotated[
        str | None,
        typer.Option("--tag", help="Image reference to build (default: this version's)."),
    ] = None,
) -> None:
    """Build the sandbox image (python3, pytest, coverage, nodejs)."""
    target = tag or default_image()
    try:
        with _err.status(f"building {target}", spinner="dots") as status:

            def progress(line: str) -> None:
                status.update(f"building {target}: {line[:90]}")
                if not line.startswith((" ", "---> ", "Step ")):
                    _err.print(f"  {line}", highlight=False, markup=False)

            result = build_image(target, offline=offline, progress=progress)
    except CodeAgentError as exc:
        _fail(exc)
    how = "offline (debootstrap)" if result.route == "offline" else "from the Dockerfile"
    cached = ", cached root filesystem" if result.rootfs_cached else ""
    _out.print(f"[green]built[/green] {result.tag} {how}{cached}", highlight=False)


@app.command()
def setup(
    backend: Annotated[
        str, typer.Option("--backend", help="The backend to make usable: auto, docker or local.")
    ] = "auto",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be done; change nothing.")
    ] = False,
) -> None:
    """Make a sandbox backend usable: build the image or install bubblewrap, else say how.

    With a Docker engine it builds the sandbox image; without one, as root or with
    passwordless sudo, it runs ``apt-get install bubblewrap``; otherwise it exits with
    status 2 and the exact command to run.
    """
    plan = setup_plan(host_facts(), backend)
    if plan.action == "ready":
        _out.print(f"[green]ready[/green]: {plan.message} (backend {plan.backend})")
        return
    if plan.action == "stop":
        _fail(SandboxMissing(plan.message, hint=plan.hint))
    _err.print(f"{plan.message}", highlight=False)
    if plan.action == "build_image":
        _err.print("  runs: codeagent sandbox build", highlight=False)
    for command in plan.commands:
        _err.print(f"  runs: {' '.join(command)}", highlight=False, markup=False)
    if dry_run:
        return
    if plan.action == "build_image":
        build(offline=False, tag=None)
    for command in plan.commands:
        if subprocess.run(command, check=False).returncode != 0:
            _fail(SandboxMissing(f"{' '.join(command)} failed", hint="run it yourself and retry"))
    try:
        used = check_sandbox(backend)
    except CodeAgentError as exc:
        _fail(exc)
    _out.print(f"[green]ready[/green]: backend {used}", highlight=False)


@app.command(name="doctor")
def doctor_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the facts as JSON.")] = False,
    image: Annotated[
        str | None, typer.Option("--image", help="Image to look for (default: this version's).")
    ] = None,
) -> None:
    """Check the Docker engine, the sandbox image and bubblewrap; exit 2 if docker is not ready."""
    report = doctor(image)
    if as_json:
        _out.print_json(json.dumps(report.to_dict()))
    else:
        _render(report)
    if not report.ok:
        raise typer.Exit(2)


def _render(report: DoctorReport) -> None:
    table = Table(show_header=True, header_style="bold")
    for column in ("check", "status", "detail", "fix"):
        table.add_column(column)
    for check in report.checks:
        mark = "[green]ok[/green]" if check.ok else "[red]missing[/red]"
        table.add_row(check.name, mark, check.detail, check.hint or "")
    _out.print(table)
    if report.backend == "docker":
        _out.print(f"backend auto -> [green]docker[/green] ({report.image})", highlight=False)
    elif report.backend == "local":
        _out.print(
            "backend auto -> [yellow]local[/yellow]: bubblewrap only, weaker isolation than docker",
            highlight=False,
        )
    else:
        _out.print("[red]no sandbox backend is usable[/red]", highlight=False)
