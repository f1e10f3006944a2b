"""Where jobs keep their state: the run configuration, built once at the edge.

The CLI builds one from its flags and the environment; the Python API (``run_job``,
``resume_job``, ``run_batch``, ...) builds one from its ``home`` argument and the
environment when the caller passes none. Everything below takes the configuration
as an argument: no deeper code reads ``CODEAGENT_HOME`` or ``CODEAGENT_CHECKPOINT_URL``,
and nothing writes them.

Example::

    from codeagent.graphs.jobs.config import RunConfig

    config = RunConfig(Path("state"), checkpoint_url="postgresql://me:pw@db/jobs")
    run_job("Write add(a, b) ...", config=config)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["CHECKPOINT_URL_ENV", "HOME_ENV", "RunConfig", "run_config"]

HOME_ENV = "CODEAGENT_HOME"
CHECKPOINT_URL_ENV = "CODEAGENT_CHECKPOINT_URL"


@dataclass(frozen=True)
class RunConfig:
    """Where jobs keep their state.

    Attributes:
        home: The state dir: run records, traces, audit logs and (unless
            ``checkpoint_url`` is set) the SQLite checkpoints.
        checkpoint_url: A ``postgresql://`` URL to keep checkpoints in (None: SQLite
            in ``home``). Left out of the repr, as it may hold a password.
    """

    home: Path
    checkpoint_url: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(
        cls,
        home: str | Path | None = None,
        checkpoint_url: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
    ) -> RunConfig:
        """The values given, else ``$CODEAGENT_HOME`` / ``$CODEAGENT_CHECKPOINT_URL``.

        Args:
            home: The state dir (default ``$CODEAGENT_HOME``, else ``./.codeagent``).
            checkpoint_url: The checkpoint database (default ``$CODEAGENT_CHECKPOINT_URL``,
                else none: SQLite).
            env: The environment to read (default ``os.environ``).
        """
        environ = os.environ if env is None else env
        path = Path(home or environ.get(HOME_ENV) or ".codeagent")
        url = checkpoint_url or environ.get(CHECKPOINT_URL_ENV) or None
        return cls(path.expanduser().resolve(), url)


def run_config(config: RunConfig | None = None, home: str | Path | None = None) -> RunConfig:
    """The configuration a public function runs with: ``config``, else the environment's.

    ``home``, when given, overrides the state dir of either.
    """
    if config is None:
        return RunConfig.from_env(home)
    if home is None:
        return config
    return replace(config, home=Path(home).expanduser().resolve())
