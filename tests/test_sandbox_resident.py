"""The docker sandbox's resident runner, against a real engine: what runs on the
preloaded interpreter and what does not, what a run leaves behind (nothing), what the
code under test can do to the runner (nothing), and the fall-back to ``docker exec``."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.docker import DockerSandbox
from codeagent.tools.sandbox.pool import SandboxPool
from codeagent.tools.sandbox.resident import ResidentChannel, ResidentError
from tests.test_sandbox_docker import LIMITS, engine, sandbox  # the same fixtures

__all__ = ["engine", "sandbox"]  # (used as fixtures)

pytestmark = pytest.mark.docker

PRELOADED = "import sys; print('pytest' in sys.modules)"


def test_python_commands_run_on_the_preloaded_interpreter(sandbox: DockerSandbox) -> None:
    assert sandbox.resident
    fast = sandbox.run(["python3", "-c", PRELOADED], 10)
    assert fast.ok and fast.stdout.strip() == "True"
    # Anything but a plain python3 command is exec-ed: a fresh interpreter.
    fresh = sandbox.run(["env", "python3", "-c", PRELOADED], 10)
    assert fresh.ok and fresh.stdout.strip() == "False"
    argv = sandbox.run(["python3", "-c", "import sys; print(sys.argv, sys.path[0])", "a"], 10)
    assert argv.stdout == "['-c', 'a'] \n"  # as `python3 -c` sets them


def test_a_workspace_module_that_shadows_a_preloaded_one_gets_a_fresh_interpreter(
    sandbox: DockerSandbox,
) -> None:
    sandbox.write_files({"shutil.py": "MINE = 1\n"})
    try:
        result = sandbox.run(["python3", "-c", "import shutil; print(shutil.MINE)"], 10)
        assert result.ok and result.stdout.strip() == "1", result.stderr
    finally:
        sandbox.run(["rm", "shutil.py"], 10)


def test_exit_statuses_and_tracebacks_are_those_of_a_fresh_interpreter(
    sandbox: DockerSandbox,
) -> None:
    assert sandbox.run(["python3", "-c", "import sys; sys.exit(3)"], 10).exit_code == 3
    message = sandbox.run(["python3", "-c", "import sys; sys.exit('bad')"], 10)
    assert message.exit_code == 1 and message.stderr.strip() == "bad"
    crash = sandbox.run(["python3", "-c", "1 / 0"], 10)
    assert crash.exit_code == 1 and "ZeroDivisionError" in crash.stderr
    assert "_run_python" not in crash.stderr  # no frame of the runner's own
    killed = sandbox.run(["python3", "-c", "import os; os.kill(os.getpid(), 9)"], 10)
    assert killed.exit_code == 137
    sandbox.write_files({"tool.py": "import sys\nprint(sys.argv[1:], __name__)\n"})
    script = sandbox.run(["python3", "tool.py", "x"], 10)
    assert script.stdout.strip() == "['x'] __main__"
    missing = sandbox.run(["no-such-command"], 10)
    assert missing.exit_code == 127 and "no-such-command" in missing.stderr


def test_nothing_a_run_starts_outlives_it(sandbox: DockerSandbox) -> None:
    started = sandbox.run(["sh", "-c", "sleep 300 & echo started"], 10)
    assert started.ok and started.stdout.strip() == "started"
    procs = sandbox.run(["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"], 10)
    assert "sleep" not in procs.stdout


def test_a_run_past_its_time_is_killed_and_the_runner_goes_on(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["python3", "-c", "while True: pass"], 1)
    assert result.timed_out and result.exit_code == 124
    assert sandbox.resident and sandbox.run(["python3", "-c", "print(2)"], 10).stdout == "2\n"


def test_the_code_under_test_cannot_reach_the_runner(sandbox: DockerSandbox) -> None:
    hostile = (
        "import ctypes, os, signal\n"
        "for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL, signal.SIGHUP):\n"
        "    os.kill(1, sig)\n"
        "try:\n"
        "    os.listdir('/proc/1/fd')\n"
        "    print('fds readable')\n"
        "except PermissionError:\n"
        "    print('fds denied')\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('ptrace', libc.ptrace(16, 1, 0, 0))\n"  # PTRACE_ATTACH
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        os.fstat(fd)\n"
        "        print('open fd', fd)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    result = sandbox.run(["python3", "-c", hostile], 10)
    assert result.ok, result.stderr
    assert result.stdout.split("\n")[:2] == ["fds denied", "ptrace -1"]
    assert "open fd" not in result.stdout  # the channel's descriptors were closed
    assert sandbox.resident and sandbox.run(["python3", "-c", "print(3)"], 10).stdout == "3\n"


def test_files_travel_whole_and_links_are_never_followed(sandbox: DockerSandbox) -> None:
    data = bytes(range(256)) * 16384  # 4 MB of every byte, the engine's detach keys among them
    text = "line é\n" * 400_000  # 3.2 MB back in one reply
    sandbox.write_files({"blob.bin": data, "sub/dir/a.txt": "é\n", "big.txt": text})
    assert sandbox.read_files(["big.txt"]) == {"big.txt": text}
    digest = "import hashlib; print(hashlib.sha256(open('blob.bin', 'rb').read()).hexdigest())"
    assert sandbox.run(["python3", "-c", digest], 10).stdout.strip() == (
        hashlib.sha256(data).hexdigest()
    )
    assert sandbox.read_files(["sub/dir/a.txt", "missing.txt"]) == {"sub/dir/a.txt": "é\n"}
    sandbox.run(["sh", "-c", "echo outside > /tmp/target; ln -s /tmp/target link.txt"], 10)
    assert sandbox.read_files(["link.txt"]) == {}  # a planted link is not read through
    sandbox.write_files({"link.txt": "replaced\n"})  # ... nor written through
    check = sandbox.run(["sh", "-c", "cat /tmp/target; test -L link.txt || cat link.txt"], 10)
    assert check.stdout.split() == ["outside", "replaced"]


def test_text_that_cannot_be_encoded_is_an_error_naming_the_file(
    sandbox: DockerSandbox,
) -> None:
    with pytest.raises(SandboxError, match=r"bad\.txt"):
        sandbox.write_files({"bad.txt": "lone \ud800 surrogate"})
    assert sandbox.resident and sandbox.read_files(["bad.txt"]) == {}


def test_the_engine_keeps_no_log_of_the_channel(
    engine: tuple[Any, str], sandbox: DockerSandbox
) -> None:
    client, _ = engine
    attrs = client.api.inspect_container(sandbox.container_id)
    assert attrs["HostConfig"]["LogConfig"]["Type"] == "none"
    assert attrs["Config"]["OpenStdin"] is True


def test_a_failing_runner_falls_back_to_docker_exec(
    engine: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, image = engine

    def broken(*_: Any, **__: Any) -> Any:
        raise ResidentError("the sandbox runner did not answer in time")

    with DockerSandbox(LIMITS, image, client=client) as sb:
        sb.write_files({"a.txt": "one\n"})
        assert sb.resident
        monkeypatch.setattr(ResidentChannel, "run", broken)
        result = sb.run(["python3", "-c", PRELOADED], 10)
        assert result.ok and result.stdout.strip() == "False"  # by docker exec
        assert not sb.resident
        sb.write_files({"b.txt": "two\n"})  # by put_archive
        assert sb.read_files(["a.txt", "b.txt"]) == {"a.txt": "one\n", "b.txt": "two\n"}


def test_a_runner_killed_with_its_container_is_replaced(engine: tuple[Any, str]) -> None:
    client, image = engine
    with DockerSandbox(LIMITS, image, client=client) as sb:
        sb.write_files({"a.txt": "kept\n"})
        first = sb.container_id
        client.containers.get(first).kill()
        result = sb.run(["cat", "a.txt"], 10)  # a new container, the files replayed
        assert result.ok and result.stdout == "kept\n"
        assert sb.container_id != first and sb.resident


def test_a_pool_restarts_the_runner_between_leases(engine: tuple[Any, str]) -> None:
    client, image = engine
    with SandboxPool(LIMITS, image, size=1, client=client) as pool:
        with pool.sandbox() as first:
            assert first.run(["python3", "-c", PRELOADED], 10).stdout.strip() == "True"
            lease = first._sandbox()
            channel = lease._channel
            assert channel is not None
            before = channel.ping()
        with pool.sandbox() as second:
            assert second._sandbox() is lease and lease._channel is channel
            after = channel.ping()  # a new runner process: nothing of the last lease in it
            assert after != before
            again = second.run(["python3", "-c", PRELOADED], 10)
            assert again.ok and again.stdout.strip() == "True"
