"""The local (bubblewrap) sandbox, for real."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from codeagent.graphs.cli.sandbox import app as sandbox_cli
from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox import LocalSandbox, Sandbox, SandboxLimits
from codeagent.tools.sandbox.factory import doctor
from codeagent.tools.sandbox.local import bwrap_disables_userns

pytestmark = pytest.mark.usefixtures("bwrap")


@pytest.fixture
def sandbox() -> LocalSandbox:
    with LocalSandbox(SandboxLimits(memory_mb=512, pids=64, cpu_time_s=20)) as box:
        yield box


def _py(box: LocalSandbox, code: str, timeout_s: float = 20):
    box.write_files({"prog.py": code})
    return box.run(["python3", "prog.py"], timeout_s=timeout_s)


def test_conforms_to_the_protocol(sandbox: LocalSandbox) -> None:
    assert isinstance(sandbox, Sandbox)
    assert sandbox.backend == "local"


def test_a_passing_test(sandbox: LocalSandbox) -> None:
    sandbox.write_files(
        {
            "pkg/mod.py": "def f():\n    return 1\n",
            "test_mod.py": "from pkg.mod import f\n\ndef test_f():\n    assert f() == 1\n",
        }
    )
    result = sandbox.run(["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"], 60)
    assert result.ok, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_a_failing_test(sandbox: LocalSandbox) -> None:
    sandbox.write_files({"test_x.py": "def test_x():\n    assert 1 + 1 == 3\n"})
    result = sandbox.run(["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"], 60)
    assert result.exit_code == 1
    assert "1 failed" in result.stdout
    assert "assert (1 + 1) == 3" in result.stdout


def test_an_infinite_loop_is_killed_on_time(sandbox: LocalSandbox) -> None:
    result = _py(sandbox, "while True:\n    pass\n", timeout_s=2)
    assert result.timed_out
    assert result.exit_code == 124
    assert result.duration_s < 10


def test_a_child_that_outlives_its_parent_is_killed(sandbox: LocalSandbox) -> None:
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    open('alive', 'w').close()\n"
        "    while True:\n"
        "        time.sleep(0.05)\n"
        "        open('alive', 'a').write('x')\n"
        "time.sleep(30)\n"
    )
    result = _py(sandbox, code, timeout_s=2)
    assert result.timed_out
    size = len(sandbox.read_files(["alive"]).get("alive", ""))
    import time

    time.sleep(0.5)
    assert len(sandbox.read_files(["alive"]).get("alive", "")) == size  # nothing writes any more


def test_a_network_call_fails(sandbox: LocalSandbox) -> None:
    code = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 80), timeout=3)\n"
        "    print('CONNECTED')\n"
        "except OSError as e:\n"
        "    print('blocked', e)\n"
    )
    result = _py(sandbox, code)
    assert "blocked" in result.stdout
    assert "CONNECTED" not in result.stdout


def test_a_write_outside_the_workspace_fails(sandbox: LocalSandbox, tmp_path) -> None:
    target = tmp_path / "escaped.txt"
    code = (
        "import sys\n"
        f"for path in ['/etc/evil', '/usr/evil', '{target}', '/evil']:\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        print('WROTE', path)\n"
        "    except OSError as e:\n"
        "        print('refused', path, e.errno)\n"
    )
    result = _py(sandbox, code)
    assert "WROTE" not in result.stdout, result.stdout
    assert result.stdout.count("refused") == 4
    assert not target.exists()


def test_host_environment_and_home_are_not_visible(
    sandbox: LocalSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-should-not-leak-123")
    code = (
        "import os\n"
        "print(sorted(os.environ))\n"
        "print(os.path.exists(os.path.expanduser('~root/.bashrc')))\n"
    )
    result = _py(sandbox, code)
    assert "OPENAI_API_KEY" not in result.stdout
    assert "sk-test" not in result.stdout
    assert result.stdout.strip().endswith("False")


def test_memory_is_limited(sandbox: LocalSandbox) -> None:
    result = _py(sandbox, "x = bytearray(2 * 1024**3)\nprint('ALLOCATED')\n")
    assert "ALLOCATED" not in result.stdout
    assert "MemoryError" in result.stderr


def test_output_is_capped() -> None:
    with LocalSandbox(SandboxLimits(output_bytes=1000)) as box:
        result = _py(box, "print('x' * 100000)\n")
    assert result.truncated
    assert len(result.stdout) == 1000


def test_read_files_does_not_follow_links_out_of_the_workspace(sandbox: LocalSandbox) -> None:
    sandbox.run(["ln", "-s", "/etc/hostname", "leak.txt"], 10)
    assert sandbox.read_files(["leak.txt", "missing.txt"]) == {}


def test_paths_outside_the_workspace_are_refused(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError, match="outside the workspace"):
        sandbox.write_files({"../escape.py": "x"})
    with pytest.raises(SandboxError):
        sandbox.write_files({"/etc/x": "x"})


ABSURD_NAMES = ["a" * 5000 + ".py", "x" * 300 + ".py", "nul\x00.py", "bell\a.py", "new\nline.py"]


@pytest.mark.parametrize("name", ABSURD_NAMES, ids=["long-path", "long-name", "nul", "bell", "nl"])
def test_absurd_file_names_are_sandbox_errors(sandbox: LocalSandbox, name: str) -> None:
    with pytest.raises(SandboxError) as info:
        sandbox.write_files({name: "x = 1\n"})
    assert info.value.hint


def test_a_file_name_taken_by_a_directory_is_a_sandbox_error(sandbox: LocalSandbox) -> None:
    sandbox.write_files({"pkg/mod.py": "x = 1\n"})
    with pytest.raises(SandboxError) as info:
        sandbox.write_files({"pkg": "y = 2\n"})
    assert info.value.hint


def test_code_cannot_create_nested_user_namespaces(sandbox: LocalSandbox) -> None:
    assert bwrap_disables_userns()  # bubblewrap 0.8+ here
    result = sandbox.run(["unshare", "-r", "true"], 20)
    assert result.exit_code != 0, result


def test_doctor_reports_nested_user_namespaces() -> None:
    check = next(c for c in doctor().checks if c.name == "nested user namespaces")
    assert check.ok and "--disable-userns" in check.detail
    shown = CliRunner().invoke(sandbox_cli, ["doctor"], terminal_width=200)
    assert "nested user namespaces" in shown.stdout


def test_what_a_command_leaves_comes_back_without_links_out(sandbox: LocalSandbox) -> None:
    script = "ln -s /etc/passwd pw; echo a > a.txt; ln -s a.txt ok; mkfifo ff; ls /proc/self/fd"
    result = sandbox.run(["sh", "-c", script], 20)

    assert result.stdout.split() == ["0", "1", "2", "3"]  # no copy-out channel in reach
    assert sorted(p.name for p in sandbox._workspace().iterdir()) == ["a.txt", "ok"]
    assert sandbox.read_files(["a.txt", "ok", "pw"]) == {"a.txt": "a\n", "ok": "a\n"}


def test_close_removes_the_workspace() -> None:
    box = LocalSandbox()
    box.start()
    workspace = box._workspace()
    box.close()
    assert not workspace.exists()
    box.close()  # idempotent


def test_missing_bwrap_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxError, match="bubblewrap") as info:
        LocalSandbox().start()
    assert info.value.hint and "apt-get install bubblewrap" in info.value.hint
    assert os.environ["PATH"] == "/nonexistent"


def test_a_sandbox_starts_from_a_seed_workspace(tmp_path) -> None:
    from codeagent.tools.sandbox.local_copy import pack

    (tmp_path / "ws" / "pkg").mkdir(parents=True)
    (tmp_path / "ws" / "pkg" / "data.bin").write_bytes(b"\x00\xff")
    pack(tmp_path / "ws", tmp_path / "seed.tar")

    with LocalSandbox(seed=tmp_path / "seed.tar") as box:
        result = box.run(["od", "-An", "-tx1", "pkg/data.bin"], timeout_s=20)
    assert result.stdout.split() == ["00", "ff"]


def test_a_seed_bigger_than_the_workspace_is_a_clear_error(tmp_path) -> None:
    from codeagent.tools.sandbox.local import bwrap_sizes_tmpfs
    from codeagent.tools.sandbox.local_copy import pack

    if not bwrap_sizes_tmpfs():
        pytest.skip("this bwrap has no --size: the workspace has no quota")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "big.bin").write_bytes(b"\0" * 2_000_000)
    pack(tmp_path / "ws", tmp_path / "seed.tar")

    with LocalSandbox(SandboxLimits(workspace_mb=1), seed=tmp_path / "seed.tar") as box:
        with pytest.raises(
            SandboxError, match=r"does not fit in sandbox.workspace_mb \(1 MB\)"
        ) as info:
            box.run(["true"], timeout_s=20)
        assert info.value.hint is not None and "workspace_mb" in info.value.hint
        assert (box.workspace_dir / "big.bin").stat().st_size == 2_000_000  # nothing lost


def test_an_unreadable_seed_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "seed.tar").write_bytes(b"not a tar")
    with pytest.raises(SandboxError, match="cannot unpack the set-up workspace") as info:
        LocalSandbox(seed=tmp_path / "seed.tar").start()
    assert info.value.hint is not None and "setup step again" in info.value.hint
