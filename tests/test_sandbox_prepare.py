"""A job's set-up workspace: the cache key, the local backend for real, other backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.graphs.builder import spec_sandbox
from codeagent.graphs.workflow.loader import parse_workflow
from codeagent.tools.errors import ConfigError, SandboxError
from codeagent.tools.sandbox import LocalSandbox, Sandbox, SandboxLimits
from codeagent.tools.sandbox.prepare import (
    PreparedWorkspace,
    SetupFailed,
    SetupStep,
    prepare_workspace,
    setup_key,
)
from codeagent.tools.sandbox.traced import TracedSandbox
from codeagent.tools.testing import FakeSandbox
from tests.setup_support import INTERFACES, WHEEL, non_loopback, tiny_wheel

REPO = {"src/app.py": "X = 1\n", "assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\xff"}
TOKEN = "python3 -c 'import uuid; print(uuid.uuid4())' > token.txt; echo ran >> runs.txt"
LIMITS = SandboxLimits(memory_mb=512, cpu_time_s=20)


def _local(limits: SandboxLimits = LIMITS) -> Sandbox:
    return LocalSandbox(limits)


def _prepare(
    tmp_path: Path, step: SetupStep, files: dict[str, str | bytes] | None = None, **kw: object
) -> PreparedWorkspace:
    limits = SandboxLimits(memory_mb=512, cpu_time_s=20, **kw)  # type: ignore[arg-type]
    return prepare_workspace(
        lambda: LocalSandbox(limits), REPO if files is None else files, step, cache_dir=tmp_path
    )


def _sh(prepared: PreparedWorkspace, script: str) -> str:
    with prepared.open() as sandbox:
        result = sandbox.run(["sh", "-c", script], timeout_s=30)
    assert result.ok, result.stderr
    return result.stdout


# -- the cache key (pure) -------------------------------------------------------------


def test_the_key_changes_with_the_files_commands_base_and_network() -> None:
    step = SetupStep(("pip install .",))
    key = setup_key("docker:sha256:1", step, REPO)

    assert setup_key("docker:sha256:1", step, dict(reversed(REPO.items()))) == key
    assert setup_key("docker:sha256:1", SetupStep(("pip install .",), timeout_s=5), REPO) == key
    assert setup_key("docker:sha256:1", step, {**REPO, "src/app.py": "X = 2\n"}) != key
    assert setup_key("docker:sha256:1", step, {**REPO, "assets/logo.png": b"\x89PNG"}) != key
    assert setup_key("docker:sha256:1", step, {**REPO, "new.txt": ""}) != key
    assert setup_key("docker:sha256:1", SetupStep(("pip install -e .",)), REPO) != key
    assert setup_key("docker:sha256:1", SetupStep(("pip", "install .")), REPO) != key
    assert setup_key("docker:sha256:1", SetupStep(("pip install .",), network=True), REPO) != key
    assert setup_key("docker:sha256:2", step, REPO) != key


def test_paths_are_normalised_in_the_key_and_bad_ones_refused() -> None:
    step = SetupStep()
    assert setup_key("b", step, {"./a/b.py": "x"}) == setup_key("b", step, {"a/b.py": "x"})
    with pytest.raises(SandboxError, match="outside the workspace"):
        setup_key("b", step, {"../escape.py": "x"})


# -- backends that cannot keep a set-up state ---------------------------------------


def test_a_backend_without_snapshots_sets_up_every_sandbox_it_opens(tmp_path: Path) -> None:
    made: list[FakeSandbox] = []

    def factory() -> Sandbox:
        made.append(FakeSandbox())
        return TracedSandbox(made[-1])

    prepared = prepare_workspace(factory, REPO, SetupStep(("make deps",)), cache_dir=tmp_path)
    assert (prepared.backend, prepared.reused, prepared.location) == ("fake", False, "")
    with prepared.open() as sandbox:
        sandbox.write_files({"solution.py": "Y = 2\n"})

    assert made[-1].files.keys() == {*REPO, "solution.py"}
    assert made[-1].binary == {"assets/logo.png": REPO["assets/logo.png"]}
    assert made[-1].commands == [["sh", "-c", "make deps"]]
    assert not list(tmp_path.iterdir())  # nothing cached


def test_a_backend_without_network_control_refuses_a_networked_setup(tmp_path: Path) -> None:
    refused = r"a FakeSandbox \(fake\) cannot give the setup step a network"
    with pytest.raises(SandboxError, match=refused) as info:
        prepare_workspace(FakeSandbox, REPO, SetupStep(("x",), network=True), cache_dir=tmp_path)
    assert info.value.hint is not None and "setup_network: false" in info.value.hint


def test_a_failing_setup_in_a_sandbox_without_snapshots_is_a_setup_error(tmp_path: Path) -> None:
    from codeagent.tools.testing import FakeRun

    prepared = prepare_workspace(
        lambda: FakeSandbox(FakeRun(passed=0, failed=1)),
        REPO,
        SetupStep(("make deps",)),
        cache_dir=tmp_path,
    )
    with pytest.raises(SetupFailed) as info, prepared.open():
        pass
    assert info.value.command == "make deps" and info.value.exit_code == 1


# -- the local backend, for real ----------------------------------------------------


@pytest.mark.usefixtures("bwrap")
def test_setup_runs_once_and_every_sandbox_starts_from_its_result(tmp_path: Path) -> None:
    first = _prepare(tmp_path, SetupStep((TOKEN,)))
    token = _sh(first, "cat token.txt")
    again = _prepare(tmp_path, SetupStep((TOKEN,)))

    assert (first.reused, again.reused) == (False, True)
    assert first.key == again.key and Path(first.location).is_file()
    assert "$ python3 -c" in first.output and again.output == ""
    for prepared in (first, again, first):  # each open() is a fresh sandbox
        assert _sh(prepared, "cat token.txt runs.txt src/app.py") == f"{token}ran\nX = 1\n"
    logo = _sh(first, "od -An -tx1 assets/logo.png").split()
    assert bytes.fromhex("".join(logo)) == REPO["assets/logo.png"]


@pytest.mark.usefixtures("bwrap")
def test_changed_files_or_commands_set_up_afresh(tmp_path: Path) -> None:
    first = _prepare(tmp_path, SetupStep((TOKEN,)))
    other_files = _prepare(tmp_path, SetupStep((TOKEN,)), {**REPO, "src/app.py": "X = 2\n"})
    other_cmds = _prepare(tmp_path, SetupStep((TOKEN, "true")))

    assert not other_files.reused and not other_cmds.reused
    assert len({first.key, other_files.key, other_cmds.key}) == 3
    assert len({_sh(p, "cat token.txt") for p in (first, other_files, other_cmds)}) == 3
    assert _sh(other_files, "cat src/app.py") == "X = 2\n"


@pytest.mark.usefixtures("bwrap")
def test_without_setup_network_a_setup_command_cannot_open_a_socket(tmp_path: Path) -> None:
    connect = "python3 -c \"import socket; socket.create_connection(('10.255.255.1', 80), 2)\""
    with pytest.raises(SetupFailed) as info:
        _prepare(tmp_path, SetupStep((connect,)))

    assert info.value.exit_code == 1 and "unreachable" in info.value.output
    assert "setup_network: true" in (info.value.hint or "")
    assert not list(tmp_path.glob("*.tar"))


@pytest.mark.usefixtures("bwrap")
def test_setup_network_is_gone_before_the_agent_code_runs(tmp_path: Path) -> None:
    if not non_loopback(Path("/proc/net/dev").read_text().replace(":", " : ")):
        pytest.skip("this host has no network interface besides lo")  # nothing to share
    prepared = _prepare(tmp_path, SetupStep((f"{INTERFACES} > setup-net.txt",), network=True))

    assert non_loopback(_sh(prepared, "cat setup-net.txt"))  # setup had the host's network
    assert _sh(prepared, INTERFACES).split() == ["lo"]  # the agent's code has none


@pytest.mark.usefixtures("bwrap")
def test_a_dependency_installs_offline_from_a_wheel_in_the_repo(tmp_path: Path) -> None:
    install = (
        "python3 -m pip install --no-index --no-cache-dir --disable-pip-version-check"
        " --find-links wheels --target .deps mypkg"
    )
    files = {**REPO, f"wheels/{WHEEL}": tiny_wheel(42)}
    prepared = _prepare(tmp_path, SetupStep((install,)), files)

    assert _sh(prepared, "python3 -c 'import mypkg; print(mypkg.VALUE)'") == "42\n"


@pytest.mark.usefixtures("bwrap")
def test_a_failing_setup_command_says_which_with_its_exit_code_and_output(tmp_path: Path) -> None:
    step = SetupStep(("true", "echo building; echo 'E: no such package' >&2; exit 3", "true"))
    with pytest.raises(SetupFailed) as info:
        _prepare(tmp_path, step)

    error = info.value
    assert error.command == step.commands[1] and error.exit_code == 3
    assert "building" in error.output and "E: no such package" in error.output
    assert "exit 3" in error.message and step.commands[1] in error.message
    assert "sandbox.setup" in (error.hint or "")
    assert not list(tmp_path.glob("*.tar"))  # a failed setup is not cached


@pytest.mark.usefixtures("bwrap")
def test_setup_that_runs_out_of_time_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SetupFailed) as info:
        _prepare(tmp_path, SetupStep(("sleep 20",), timeout_s=1))

    assert info.value.exit_code == 124
    assert "setup_timeout_s" in (info.value.hint or "")


@pytest.mark.usefixtures("bwrap")
def test_setup_that_outgrows_the_workspace_names_the_setting(tmp_path: Path) -> None:
    grow = "head -c 3000000 /dev/zero > big.bin"
    with pytest.raises(SetupFailed) as info:
        _prepare(tmp_path, SetupStep((grow,)), workspace_mb=2)
    assert "workspace_mb" in (info.value.hint or "")

    with pytest.raises(SandboxError, match=r"sandbox\.workspace_mb is 1") as too_big:
        _prepare(tmp_path, SetupStep(), {"big.bin": b"\0" * 2_000_000}, workspace_mb=1)
    assert "workspace_mb" in (too_big.value.hint or "")


@pytest.mark.usefixtures("bwrap")
def test_a_workflow_sandbox_section_drives_the_setup(tmp_path: Path) -> None:
    spec = parse_workflow(WORKFLOW, "wf.yaml")
    box = spec.sandbox
    step = SetupStep(tuple(box.setup), box.setup_network, box.setup_timeout_s)
    prepared = prepare_workspace(spec_sandbox(spec), REPO, step, cache_dir=tmp_path)

    assert (box.workspace_mb, box.setup_network, box.setup_timeout_s) == (200, False, 30)
    with prepared.open() as sandbox:
        assert isinstance(sandbox, LocalSandbox) and sandbox.limits.workspace_mb == 200
        assert sandbox.run(["cat", "hello.txt"], timeout_s=30).stdout == "hi\n"


def test_workflow_setup_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="workspace_mb"):
        parse_workflow(WORKFLOW.replace("workspace_mb: 200", "workspace_mb: 0"), "wf.yaml")
    with pytest.raises(ConfigError, match="setup"):
        parse_workflow(WORKFLOW.replace("- echo hi > hello.txt", "- 3: x"), "wf.yaml")
    defaults = parse_workflow(WORKFLOW.split("sandbox:")[0], "wf.yaml").sandbox
    assert (defaults.workspace_mb, defaults.setup, defaults.setup_network) == (64, [], False)
    assert defaults.setup_timeout_s == 600


WORKFLOW = """\
name: repo
models:
  default: {provider: openai, model: gpt-4o-mini}
nodes:
  code: {kind: coder}
  test: {kind: tester}
edges:
  - {from: code, to: test}
  - {from: test, to: END}
sandbox:
  backend: local
  workspace_mb: 200
  setup:
    - echo hi > hello.txt
  setup_timeout_s: 30
"""
