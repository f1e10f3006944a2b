"""The job state: a TypedDict of JSON-serialisable values, checkpointed after every node."""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypedDict, TypeVar, cast, get_type_hints

from codeagent.tools.contracts.history import HistoryEntry

__all__ = [
    "AgentState",
    "add_counts",
    "best_attempt",
    "files_fingerprint",
    "initial_state",
    "reduce_update",
]


def add_counts(left: dict[str, int] | None, right: dict[str, int] | None) -> dict[str, int]:
    """Reducer: add numeric counters key by key (token usage, node runs)."""
    merged = dict(left or {})
    for key, value in (right or {}).items():
        merged[key] = merged.get(key, 0) + value
    return merged


class AgentState(TypedDict, total=False):
    """Everything a job knows. Clients, containers and handles never go here.

    Keys:
        task: The task text as the user gave it.
        language: Language adapter name (``python``).
        plan: The current structured plan (``codeagent.tools.contracts.plan.Plan``
            dumped, with its ``version``).
        plan_version: Bumped on every (re-)plan.
        files: Solution files, path -> text.
        tests: Test files, path -> text.
        test_report: The last test run (``codeagent.tools.contracts.report.TestReport``
            as ``to_state()`` gives it, plus ``failures``: the language adapter's one line
            per failed test; after a stub check ``raw_passed``, ``vacuous`` and
            ``vacuous_tests`` (``discount_vacuous``); ``notes`` from ``test_notes``).
        test_notes: What was done to the model-written tests when they were written
            (copies of the solution removed, files dropped for not importing it).
        review: The last review verdict.
        attempt: How many times the coder has run.
        history: Append-only: one :class:`HistoryEntry` per test run, for best-so-far
            and rollback.
        transitions: Append-only: every edge taken, with the route's decision and reason.
        usage: Model calls and tokens, summed.
        node_runs: Completed runs per node id, summed.
        status: running, success, failed, budget_exceeded or error.
        next: The node the last transition chose (or END).
        last_node: The node that produced the latest checkpoint.
        started_at: Unix time the job started (wall-time budget).
        error: The last node failure message, if any.
        resume_to: Where the job goes once a pending approval is given.
        rollback: The last undo by the rollback gate (graphs/rollback.py), if any.
        repo: A repo job's repository: ``snapshot`` (its id in the state dir), ``root``
            (the user's path, never written during the job), ``base_commit``,
            ``test_cmd``, ``targets`` (tests the task names). In a repo job ``files``
            holds only the changed files (path -> new text).
        baseline: A repo job's test run before any edit: ``outcomes`` (test id ->
            outcome), ``passed``, ``failing``, ``output``.
        context: A repo job's read step: the files and symbols the coder is shown.
        patch: A repo job's changes as a unified diff against the snapshot.
        peers: The sampling coder's other candidates that behaved as the kept one on
            every probe where both returned: ``of`` (:func:`files_fingerprint` of the
            files they agree with; stale once ``files`` change) and ``files`` (a list of
            path -> text). A model-written test that all of them fail as the kept code
            does cannot overturn it (``nodes/tester.py``).
    """

    task: str
    language: str
    plan: dict[str, Any] | None
    plan_version: int
    files: dict[str, str]
    tests: dict[str, str]
    test_report: dict[str, Any] | None
    test_notes: list[str]
    review: dict[str, Any] | None
    attempt: int
    history: Annotated[list[HistoryEntry], operator.add]
    transitions: Annotated[list[dict[str, Any]], operator.add]
    usage: Annotated[dict[str, int], add_counts]
    node_runs: Annotated[dict[str, int], add_counts]
    status: str
    next: str
    last_node: str
    started_at: float
    error: str | None
    resume_to: str
    rollback: dict[str, Any] | None
    repo: dict[str, Any] | None
    baseline: dict[str, Any] | None
    context: dict[str, Any] | None
    patch: str
    peers: dict[str, Any] | None


_REDUCERS = {
    key: hint.__metadata__[0]
    for key, hint in get_type_hints(AgentState, include_extras=True).items()
    if hasattr(hint, "__metadata__")
}
S = TypeVar("S", bound=Mapping[str, Any])


def reduce_update(state: S, update: Mapping[str, Any]) -> S:
    """``state`` after a node's ``update``, as LangGraph applies it (pure).

    Keys with a reducer on :class:`AgentState` are combined by it (``history`` and
    ``transitions`` appended, ``usage`` and ``node_runs`` added up); the others are
    replaced. As the reducers are associative, this also merges two updates into one.
    """
    merged = dict(state)
    for key, value in update.items():
        reducer = _REDUCERS.get(key)
        merged[key] = reducer(merged[key], value) if reducer and key in merged else value
    return cast(S, merged)


def files_fingerprint(files: Mapping[str, str]) -> str:
    """A short digest of a set of files (path and text), to tell whether they changed."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{len(path)}:{path}{len(files[path])}:".encode())
        digest.update(files[path].encode())
    return digest.hexdigest()[:16]


def initial_state(task: str, language: str, started_at: float) -> AgentState:
    """The state a new job starts from."""
    return AgentState(
        task=task,
        language=language,
        plan=None,
        plan_version=0,
        files={},
        tests={},
        test_report=None,
        review=None,
        attempt=0,
        history=[],
        transitions=[],
        usage={},
        node_runs={},
        status="running",
        next="",
        last_node="",
        started_at=started_at,
        error=None,
    )


Entry = TypeVar("Entry", bound=Mapping[str, Any])


def best_attempt(history: Sequence[Entry]) -> Entry | None:
    """The attempt with the most tests passing; a later attempt wins only if not worse.

    Attempts are compared on (all green, passed, -failures-errors); on a tie the
    later one is kept, as it has seen more feedback.
    """
    best: Entry | None = None
    best_key: tuple[int, int, int] | None = None
    for entry in history:
        report = entry.get("report") or {}
        key = (
            int(bool(report.get("ok"))),
            int(report.get("passed", 0)),
            -int(report.get("failed", 0)) - int(report.get("errors", 0)),
        )
        if best_key is None or key >= best_key:
            best, best_key = entry, key
    return best
