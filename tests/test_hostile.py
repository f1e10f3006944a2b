"""The hostile-code suite: what generated code might try, and how each backend contains it.

Every case runs against the docker backend (the isolation boundary: everything
must be contained) and the local bubblewrap backend (weaker: the cases it cannot
contain are strict xfails, so the day it can, the suite says so). Each program
prints ``ESCAPED`` when it got through and ``BLOCKED`` when it was stopped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codeagent.tools.sandbox import LocalSandbox, SandboxLimits
from codeagent.tools.sandbox.docker import DockerSandbox
from codeagent.tools.sandbox.local import bwrap_sizes_tmpfs
from codeagent.tools.sandbox.protocol import ExecResult
from tests.docker_support import leftover_containers, require_docker

LIMITS = SandboxLimits(
    memory_mb=256, pids=64, cpu_time_s=20, file_size_mb=16, workspace_mb=32, output_bytes=10_000
)
CANARY = "sk-hostile-canary-4242"
MARKER = "codeagent-hostile-orphan-marker"


@dataclass(frozen=True)
class Case:
    """One hostile program and the check that it was contained."""

    name: str
    program: str
    check: Callable[[ExecResult], None]
    timeout_s: float = 20


def _blocked(result: ExecResult) -> None:
    assert "ESCAPED" not in result.stdout, result
    assert "BLOCKED" in result.stdout, result


def _fork_bomb(result: ExecResult) -> None:
    forked = int(result.stdout.split()[0])
    assert forked < LIMITS.pids, f"{forked} processes started; the limit is {LIMITS.pids}"


def _memory_bomb(result: ExecResult) -> None:
    reached = max([int(x) for x in result.stdout.split()] or [0])
    assert reached <= LIMITS.memory_mb, f"allocated {reached} MB; the limit is {LIMITS.memory_mb}"
    assert not result.ok


def _disk_fill(result: ExecResult) -> None:
    _blocked(result)
    written = int(result.stdout.split()[-1])
    assert written <= LIMITS.workspace_mb, f"wrote {written} MB; the workspace is smaller"


def _infinite_loop(result: ExecResult) -> None:
    assert result.timed_out and result.exit_code == 124 and result.duration_s < 8


def _orphan(result: ExecResult) -> None:
    time.sleep(0.5)
    assert not _host_processes_with(MARKER), "a spinning child outlived its command"


def _huge_stdout(result: ExecResult) -> None:
    assert result.truncated and len(result.stdout) <= LIMITS.output_bytes
    assert result.duration_s < 10 and not result.ok


def _no_canary(result: ExecResult) -> None:
    assert CANARY not in result.stdout + result.stderr


CASES = [
    Case(
        "network_egress",
        "import socket\ns = socket.socket(); s.settimeout(3)\n"
        "try:\n    s.connect(('1.1.1.1', 80)); print('ESCAPED')\n"
        "except OSError as e:\n    print('BLOCKED', e)\n",
        _blocked,
    ),
    Case(
        "dns_lookup",
        "import socket\ntry:\n    print('ESCAPED', socket.getaddrinfo('deb.debian.org', 80))\n"
        "except OSError as e:\n    print('BLOCKED', e)\n",
        _blocked,
    ),
    Case(
        "fork_bomb",  # bounded, so a backend that fails it cannot take the test machine down
        "import os, time\nn = 0\nfor _ in range(1000):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(5); os._exit(0)\n"
        "    n += 1\nprint(n, flush=True)\n",
        _fork_bomb,
    ),
    Case(
        "memory_bomb",
        "import sys\nhog = []\nfor i in range(1, 41):\n    hog.append(bytearray(50 * 2**20))\n"
        "    print(i * 50, flush=True)\nprint('ESCAPED')\n",
        _memory_bomb,
    ),
    Case(
        "disk_fill",
        "mb = 0\ntry:\n    for i in range(50):\n        with open(f'fill{i}', 'wb') as fh:\n"
        "            for _ in range(4):\n"
        "                fh.write(b'x' * 2**20); fh.flush(); mb += 1\n"
        "    print('ESCAPED', mb)\nexcept OSError:\n    print('BLOCKED', mb)\n",
        _disk_fill,
    ),
    Case("infinite_loop", "while True:\n    pass\n", _infinite_loop, timeout_s=2),
    Case(
        "orphan_spinner",
        "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        f"        os.execvp('python3', ['python3', '-c', 'while True: pass', '{MARKER}'])\n"
        "    os._exit(0)\nprint('parent done')\n",
        _orphan,
    ),
    Case("host_env", "import os\nprint(dict(os.environ))\n", _no_canary),
    Case(
        "host_files",
        "import sys\nfor path in sys.argv[1:]:\n    try:\n        print(open(path).read())\n"
        "    except OSError as e:\n        print('BLOCKED', e)\n",
        _no_canary,
    ),
    Case(
        "write_outside_workspace",
        "for path in ['/etc/pwned', '/usr/pwned', '/pwned', '/root/pwned', '/var/pwned']:\n"
        "    try:\n        open(path, 'w').write('x'); print('ESCAPED', path)\n"
        "    except OSError as e:\n        print('BLOCKED', path, e)\n",
        _blocked,
    ),
    Case(
        "docker_socket",
        "import socket\nfor path in ['/var/run/docker.sock', '/run/docker.sock']:\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        "    try:\n        s.connect(path); print('ESCAPED', path)\n"
        "    except OSError as e:\n        print('BLOCKED', path, e)\n",
        _blocked,
    ),
    Case(
        "privilege_escalation",
        "import os\nstatus = open('/proc/self/status').read()\n"
        "assert 'NoNewPrivs:\\t1' in status and 'CapEff:\\t0000000000000000' in status, status\n"
        "try:\n    os.setuid(0); print('ESCAPED')\nexcept OSError as e:\n    print('BLOCKED', e)\n",
        _blocked,
    ),
    Case(
        "huge_stdout",
        "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
        _huge_stdout,
        timeout_s=10,
    ),
]
LOCAL_GAPS = {
    "fork_bomb": (
        "local: no pids cgroup (needs systemd or a delegated cgroup v2 subtree) and "
        "RLIMIT_NPROC is per host uid, with the root user exempt from it"
    ),
}
if not bwrap_sizes_tmpfs():
    LOCAL_GAPS["disk_fill"] = (
        "local: this bwrap has no --size (bubblewrap < 0.7), so the workspace is a "
        "bind-mounted host directory with no quota"
    )


def _params() -> list[Any]:
    params = []
    for case in CASES:
        params.append(
            pytest.param("docker", case, id=f"docker-{case.name}", marks=pytest.mark.docker)
        )
        marks = []
        if case.name in LOCAL_GAPS:
            marks.append(pytest.mark.xfail(strict=True, reason=LOCAL_GAPS[case.name]))
        params.append(pytest.param("local", case, id=f"local-{case.name}", marks=marks))
    return params


@pytest.mark.parametrize(("backend", "case"), _params())
def test_hostile_code_is_contained(
    backend: str,
    case: Case,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    secret = tmp_path / "host-secret.txt"
    secret.write_text(CANARY)
    sandbox = _open(backend, request)
    before = _mine(sandbox)
    with sandbox:
        sandbox.write_files({"hostile.py": case.program})
        result = sandbox.run(["python3", "hostile.py", str(secret), "/etc/shadow"], case.timeout_s)
        case.check(result)
        assert sandbox.run(["echo", "still usable"], 20).stdout == "still usable\n"
    for path in ("/etc/pwned", "/usr/pwned", "/pwned", "/var/pwned"):
        assert not os.path.exists(path)
    assert _mine(sandbox) <= before, "a sandbox container was left behind"


def _open(backend: str, request: pytest.FixtureRequest) -> Any:
    if backend == "local":
        request.getfixturevalue("bwrap")
        return LocalSandbox(LIMITS)
    client, image = require_docker()
    return DockerSandbox(LIMITS, image, client=client)


def _mine(sandbox: Any) -> set[str]:
    if not isinstance(sandbox, DockerSandbox):
        return set()
    return set(leftover_containers(sandbox._client))


def _host_processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
