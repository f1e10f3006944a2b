"""Testing helpers shipped with codeagent: a scripted chat model and a fake sandbox.

With both, a workflow runs end to end with neither a model nor a sandbox::

    model = ScriptedChatModel(rules=[...])
    result = run_job(task, chat_model=model, sandbox_factory=FakeSandbox)

``ScriptedChatModel`` answers from rules instead of a network model. A rule
matches a regular expression against the whole prompt (system + user text), so
a workflow can be tested deterministically, also across process restarts (the
same prompt always gets the same answer). Use it from Python::

    model = ScriptedChatModel(rules=[Rule(match="planner", reply='{"summary": ...}')])

or from a workflow file (``provider: scripted``, ``script: rules.yaml``)::

    delay_s: 0.1          # optional: seconds before each answer
    log: calls.jsonl      # optional: one JSON line per call (start/done), for call counts
    rules:
      - name: plan
        match: "You are the planner"
        reply: '{"summary": "..."}'
      - name: code
        match: "You are the coder"
        replies: ["first answer", "second answer"]   # in order, the last repeats

``FakeSandbox`` runs nothing: each command gives the next scripted :class:`FakeRun`
(test counts, exit code, output), so routes, retries and budgets can be tested
without Docker or bubblewrap.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from codeagent.tools.errors import ConfigError
from codeagent.tools.sandbox.protocol import ExecResult, FileData, SandboxContext

__all__ = ["FakeRun", "FakeSandbox", "Rule", "ScriptedChatModel"]


class Rule(BaseModel):
    """One scripted answer: the first rule whose ``match`` is found in the prompt answers."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    match: str = Field(default="", description="Regular expression searched in the prompt.")
    reply: str | None = None
    replies: list[str] = Field(default_factory=list)

    def answer(self, count: int) -> str:
        """The answer for the ``count``-th (0-based) use of this rule."""
        if self.replies:
            return self.replies[min(count, len(self.replies) - 1)]
        return self.reply or ""


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from :class:`Rule` s (first match wins).

    Attributes:
        rules: The rules, tried in order.
        delay_s: Seconds to wait before each answer (to test interrupts).
        log_path: When set, each call appends ``start`` and ``done`` JSON lines.
    """

    rules: list[Rule] = Field(default_factory=list)
    delay_s: float = 0.0
    log_path: str | None = None

    _counts: dict[int, int] = PrivateAttr(default_factory=dict)
    _prompts: list[str] = PrivateAttr(default_factory=list)
    _settings: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def from_file(cls, path: Path) -> ScriptedChatModel:
        """Load a rules file (YAML or JSON) as described in the module docstring.

        Raises:
            ConfigError: When the file is missing or malformed.
        """
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            rules = [Rule.model_validate(r) for r in data.get("rules", [])]
        except (OSError, yaml.YAMLError, ValidationError, AttributeError) as exc:
            raise ConfigError(
                f"cannot load the scripted model's rules: {exc}",
                file=str(path),
                hint="see tools/testing.py for the rules file format",
            ) from None
        log = data.get("log")
        return cls(
            rules=rules,
            delay_s=float(data.get("delay_s", 0)),
            log_path=str(path.parent / log) if log else None,
        )

    @property
    def prompts(self) -> list[str]:
        """Every prompt this instance answered, in order."""
        return list(self._prompts)

    @property
    def call_settings(self) -> list[dict[str, Any]]:
        """The settings each call was made with (``temperature``, ``seed``, ...), in order."""
        return [dict(s) for s in self._settings]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        prompt = "\n\n".join(str(m.content) for m in messages)
        index, rule = self._pick(prompt)
        self._log("start", rule.name)
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            count = self._counts.get(index, 0)
            self._counts[index] = count + 1
            self._prompts.append(prompt)
            self._settings.append(dict(kwargs))
        text = rule.answer(count)
        self._log("done", rule.name)
        tokens_in, tokens_out = max(1, len(prompt) // 4), max(1, len(text) // 4)
        message = AIMessage(
            content=text,
            usage_metadata={
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _pick(self, prompt: str) -> tuple[int, Rule]:
        for i, rule in enumerate(self.rules):
            if re.search(rule.match, prompt):
                return i, rule
        raise ValueError(f"no scripted rule matches the prompt: {prompt[:200]!r}")

    def _log(self, event: str, name: str) -> None:
        if not self.log_path:
            return
        line = json.dumps({"event": event, "rule": name, "pid": os.getpid(), "t": time.time()})
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()


@dataclass(frozen=True)
class FakeRun:
    """What one command run in a :class:`FakeSandbox` gives.

    Attributes:
        passed: Tests the run's JUnit report counts as passed.
        failed: Tests it counts as failed.
        errors: Tests it counts as crashed.
        stdout: The command's standard output.
        stderr: The command's standard error.
        exit_code: The exit status (None: 0 when nothing failed or crashed, else 1).
        timed_out: The command "was killed" on its time limit.
    """

    passed: int = 1
    failed: int = 0
    errors: int = 0
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    timed_out: bool = False

    def result(self) -> ExecResult:
        """The command's result."""
        code = self.exit_code
        if code is None:
            code = 124 if self.timed_out else int(bool(self.failed or self.errors))
        return ExecResult(code, self.stdout, self.stderr, 0.0, timed_out=self.timed_out)

    def junit(self) -> str:
        """The JUnit XML report the run leaves (pytest's, as the Python adapter reads it)."""
        total = self.passed + self.failed + self.errors
        return (
            f'<testsuite tests="{total}" failures="{self.failed}" '
            f'errors="{self.errors}" skipped="0"></testsuite>'
        )


class FakeSandbox(SandboxContext):
    """A sandbox that runs nothing, for testing workflows without Docker or bubblewrap.

    Each command gives the next of ``runs`` (the last one repeats; by default one
    passing test). Reading a report file whose name ends in ``.xml`` gives the last
    run's JUnit report, so the Python adapter sees the scripted test counts. Files
    written are kept in :attr:`files` as text and read back; files written as bytes are
    kept as they are in :attr:`binary` too (decoded with replacement in ``files``).
    Commands are kept in :attr:`commands`. It isolates nothing, as nothing runs.

    The class itself is a sandbox factory, a fresh all-green sandbox per test run::

        run_job(task, chat_model=model, sandbox_factory=FakeSandbox)

    Share one scripted instance to make test runs fail, then pass::

        sandbox = FakeSandbox(FakeRun(passed=1, failed=1), FakeRun(passed=2))
        run_job(task, chat_model=model, sandbox_factory=lambda: sandbox)
        assert len(sandbox.commands) == 2

    Args:
        runs: What the 1st, 2nd, ... command gives.
    """

    backend = "fake"

    def __init__(self, *runs: FakeRun) -> None:
        self.runs = list(runs) or [FakeRun()]
        self.files: dict[str, str] = {}
        self.binary: dict[str, bytes] = {}
        self.commands: list[list[str]] = []
        self._last: FakeRun | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Nothing to start."""

    def close(self) -> None:
        """Nothing to close (the files stay readable, for assertions)."""

    def write_files(self, files: Mapping[str, FileData]) -> None:
        """Keep the files in :attr:`files` (and bytes as they are in :attr:`binary`)."""
        with self._lock:
            for path, data in files.items():
                if isinstance(data, bytes):
                    self.binary[path] = data
                    self.files[path] = data.decode("utf-8", errors="replace")
                else:
                    self.binary.pop(path, None)
                    self.files[path] = data

    def run(self, cmd: Sequence[str], timeout_s: float = 60.0) -> ExecResult:
        """Record ``cmd`` and give the next scripted run's result at once."""
        with self._lock:
            self.commands.append(list(cmd))
            self._last = self.runs[min(len(self.commands), len(self.runs)) - 1]
            return self._last.result()

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        """Files written before, and the last run's JUnit report for ``.xml`` paths."""
        with self._lock:
            found = {p: self.files[p] for p in paths if p in self.files}
            if self._last is not None:
                xml = (p for p in paths if p.endswith(".xml") and p not in found)
                found.update(dict.fromkeys(xml, self._last.junit()))
            return found
