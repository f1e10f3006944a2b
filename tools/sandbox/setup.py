"""``codeagent sandbox setup``: what it takes to make a sandbox backend usable here.

:func:`host_facts` looks at the machine; :func:`setup_plan` (pure) decides from those
facts what to do: nothing (a backend is ready), build the Docker image (an engine
answers), install bubblewrap with apt-get (as root or with passwordless sudo), or
stop with the exact command a person has to run. The CLI carries the plan out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

from codeagent.tools.sandbox.preflight import APT_BWRAP, BUILD_IMAGE, bwrap_problem

__all__ = ["HostFacts", "SetupPlan", "host_facts", "setup_plan"]

Action = Literal["ready", "build_image", "install_bwrap", "stop"]


@dataclass(frozen=True)
class HostFacts:
    """What :func:`setup_plan` decides from.

    Attributes:
        root: Running as root.
        sudo: ``sudo -n true`` works (passwordless sudo).
        apt: ``apt-get`` is on PATH.
        docker_engine: A Docker engine answers.
        docker_image: The sandbox image is built.
        bwrap: Why bubblewrap cannot run sandboxes (None: it can), see ``bwrap_problem``.
        bwrap_installed: ``bwrap`` is on PATH (it may still fail to run).
    """

    root: bool = False
    sudo: bool = False
    apt: bool = False
    docker_engine: bool = False
    docker_image: bool = False
    bwrap: str | None = "bubblewrap (bwrap) is not installed"
    bwrap_installed: bool = False


@dataclass(frozen=True)
class SetupPlan:
    """What ``codeagent sandbox setup`` does.

    Attributes:
        action: ``ready``, ``build_image``, ``install_bwrap`` or ``stop``.
        message: One sentence saying why.
        commands: argv lists to run, in order (``install_bwrap`` only).
        backend: The backend jobs use once the plan is carried out (``none`` for stop).
        hint: For ``stop``: the exact command a person has to run.
    """

    action: Action
    message: str
    commands: tuple[tuple[str, ...], ...] = ()
    backend: str = "none"
    hint: str | None = None


def setup_plan(facts: HostFacts, backend: str = "auto") -> SetupPlan:
    """Decide how to make ``backend`` (``auto``, ``docker`` or ``local``) usable (pure)."""
    use_docker = backend in ("auto", "docker")
    use_local = backend in ("auto", "local")
    if use_docker and facts.docker_engine and facts.docker_image:
        return SetupPlan("ready", "the Docker engine answers and the image is built", (), "docker")
    if use_local and facts.bwrap is None:
        return SetupPlan("ready", "bubblewrap works", (), "local")
    if use_docker and facts.docker_engine:
        return SetupPlan(
            "build_image", "a Docker engine answers: building the sandbox image", (), "docker"
        )
    if use_local and not facts.bwrap_installed and facts.apt and (facts.root or facts.sudo):
        sudo = () if facts.root else ("sudo", "-n")
        commands = (
            (*sudo, "apt-get", "update", "-q"),
            (*sudo, "apt-get", "install", "-y", "-q", "bubblewrap"),
        )
        return SetupPlan("install_bwrap", "installing bubblewrap with apt-get", commands, "local")
    return SetupPlan(
        "stop",
        _stop_reason(facts, use_docker, use_local),
        hint=_stop_hint(facts, use_docker, use_local),
    )


def _stop_reason(facts: HostFacts, use_docker: bool, use_local: bool) -> str:
    reasons = []
    if use_docker:
        reasons.append("no Docker engine answers")
    if use_local:
        reasons.append(facts.bwrap or "bubblewrap does not work")
        if not facts.bwrap_installed and not facts.apt:
            reasons.append("apt-get is not available to install it")
        elif not facts.bwrap_installed:
            reasons.append("installing it needs root or passwordless sudo")
    return "no sandbox backend can be set up automatically: " + ", ".join(reasons)


def _stop_hint(facts: HostFacts, use_docker: bool, use_local: bool) -> str:
    fixes = []
    if use_local and not facts.bwrap_installed:
        fixes.append(f"run: {APT_BWRAP}" if facts.apt else "install bubblewrap (bwrap)")
    elif use_local:
        fixes.append(
            "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
        )
    if use_docker:
        fixes.append(f"start a Docker engine, then run: {BUILD_IMAGE}")
    return " or ".join(fixes) + "; then run make demo again"


def host_facts(image: str | None = None) -> HostFacts:
    """Look at this machine (runs ``sudo -n true``, pings Docker, tries bwrap once)."""
    from codeagent.tools.errors import SandboxError
    from codeagent.tools.sandbox.engine import docker_client, ensure_image
    from codeagent.tools.sandbox.image import default_image

    engine = have_image = False
    try:
        client = docker_client(timeout_s=10)
        engine = True
        ensure_image(client, image or default_image())
        have_image = True
    except SandboxError:
        pass
    return HostFacts(
        root=os.geteuid() == 0,
        sudo=_passwordless_sudo(),
        apt=shutil.which("apt-get") is not None,
        docker_engine=engine,
        docker_image=have_image,
        bwrap=bwrap_problem(),
        bwrap_installed=shutil.which("bwrap") is not None,
    )


def _passwordless_sudo() -> bool:
    if shutil.which("sudo") is None:
        return False
    try:
        proc = subprocess.run(("sudo", "-n", "true"), capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0
