"""The CLI's edge: its flags and the environment, read once into a run configuration.

The ``--checkpoint-url`` option (before the command) is kept on the root Typer
context; each command's ``--home`` joins it in :func:`cli_run_config`. Nothing is
written into ``os.environ``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codeagent.graphs.jobs.config import CHECKPOINT_URL_ENV, HOME_ENV, RunConfig
from codeagent.graphs.workers.app import BROKER_URL_ENV, Engine

__all__ = [
    "Broker",
    "CheckpointUrl",
    "EngineOption",
    "Home",
    "cli_run_config",
    "remember_checkpoint_url",
]

Home = Annotated[
    Path | None,
    typer.Option("--home", help=f"State dir (default ${HOME_ENV} or ./.codeagent)."),
]
CheckpointUrl = Annotated[
    str | None,
    typer.Option(
        "--checkpoint-url",
        envvar=CHECKPOINT_URL_ENV,
        help="Keep checkpoints in PostgreSQL (postgresql://user:pass@host/db).",
        show_envvar=True,
    ),
]
Broker = Annotated[
    str | None,
    typer.Option(
        "--broker",
        envvar=BROKER_URL_ENV,
        show_envvar=True,
        help="The celery engine's broker: redis://HOST:6379/0.",
    ),
]
EngineOption = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="Where the jobs run: local (threads here) or celery (queued for "
        "'codeagent worker' processes; set --broker and a shared --checkpoint-url).",
    ),
]
_URL_KEY = "checkpoint_url"


def remember_checkpoint_url(ctx: typer.Context, url: str | None) -> None:
    """Keep the root command's ``--checkpoint-url`` for the command that runs."""
    ctx.ensure_object(dict)[_URL_KEY] = url


def cli_run_config(ctx: typer.Context, home: Path | None) -> RunConfig:
    """This command's run configuration: ``--home`` and ``--checkpoint-url`` over the
    environment variables."""
    found = ctx.find_root().obj
    url = found.get(_URL_KEY) if isinstance(found, dict) else None
    return RunConfig.from_env(home, url)
