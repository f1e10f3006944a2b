"""Routes and the transition rule (pure)."""

from __future__ import annotations

from codeagent.graphs.routes import decide
from codeagent.graphs.workflow.loader import parse_workflow
from codeagent.tools.contracts.state import AgentState, best_attempt

SPEC = parse_workflow(
    """
name: t
nodes:
  code: {kind: coder}
  test: {kind: tester}
  review: {kind: reviewer}
edges:
  - {from: code, to: test}
  - from: test
    route: tests
    branches: {pass: review, fail: {to: code, max: 2}}
  - from: review
    route: review
    branches: {approve: END, changes: {to: code, max: 1}}
"""
)


def _state(**kw: object) -> AgentState:
    return AgentState(**kw)  # type: ignore[typeddict-item]


def _fail(n: int) -> list[dict[str, object]]:
    return [{"from": "test", "to": "code", "outcome": "fail"} for _ in range(n)]


def test_plain_edge() -> None:
    t = decide(SPEC, "code", _state())
    assert (t.to, t.outcome, t.status) == ("test", "always", None)


def test_green_tests_go_to_review() -> None:
    t = decide(SPEC, "test", _state(test_report={"ok": True, "passed": 3, "total": 3}))
    assert (t.to, t.outcome) == ("review", "pass")
    assert t.reason == "3/3 tests passed"


def test_failing_tests_retry_until_the_bound() -> None:
    report = {"ok": False, "passed": 1, "total": 3, "failed": 2, "errors": 0}
    t = decide(SPEC, "test", _state(test_report=report, transitions=_fail(1)))
    assert (t.to, t.outcome, t.status) == ("code", "fail", None)
    t = decide(SPEC, "test", _state(test_report=report, transitions=_fail(2)))
    assert (t.to, t.outcome, t.status) == ("END", "fail", "failed")
    assert "spent (2 of 2)" in t.reason


def test_a_timeout_is_a_failure_with_a_reason() -> None:
    t = decide(SPEC, "test", _state(test_report={"ok": False, "timed_out": True, "total": 0}))
    assert t.outcome == "fail" and "timed out" in t.reason


def test_approval_ends_in_success() -> None:
    t = decide(SPEC, "review", _state(review={"verdict": "approve"}))
    assert (t.to, t.status) == ("END", "success")


def test_change_requests_are_bounded() -> None:
    review = {"verdict": "request_changes", "comments": ["rename x"]}
    t = decide(SPEC, "review", _state(review=review))
    assert (t.to, t.outcome) == ("code", "changes") and "rename x" in t.reason
    taken = [{"from": "review", "to": "code", "outcome": "changes"}]
    t = decide(SPEC, "review", _state(review=review, transitions=taken))
    assert (t.to, t.status) == ("END", "failed")


def _entry(attempt: int, passed: int, failed: int, ok: bool = False) -> dict[str, object]:
    return {
        "attempt": attempt,
        "report": {"ok": ok, "passed": passed, "failed": failed, "errors": 0},
    }


def test_best_attempt_prefers_most_tests_passing_and_never_a_worse_later_one() -> None:
    history = [_entry(1, 2, 1), _entry(2, 3, 0, ok=True), _entry(3, 1, 2)]
    assert best_attempt(history)["attempt"] == 2  # type: ignore[index]


def test_best_attempt_takes_the_later_of_equals() -> None:
    assert best_attempt([_entry(1, 2, 1), _entry(2, 2, 1)])["attempt"] == 2  # type: ignore[index]
    assert best_attempt([]) is None
