"""The docker sandbox against a real engine: protocol conformance, pool, factory, doctor."""

from __future__ import annotations

import os
import socket
import time
import warnings
from typing import Any

import pytest

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox import Sandbox, SandboxLimits
from codeagent.tools.sandbox.docker import DockerSandbox
from codeagent.tools.sandbox.engine import LABEL, clean_stale
from codeagent.tools.sandbox.factory import (
    WeakSandboxWarning,
    doctor,
    open_docker_or_auto,
    prewarm_docker,
)
from codeagent.tools.sandbox.pool import (
    PooledSandbox,
    SandboxPool,
    close_shared_pools,
    shared_pool,
)
from tests.docker_support import leftover_containers, require_docker

pytestmark = pytest.mark.docker

LIMITS = SandboxLimits(output_bytes=2000, memory_mb=256, pids=64)


@pytest.fixture(scope="module")
def engine() -> tuple[Any, str]:
    return require_docker()


@pytest.fixture(scope="module")
def sandbox(engine: tuple[Any, str]) -> Any:
    client, image = engine
    with DockerSandbox(LIMITS, image, client=client) as sb:
        yield sb
    assert leftover_containers(client) == []


def test_is_a_sandbox(sandbox: DockerSandbox) -> None:
    assert isinstance(sandbox, Sandbox)
    assert sandbox.backend == "docker"


def test_write_run_read(sandbox: DockerSandbox) -> None:
    sandbox.write_files(
        {"pkg/mod.py": "X = 41\n", "main.py": "from pkg.mod import X\nprint(X + 1)\n"}
    )
    result = sandbox.run(["python3", "main.py"], timeout_s=20)
    assert result.ok and result.stdout == "42\n"
    sandbox.run(["sh", "-c", "echo made > out.txt && mkdir -p d && echo deep > d/e.txt"], 20)
    assert sandbox.read_files(["out.txt", "d/e.txt", "missing.txt"]) == {
        "out.txt": "made\n",
        "d/e.txt": "deep\n",
    }


ABSURD_NAMES = ["a" * 5000 + ".py", "x" * 300 + ".py", "nul\x00.py", "bell\a.py", "new\nline.py"]


@pytest.mark.parametrize("name", ABSURD_NAMES, ids=["long-path", "long-name", "nul", "bell", "nl"])
def test_absurd_file_names_are_sandbox_errors(
    engine: tuple[Any, str], sandbox: DockerSandbox, name: str
) -> None:
    client, image = engine
    with pytest.raises(SandboxError) as info:
        sandbox.write_files({name: "x = 1\n"})
    assert info.value.hint
    with (
        SandboxPool(LIMITS, image, size=1, client=client) as pool,
        pool.sandbox() as pooled,
        pytest.raises(SandboxError),
    ):
        pooled.write_files({name: "x = 1\n"})


def test_failing_command(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["sh", "-c", "echo oops >&2; exit 3"], timeout_s=20)
    assert result.exit_code == 3 and not result.ok
    assert result.stderr == "oops\n"


def test_pytest_runs_in_image(sandbox: DockerSandbox) -> None:
    sandbox.write_files({"test_one.py": "def test_one():\n    assert 1 + 1 == 2\n"})
    result = sandbox.run(["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"], 60)
    assert result.ok, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_timeout_kills_command(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["sleep", "30"], timeout_s=1)
    assert result.timed_out and result.exit_code == 124
    assert result.duration_s < 5
    assert sandbox.run(["echo", "alive"], 10).stdout == "alive\n"


def test_output_is_capped(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["python3", "-c", "print('x' * 10000)"], timeout_s=20)
    assert result.truncated and len(result.stdout) == LIMITS.output_bytes
    assert result.exit_code == 0


def test_host_env_var_not_visible(sandbox: DockerSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-must-not-leak")
    result = sandbox.run(["sh", "-c", "env"], timeout_s=10)
    assert "sk-test-must-not-leak" not in result.stdout
    assert "OPENAI_API_KEY" not in result.stdout


def test_container_is_labelled_and_locked_down(
    engine: tuple[Any, str], sandbox: DockerSandbox
) -> None:
    client, _ = engine
    attrs = client.api.inspect_container(sandbox.container_id)
    host = attrs["HostConfig"]
    assert attrs["Config"]["Labels"][LABEL] == "1"
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and "no-new-privileges" in host["SecurityOpt"]
    assert host["Memory"] == 256 * 1024 * 1024 and host["PidsLimit"] == 64
    # The workspace is an engine-managed tmpfs volume; no host directory is ever mounted.
    assert all(not bind.startswith("/") for bind in host.get("Binds") or [])
    assert [(m["Type"], m["Destination"]) for m in attrs["Mounts"]] == [("volume", "/workspace")]
    assert client.volumes.get(attrs["Mounts"][0]["Name"]).attrs["Options"]["type"] == "tmpfs"


def test_close_removes_container_and_volume(engine: tuple[Any, str]) -> None:
    client, image = engine
    sb = DockerSandbox(LIMITS, image, client=client)
    sb.start()
    cid = sb.container_id
    volume = client.api.inspect_container(cid)["Mounts"][0]["Name"]
    sb.close()
    sb.close()  # idempotent
    assert cid not in [c.id for c in client.containers.list(all=True)]
    assert volume not in [v.name for v in client.volumes.list()]


def test_stale_containers_from_dead_processes_are_removed(engine: tuple[Any, str]) -> None:
    client, image = engine
    dead_pid = _dead_pid()
    labels = {LABEL: "1", f"{LABEL}.host": socket.gethostname(), f"{LABEL}.pid": str(dead_pid)}
    stale = client.containers.create(image, ["true"], labels=labels, network_mode="none")
    assert clean_stale(client) >= 1
    assert stale.id not in [c.id for c in client.containers.list(all=True)]


def test_missing_image_has_build_hint(engine: tuple[Any, str]) -> None:
    client, _ = engine
    with pytest.raises(SandboxError) as info:
        DockerSandbox(LIMITS, "codeagent-sandbox:no-such-version", client=client).start()
    assert "codeagent sandbox build" in (info.value.hint or "")


def test_factory_docker_and_auto(engine: tuple[Any, str]) -> None:
    client, image = engine
    used = []
    for _ in range(3):  # each lease: a clean container of the shared pool (reused, reset)
        with open_docker_or_auto("docker", LIMITS, image) as leased:
            assert isinstance(leased, PooledSandbox)
            assert leased.run(["ls", "-A", "/tmp", "/workspace"], 10).stdout.split() == [
                "/tmp:",
                "/workspace:",
            ]
            procs = leased.run(["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"], 10)
            assert "sleep" not in procs.stdout
            leased.write_files({"left.txt": "behind\n"})
            leased.run(["sh", "-c", "sleep 300 & echo x > /tmp/t"], 10)
            used.append(leased._sandbox().container_id)
    assert len(set(used)) <= 2  # the lease and a spare warmed while it is reset
    close_shared_pools()  # (as at exit) removes them
    assert not set(used) & {c.id for c in client.containers.list(all=True)}
    with pytest.raises(SandboxError):
        open_docker_or_auto("docker", LIMITS, "codeagent-sandbox:no-such-version")
    with pytest.warns(WeakSandboxWarning):
        fallback = open_docker_or_auto("auto", LIMITS, "codeagent-sandbox:no-such-version")
    assert fallback.backend == "local"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert open_docker_or_auto("auto", LIMITS, image).backend == "docker"


def test_doctor_reports_facts(engine: tuple[Any, str]) -> None:
    _, image = engine
    report = doctor(image)
    assert report.ok and report.backend == "docker"
    assert [c.name for c in report.checks] == [
        "docker engine",
        "sandbox image",
        "bubblewrap",
        "nested user namespaces",
        "workspace quota",
    ]
    missing = doctor("codeagent-sandbox:no-such-version").to_dict()
    assert missing["ok"] is False and missing["checks"][1]["hint"] == "run: codeagent sandbox build"


def test_pool_reuses_and_resets(engine: tuple[Any, str]) -> None:
    client, image = engine
    with SandboxPool(LIMITS, image, size=1, client=client) as pool:
        pool.warm()
        assert pool.idle == 1
        with pool.sandbox() as first:
            first.write_files({"secret.txt": "from job one\n"})
            first.run(["sh", "-c", "sleep 300 & echo x > /tmp/t"], 10)
            shm = "import ctypes; print(ctypes.CDLL(None).shmget(1234, 4096, 0o1666))"
            assert first.run(["python3", "-c", shm], 10).stdout.strip() != "-1"
            first.run(["sh", "-c", "touch /dev/mqueue/left /dev/shm/left"], 10)
            cid = first._sandbox().container_id
        with pool.sandbox() as second:  # (waits for the reset in progress)
            assert second._sandbox().container_id == cid  # the same warm container ...
            assert second.read_files(["secret.txt"]) == {}  # ... with a clean workspace
            assert second.run(["ls", "-A", "/tmp", "/workspace"], 10).stdout.split() == [
                "/tmp:",
                "/workspace:",
            ]
            procs = second.run(["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"], 10)
            assert "sleep" not in procs.stdout  # the job's background process was killed
            ipc = second.run(
                ["sh", "-c", "ipcs -m | grep -c '^0x'; ls -A /dev/mqueue /dev/shm"], 10
            )
            assert ipc.stdout.split() == ["0", "/dev/mqueue:", "/dev/shm:"]  # no IPC left
    assert cid not in [c.id for c in client.containers.list(all=True)]


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_a_prewarmed_pool_has_a_container_before_the_first_lease(engine: tuple[Any, str]) -> None:
    client, image = engine
    limits = SandboxLimits(output_bytes=2000, memory_mb=200, pids=50)  # a pool of its own
    prewarm_docker(limits, image)
    pool = shared_pool(limits, image)
    deadline = time.monotonic() + 60
    while pool.idle == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pool.idle == 1
    prewarm_docker(limits, image)  # one idle already: nothing more is started
    time.sleep(1)
    assert pool.idle == 1
    warm = pool._idle[0].container_id
    with open_docker_or_auto("docker", limits, image) as leased:
        assert isinstance(leased, PooledSandbox)
        assert leased.run(["true"], 10).ok
        assert leased._sandbox().container_id == warm  # the first lease took the warm one
    close_shared_pools()
    assert warm not in {c.id for c in client.containers.list(all=True)}
