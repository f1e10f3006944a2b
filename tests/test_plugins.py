"""Language adapters and sandbox backends as plugins, registered by entry point."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
import yaml

from codeagent.configs import workflow_path
from codeagent.graphs import run_job
from codeagent.graphs.builder import spec_sandbox
from codeagent.graphs.workflow.loader import parse_workflow
from codeagent.tools.errors import ConfigError
from codeagent.tools.languages import PythonAdapter, get_adapter, language_names
from codeagent.tools.sandbox import (
    ExecResult,
    LocalSandbox,
    SandboxLimits,
    backend_names,
    open_sandbox,
)
from codeagent.tools.sandbox.protocol import SandboxContext
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests.shell_language import ShellAdapter

WORKFLOW = """\
name: mine
nodes:
  code: {kind: coder}
  test: {kind: tester}
edges:
  - {from: code, to: test}
  - from: test
    route: tests
    branches: {pass: END, fail: {to: code, max: 2}}
sandbox:
  backend: BACKEND
  language: LANGUAGE
"""


def _workflow(language: str = "python", backend: str = "local") -> str:
    return WORKFLOW.replace("LANGUAGE", language).replace("BACKEND", backend)


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_workflow(text, "wf.yaml")
    return info.value


class FakeSandbox(SandboxContext):
    """A backend that runs nothing: it keeps files in memory and echoes commands."""

    backend = "fake"

    def __init__(self, limits: SandboxLimits, image: str | None) -> None:
        self.limits, self.image = limits, image
        self.files: dict[str, str] = {}

    def start(self) -> None:
        pass

    def write_files(self, files: Mapping[str, str]) -> None:
        self.files.update(files)

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        return ExecResult(0, f"ran {' '.join(cmd)}", "", 0.0)

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        return {p: self.files[p] for p in paths if p in self.files}

    def close(self) -> None:
        pass


def not_a_sandbox(limits: SandboxLimits, image: str | None) -> object:
    return "a string"


class HalfAdapter:
    """A language plugin that forgot most of the protocol."""

    name = "half"
    source_suffix = ".half"


Install = Callable[[str, str, str], None]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Install:
    """Register an entry point as an installed plugin package does: a .dist-info on sys.path."""
    info = tmp_path / "site" / "my_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-plugins\nVersion: 1.0\n")
    groups: dict[str, list[str]] = {}

    def register(group: str, name: str, value: str) -> None:
        groups.setdefault(group, []).append(f"{name} = {value}\n")
        text = "".join(f"[{g}]\n{''.join(lines)}\n" for g, lines in groups.items())
        (info / "entry_points.txt").write_text(text)

    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return register


def test_an_unknown_language_is_an_error_at_load_listing_the_known_ones(
    install: Install,
) -> None:
    install("codeagent.languages", "shell", "tests.shell_language:ShellAdapter")

    err = _error(_workflow(language="cobol"))

    assert (err.file, err.line, err.location) == ("wf.yaml", 12, "sandbox.language")
    assert "unknown language 'cobol'" in str(err)
    assert err.hint is not None and "javascript, python, shell" in err.hint
    assert '[project.entry-points."codeagent.languages"]' in err.hint


def test_an_unknown_backend_is_an_error_at_load_listing_the_known_ones() -> None:
    err = _error(_workflow(backend="podman"))

    assert (err.line, err.location) == (11, "sandbox.backend")
    assert "unknown sandbox backend 'podman'" in str(err)
    assert err.hint is not None and "auto, docker, local" in err.hint


def test_a_language_plugin_by_entry_point_name(install: Install) -> None:
    install("codeagent.languages", "shell", "tests.shell_language:ShellAdapter")

    assert "shell" in language_names()
    assert isinstance(get_adapter("shell"), ShellAdapter)
    assert parse_workflow(_workflow(language="shell")).sandbox.language == "shell"


def test_a_built_in_language_wins_over_a_plugin_of_the_same_name(
    install: Install,
) -> None:
    install("codeagent.languages", "python", "tests.shell_language:ShellAdapter")

    assert isinstance(get_adapter("python"), PythonAdapter)


def test_a_language_plugin_that_does_not_import(install: Install) -> None:
    install("codeagent.languages", "rust", "no_such_pkg.rust:RustAdapter")

    err = _error(_workflow(language="rust"))

    assert "cannot load language plugin 'rust'" in str(err) and err.line == 12
    assert err.hint is not None and "reinstall" in err.hint


def test_an_incomplete_adapter_names_what_it_lacks(install: Install) -> None:
    install("codeagent.languages", "half", "tests.test_plugins:HalfAdapter")

    with pytest.raises(ConfigError) as info:
        get_adapter("half")

    assert "lacks" in info.value.message and "failure_details" in info.value.message
    assert "name" not in info.value.message.split("lacks")[1].split(", ")


def test_a_backend_plugin_is_picked_by_name(install: Install) -> None:
    install("codeagent.sandboxes", "fake", "tests.test_plugins:FakeSandbox")

    assert backend_names() == ["auto", "docker", "fake", "local"]
    sandbox = open_sandbox("fake", SandboxLimits(memory_mb=256), "img:1")
    assert isinstance(sandbox, FakeSandbox)
    assert (sandbox.limits.memory_mb, sandbox.image) == (256, "img:1")
    spec = parse_workflow(_workflow(backend="fake"))
    with spec_sandbox(spec)() as opened:
        assert opened.run(["true"], timeout_s=1).stdout == "ran true"


def test_the_built_in_backends_keep_their_names() -> None:
    assert isinstance(open_sandbox("local", SandboxLimits()), LocalSandbox)
    assert parse_workflow(_workflow(backend="auto")).sandbox.backend == "auto"


def test_a_backend_plugin_that_makes_no_sandbox(install: Install) -> None:
    install("codeagent.sandboxes", "odd", "tests.test_plugins:not_a_sandbox")

    with pytest.raises(ConfigError, match="made a str, not a sandbox"):
        open_sandbox("odd", SandboxLimits())


PLAN = '{"summary": "add", "files": ["solution.sh"], "steps": ["add"], "test_cases": []}'
BAD = "solution.sh\n```sh\nadd() { echo $(($1 - $2)); }\n```\n"
GOOD = "solution.sh\n```sh\nadd() { echo $(($1 + $2)); }\n```\n"
TESTS = """test_solution.sh
```sh
. ./solution.sh

test_add() {
  got=$(add 1 2)
  [ "$got" = 3 ] || { echo "add 1 2 should be 3, got $got"; return 1; }
}

test_zero() {
  got=$(add 0 0)
  [ "$got" = 0 ] || { echo "add 0 0 should be 0, got $got"; return 1; }
}
```
"""
APPROVE = '{"verdict": "approve", "comments": []}'
TASK = "Write a shell function add A B that prints the sum.\n\n>>> add(2, 3)\n5\n"


@pytest.fixture
def shell_workflow(tmp_path: Path, install: Install) -> Path:
    """The default workflow on the local sandbox, in a language only a plugin knows."""
    install("codeagent.languages", "shell", "tests.shell_language:ShellAdapter")
    path = workflow_path("default")
    assert path is not None
    data = yaml.safe_load(path.read_text())
    data["sandbox"].update(language="shell", backend="local")
    target = tmp_path / "shell.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


@pytest.mark.usefixtures("bwrap")
def test_a_plugin_language_runs_a_job_end_to_end(shell_workflow: Path, tmp_path: Path) -> None:
    model = ScriptedChatModel(
        rules=[
            Rule(name="plan", match="You are the planner", reply=PLAN),
            Rule(name="fix", match="Your previous version", reply=GOOD),
            Rule(name="code", match="You are the coder", reply=BAD),
            Rule(name="test", match="You are the tester", reply=TESTS),
            Rule(name="review", match="You are the reviewer", reply=APPROVE),
        ]
    )

    result = run_job(TASK, workflow=shell_workflow, chat_model=model, out=tmp_path / "out")

    assert result.status == "success", (result.error, result.test_report)
    assert result.attempts == 2
    assert result.files == {"solution.sh": "add() { echo $(($1 + $2)); }\n"}
    assert list(result.tests) == ["test_solution.sh"]  # the Python-syntax example is not run
    assert result.test_report is not None
    assert (result.test_report["passed"], result.test_report["total"]) == (2, 2)
    fix_prompt = next(p for p in model.prompts if "Your previous version" in p)
    assert "- test_add: add 1 2 should be 3, got -1" in fix_prompt  # the adapter's failures
    coder_prompt = next(p for p in model.prompts if "You are the coder" in p)
    assert "correct shell source files" in coder_prompt and "```sh" in coder_prompt
    assert (tmp_path / "out" / "solution.sh").exists()
