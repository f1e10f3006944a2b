"""Helpers for tests that need a real Docker engine and the sandbox image.

Without an engine (or without the image) these tests skip on a developer's
machine but *fail* under ``CI=true``: CI installs the engine and builds the image
(``.ci/setup-docker.sh``), so a skip there would hide a broken setup.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from codeagent.tools.errors import SandboxError

__all__ = ["leftover_containers", "require_docker"]


def require_docker(image: str | None = None) -> tuple[Any, str]:
    """A live docker client and the sandbox image reference, or skip (fail under CI).

    Args:
        image: The image to require (default: this version's sandbox image).
    """
    from codeagent.tools.sandbox.docker import docker_client
    from codeagent.tools.sandbox.engine import ensure_image
    from codeagent.tools.sandbox.image import default_image

    image = image or default_image()
    try:
        client = docker_client(timeout_s=30)
        ensure_image(client, image)
    except SandboxError as exc:
        message = f"docker tests need an engine and the sandbox image: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must run .ci/setup-docker.sh)")
        pytest.skip(message)
    return client, image


def leftover_containers(client: Any) -> list[str]:
    """Ids of this process's sandbox containers that still exist once its shared pools are
    closed (as they are when it exits): a container no pool holds is a leak."""
    from codeagent.tools.sandbox.pool import close_shared_pools

    close_shared_pools()
    mine = f"codeagent.sandbox.pid={os.getpid()}"
    return [c.short_id for c in client.containers.list(all=True, filters={"label": mine})]
