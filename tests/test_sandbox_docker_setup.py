"""The setup step on the docker backend, against a real engine: commit, reuse, network."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox import SandboxLimits
from codeagent.tools.sandbox.docker import DockerSandbox
from codeagent.tools.sandbox.docker_setup import SEED_DIR, SETUP_LABEL, SETUP_REPO
from codeagent.tools.sandbox.prepare import (
    PreparedWorkspace,
    SetupFailed,
    SetupStep,
    prepare_workspace,
)
from tests.docker_support import leftover_containers, require_docker
from tests.setup_support import INTERFACES, WHEEL, non_loopback, tiny_wheel

pytestmark = pytest.mark.docker

TOKEN = "python3 -c 'import uuid; print(uuid.uuid4())' > token.txt; echo ran >> runs.txt"


@pytest.fixture(scope="module")
def engine() -> tuple[Any, str]:
    return require_docker()


@pytest.fixture
def setup(engine: tuple[Any, str], tmp_path: Path) -> Iterator[Any]:
    """``setup(step, files=..., **limits)``: prepare on docker; the images made are removed."""
    client, image = engine
    made: list[str] = []
    # A fresh file per test: no image is found from an earlier run.
    repo = {"src/app.py": "X = 1\n", "id.txt": uuid.uuid4().hex, "logo.png": b"\x89PNG\0\xff"}

    def prepare(
        step: SetupStep, files: dict[str, str | bytes] | None = None, **limits: Any
    ) -> PreparedWorkspace:
        lim = SandboxLimits(memory_mb=256, pids=64, **limits)
        chosen = {**repo, **(files or {})}
        prepared = prepare_workspace(
            lambda: DockerSandbox(lim, image, client=client), chosen, step, cache_dir=tmp_path
        )
        made.append(prepared.location)
        return prepared

    yield prepare
    for tag in set(made):
        client.images.remove(tag, force=True)
    assert leftover_containers(client) == []


def _sh(prepared: PreparedWorkspace, script: str) -> str:
    with prepared.open() as sandbox:
        result = sandbox.run(["sh", "-c", script], timeout_s=30)
    assert result.ok, result.stderr
    return result.stdout


def _images(client: Any) -> set[str]:
    return {tag for img in client.images.list(SETUP_REPO) for tag in img.tags}


def test_setup_runs_once_into_an_image_every_sandbox_starts_from(
    setup: Any, engine: tuple[Any, str]
) -> None:
    client, _ = engine
    first = setup(SetupStep((TOKEN,)))
    token = _sh(first, "cat token.txt")
    again = setup(SetupStep((TOKEN,)))

    assert (first.reused, again.reused) == (False, True)
    assert first.location == again.location == f"{SETUP_REPO}:{first.key[:16]}"
    assert client.images.get(first.location).labels.get(SETUP_LABEL) == "1"
    for prepared in (first, again, first):  # each open() is a fresh container
        assert _sh(prepared, "cat token.txt runs.txt src/app.py") == f"{token}ran\nX = 1\n"
    logo = _sh(first, "od -An -tx1 logo.png").split()
    assert bytes.fromhex("".join(logo)) == b"\x89PNG\0\xff"
    # The job's sandboxes are the usual locked-down ones: no network, read-only root.
    assert _sh(first, f"{INTERFACES}; touch /x 2>/dev/null || echo ro").split() == ["lo", "ro"]


def test_changed_files_or_commands_make_another_image(setup: Any) -> None:
    first = setup(SetupStep((TOKEN,)))
    other_files = setup(SetupStep((TOKEN,)), {"src/app.py": "X = 2\n"})
    other_cmds = setup(SetupStep((TOKEN, "true")))

    assert not other_files.reused and not other_cmds.reused
    assert len({first.location, other_files.location, other_cmds.location}) == 3
    assert len({_sh(p, "cat token.txt") for p in (first, other_files, other_cmds)}) == 3


def test_without_setup_network_a_setup_command_cannot_open_a_socket(
    setup: Any, engine: tuple[Any, str]
) -> None:
    connect = "python3 -c \"import socket; socket.create_connection(('10.255.255.1', 80), 2)\""
    before = _images(engine[0])
    with pytest.raises(SetupFailed) as info:
        setup(SetupStep((connect,)))

    assert info.value.exit_code == 1 and "unreachable" in info.value.output
    assert "setup_network: true" in (info.value.hint or "")
    assert _images(engine[0]) == before  # a failed setup leaves no image


def test_setup_network_is_gone_before_the_agent_code_runs(setup: Any) -> None:
    prepared = setup(SetupStep((f"{INTERFACES} > setup-net.txt",), network=True))

    assert non_loopback(_sh(prepared, "cat setup-net.txt"))  # setup had the bridge
    assert _sh(prepared, INTERFACES).split() == ["lo"]  # network_mode none for the agent


def test_a_dependency_installs_offline_from_a_wheel_in_the_repo(setup: Any) -> None:
    # The offline-built image has no pip: a pure wheel is a zip, unpacked where pip would put it.
    install = (
        "if python3 -m pip --version >/dev/null 2>&1; then python3 -m pip install --no-index"
        " --no-cache-dir --find-links wheels --target .deps mypkg;"
        f" else python3 -m zipfile -e wheels/{WHEEL} .deps; fi"
    )
    prepared = setup(SetupStep((install,)), {f"wheels/{WHEEL}": tiny_wheel(7)})

    assert _sh(prepared, "python3 -c 'import mypkg; print(mypkg.VALUE)'") == "7\n"


def test_a_failing_setup_command_says_which_with_its_exit_code_and_output(setup: Any) -> None:
    step = SetupStep(("echo building; echo 'E: no such package' >&2; exit 3",))
    with pytest.raises(SetupFailed) as info:
        setup(step)

    assert info.value.command == step.commands[0] and info.value.exit_code == 3
    assert "building" in info.value.output and "E: no such package" in info.value.output
    assert "sandbox.setup" in (info.value.hint or "")


def test_setup_that_outgrows_the_workspace_names_the_setting(
    setup: Any, engine: tuple[Any, str]
) -> None:
    grow = "head -c 3000000 /dev/zero > big.bin"
    with pytest.raises(SandboxError, match=r"sandbox.workspace_mb \(2 MB\)") as info:
        setup(SetupStep((grow,)), workspace_mb=2)
    assert "workspace_mb" in (info.value.hint or "")

    # A set-up image whose workspace a smaller sandbox cannot hold: a clear error too.
    prepared = setup(SetupStep((grow,)), workspace_mb=8)
    client, _ = engine
    small = DockerSandbox(
        SandboxLimits(workspace_mb=1), prepared.location, client=client, seed=SEED_DIR
    )
    with pytest.raises(SandboxError, match=r"does not fit in sandbox\.workspace_mb") as full:
        small.start()
    assert "workspace_mb" in (full.value.hint or "")
