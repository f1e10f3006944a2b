"""``codeagent sandbox setup``: its decision (a pure function) and the command's refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.tools.sandbox.setup import HostFacts, setup_plan
from tests.test_cli import codeagent

WORKS = None  # HostFacts.bwrap: no problem


def test_a_working_backend_needs_nothing() -> None:
    docker = setup_plan(HostFacts(docker_engine=True, docker_image=True))
    local = setup_plan(HostFacts(bwrap=WORKS, bwrap_installed=True))
    assert (docker.action, docker.backend) == ("ready", "docker")
    assert (local.action, local.backend) == ("ready", "local")


def test_an_answering_engine_builds_the_image() -> None:
    plan = setup_plan(HostFacts(docker_engine=True, root=True, apt=True))
    assert (plan.action, plan.backend, plan.commands) == ("build_image", "docker", ())


def test_root_with_apt_installs_bubblewrap_without_sudo() -> None:
    plan = setup_plan(HostFacts(root=True, apt=True))
    assert plan.action == "install_bwrap"
    assert plan.commands[-1] == ("apt-get", "install", "-y", "-q", "bubblewrap")
    assert plan.commands[0] == ("apt-get", "update", "-q")


def test_passwordless_sudo_installs_through_sudo() -> None:
    plan = setup_plan(HostFacts(sudo=True, apt=True))
    assert plan.action == "install_bwrap"
    assert all(command[:2] == ("sudo", "-n") for command in plan.commands)


@pytest.mark.parametrize(
    ("facts", "says"),
    [
        (HostFacts(apt=True), "sudo apt-get install -y bubblewrap"),  # no root, no sudo
        (HostFacts(root=True), "install bubblewrap"),  # no apt-get
        (
            HostFacts(
                root=True,
                apt=True,
                bwrap="bwrap cannot create a sandbox: denied",
                bwrap_installed=True,
            ),
            "unprivileged_userns_clone",
        ),
    ],
)
def test_otherwise_it_stops_with_the_command_to_run(facts: HostFacts, says: str) -> None:
    plan = setup_plan(facts)
    assert plan.action == "stop" and plan.commands == ()
    assert plan.hint is not None and says in plan.hint
    assert "codeagent sandbox build" in plan.hint  # the docker route is named too


def test_backend_docker_never_installs_bubblewrap() -> None:
    plan = setup_plan(HostFacts(root=True, apt=True), backend="docker")
    assert plan.action == "stop"
    assert plan.hint is not None and "bubblewrap" not in plan.hint


def test_backend_local_ignores_a_docker_engine() -> None:
    plan = setup_plan(HostFacts(docker_engine=True, root=True, apt=True), backend="local")
    assert plan.action == "install_bwrap"


def test_setup_command_on_a_bare_machine_exits_2_with_the_command(tmp_path: Path) -> None:
    proc = codeagent(
        "sandbox",
        "setup",
        env={"PATH": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/none.sock"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "no sandbox backend can be set up automatically" in proc.stderr
    assert "apt-get install" in proc.stderr or "install bubblewrap" in proc.stderr
    assert "Traceback" not in proc.stderr
