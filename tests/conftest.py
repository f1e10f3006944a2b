"""Shared test set-up: every test gets its own state dir and no real remote model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.host_support import require_executable, require_node

if TYPE_CHECKING:
    from tests.redis_support import RedisServer


@pytest.fixture(autouse=True)
def _isolated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """No test reaches a real remote model by accident, and none shares job state.

    Only tests marked ``llm`` see the installed embedded models; for the others the
    model store is empty, so ``provider: auto`` behaves the same on every machine.
    """
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODEAGENT_HOME", str(tmp_path / "home"))
    if request.node.get_closest_marker("llm") is None:
        monkeypatch.setenv("CODEAGENT_MODEL_DIR", str(tmp_path / "models"))


@pytest.fixture
def bwrap() -> None:
    """The local sandbox needs bubblewrap; CI installs it, so CI never skips."""
    require_executable("bwrap", "apt-get install bubblewrap")


@pytest.fixture
def node() -> None:
    """JavaScript needs Node.js; CI installs it, so CI never skips."""
    require_node()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis server of this test's own (127.0.0.1, a free port, nothing kept on disk),
    stopped afterwards. CI installs redis-server (.ci/setup-redis.sh), so CI never skips."""
    from tests.worker_support import require_redis

    require_redis()
    from tests.redis_support import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture
def pg_url() -> str:
    """The test PostgreSQL server's URL (CI starts one, so CI never skips)."""
    from tests.worker_support import require_postgres

    return require_postgres()


@pytest.fixture
def git_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The machine's git configuration and identity (global excludes, user, email,
    ``GIT_AUTHOR_*`` variables) play no part."""
    config = tmp_path_factory.mktemp("git") / "config"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("AUTHOR", "COMMITTER"):
        for part in ("NAME", "EMAIL"):
            monkeypatch.delenv(f"GIT_{name}_{part}", raising=False)
    monkeypatch.delenv("EMAIL", raising=False)
