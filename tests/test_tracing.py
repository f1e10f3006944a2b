"""Tracing: the span tree of a scripted job, in memory, over OTLP/HTTP and gRPC, and on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from codeagent.graphs import resume_job, run_job
from codeagent.graphs.jobs.checkpoint import state_dir
from codeagent.tools.observability.audit import read_audit
from codeagent.tools.observability.trace_file import load_spans, span_tree
from codeagent.tools.observability.tracing import TracingConfig, redact
from codeagent.tools.sandbox import LocalSandbox
from tests import scripts
from tests.otlp_receiver import grpc_receiver, http_receiver

pytestmark = pytest.mark.usefixtures("bwrap")

FAKE_KEY = "sk-fake-0123456789abcdef-leak-canary"
RETRIED = ["plan", "code", "test", "code", "test", "review"]


def _retried_job(**kwargs: Any):
    model = scripts.model(code=[scripts.BAD], fix=[scripts.GOOD])
    return run_job(scripts.TASK, chat_model=model, sandbox_factory=LocalSandbox, **kwargs)


def test_the_span_tree_of_a_retried_job() -> None:
    exporter = InMemorySpanExporter()
    result = _retried_job(span_processors=[SimpleSpanProcessor(exporter)])
    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}

    roots = [s for s in spans if s.parent is None]
    assert [r.name for r in roots] == ["invoke_workflow default"]
    root = roots[0]
    assert root.attributes["gen_ai.workflow.name"] == "default"
    assert root.attributes["codeagent.thread_id"] == result.thread_id
    assert root.attributes["codeagent.status"] == "success"
    assert format(root.context.trace_id, "032x") == result.trace_id

    nodes = sorted(
        (s for s in spans if s.name.startswith("invoke_agent")), key=lambda s: s.start_time
    )
    assert [s.attributes["gen_ai.agent.name"] for s in nodes] == RETRIED
    assert all(s.parent.span_id == root.context.span_id for s in nodes)
    assert [s.attributes["codeagent.attempt"] for s in nodes] == [0, 1, 1, 2, 2, 2]
    assert all(s.attributes["codeagent.checkpoint_id"] for s in nodes)

    # one transition event per node execution, with from, to, decision and reason
    transitions = [e for s in nodes for e in s.events if e.name == "codeagent.transition"]
    assert [
        (
            e.attributes["codeagent.from"],
            e.attributes["codeagent.to"],
            e.attributes["codeagent.outcome"],
        )
        for e in transitions
    ] == [
        ("plan", "code", "always"),
        ("code", "test", "always"),
        ("test", "code", "fail"),
        ("code", "test", "always"),
        ("test", "review", "pass"),
        ("review", "END", "approve"),
    ]
    assert "1/4 tests passed" in transitions[2].attributes["codeagent.reason"]

    chats = [s for s in spans if s.name.startswith("chat ")]
    assert len(chats) == 5 and all(s.kind == SpanKind.CLIENT for s in chats)
    for chat in chats:
        assert by_id[chat.parent.span_id].name.startswith("invoke_agent")
        assert chat.attributes["gen_ai.operation.name"] == "chat"
        assert chat.attributes["gen_ai.provider.name"] == "scripted"
        assert chat.attributes["gen_ai.usage.input_tokens"] > 0
        assert "gen_ai.input.messages" not in chat.attributes  # content only on opt-in
    assert (
        sum(s.attributes["gen_ai.usage.input_tokens"] for s in chats)
        == result.usage["input_tokens"]
    )

    runs = [s for s in spans if s.name == "execute_tool sandbox.run"]
    # Each test run, then the same tests against a stub of the code (none passes there).
    assert [by_id[s.parent.span_id].attributes["gen_ai.agent.name"] for s in runs] == ["test"] * 4
    assert [s.attributes["process.exit_code"] for s in runs] == [1, 1, 0, 1]
    assert all(s.attributes["codeagent.sandbox.backend"] == "local" for s in runs)


def _tree_over(endpoint: str, protocol: str, received: Any) -> None:
    result = _retried_job(tracing=TracingConfig(endpoint=endpoint, protocol=protocol))
    names = [s["name"] for s in received.spans]
    assert names.count("invoke_workflow default") == 1
    assert sorted(
        n.removeprefix("invoke_agent ") for n in names if n.startswith("invoke_agent")
    ) == sorted(RETRIED)
    assert names.count("execute_tool sandbox.run") == 4  # 2 test runs, each with its stub run
    assert sum(1 for n in names if n.startswith("chat ")) == 5
    assert {s["trace_id"] for s in received.spans} == {result.trace_id}
    assert {s["service"] for s in received.spans} == {"codeagent"}
    ids = {s["span_id"]: s for s in received.spans}
    for span in received.spans:
        if span["name"] != "invoke_workflow default":
            assert span["parent_id"] in ids
    # the local trace file holds the same spans
    local = load_spans(
        json.loads((state_dir() / "runs" / result.thread_id / "trace.json").read_text())
    )
    assert sorted((s.span_id, s.parent_id, s.name) for s in local) == sorted(
        (s["span_id"], s["parent_id"], s["name"]) for s in received.spans
    )


def test_the_same_tree_arrives_over_otlp_http() -> None:
    with http_receiver() as (endpoint, received):
        _tree_over(endpoint, "http/protobuf", received)
    assert received.requests >= 1


def test_the_same_tree_arrives_over_otlp_grpc() -> None:
    with grpc_receiver() as (endpoint, received):
        _tree_over(endpoint, "grpc", received)
    assert received.requests >= 1


def test_the_standard_otel_env_vars_configure_export(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_receiver() as (endpoint, received):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        _retried_job()
    assert any(s["name"] == "invoke_workflow default" for s in received.spans)


def test_nothing_is_exported_unless_configured() -> None:
    assert TracingConfig().export_endpoint() is None


def test_the_local_trace_file_is_otlp_json_and_matches_the_tree() -> None:
    result = _retried_job()
    data = json.loads((state_dir() / "runs" / result.thread_id / "trace.json").read_text())
    raw = data["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(raw["traceId"]) == 32 and len(raw["spanId"]) == 16  # hex ids, as OTLP/JSON wants
    assert isinstance(raw["kind"], int)
    roots = span_tree(load_spans(data))
    assert len(roots) == 1 and roots[0].trace_id == result.trace_id
    assert [c.attributes["gen_ai.agent.name"] for c in roots[0].children] == RETRIED


def test_a_resumed_job_links_to_the_original_trace() -> None:
    first = _retried_job(thread_id="link-1")
    exporter = InMemorySpanExporter()
    again = resume_job(
        "link-1", chat_model=scripts.model(), span_processors=[SimpleSpanProcessor(exporter)]
    )
    root = next(s for s in exporter.get_finished_spans() if s.parent is None)
    assert root.attributes["codeagent.resumed"] is True
    assert [format(link.context.trace_id, "032x") for link in root.links] == [first.trace_id]
    assert again.trace_id != first.trace_id


def test_the_audit_log_records_every_action() -> None:
    result = _retried_job()
    lines = read_audit(state_dir() / "runs" / result.thread_id / "audit.jsonl")
    events = [line["event"] for line in lines]
    assert events.count("model_call") == 5
    calls = [line for line in lines if line["event"] == "model_call"]
    assert all(line["finish_reasons"] == ["stop"] for line in calls)
    assert events.count("sandbox_run") == 4  # 2 test runs, each with its stub run
    assert events.count("node") == 6 and events.count("transition") == 6
    assert events[-1] == "job" and lines[-1]["status"] == "success"
    code = [line for line in lines if line["event"] == "node" and line["node"] == "code"]
    assert [line["files_written"] for line in code] == [["solution.py"], ["solution.py"]]
    assert [line["exit_code"] for line in lines if line["event"] == "sandbox_run"] == [1, 1, 0, 1]


def test_the_audit_table_says_how_a_stopped_call_ended() -> None:
    from codeagent.graphs.cli.trace import _describe

    call = {"event": "model_call", "model": "m", "input_tokens": 9, "output_tokens": 3}
    assert _describe({**call, "duration_s": 1.0, "finish_reasons": ["stop"]})[1] == (
        "9 in / 3 out, 1.0s"
    )
    looped = _describe({**call, "duration_s": 2.0, "finish_reasons": ["loop"]})
    assert looped[1] == "9 in / 3 out, 2.0s, ended: loop"


def test_a_seeded_api_key_appears_nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    # content capture on, and a model that echoes the key: redaction must still hold
    model = scripts.model(review=['{"verdict": "approve", "comments": ["key ' + FAKE_KEY + '"]}'])
    with http_receiver() as (endpoint, received):
        result = run_job(
            scripts.TASK,
            chat_model=model,
            out=tmp_path / "out",
            tracing=TracingConfig(endpoint=endpoint, capture_content=True),
        )
    assert any("gen_ai.output.messages" in s["attributes"] for s in received.spans)
    assert FAKE_KEY not in json.dumps(received.spans)
    run = state_dir() / "runs" / result.thread_id
    for name in ("trace.json", "audit.jsonl", "job.json"):
        assert FAKE_KEY not in (run / name).read_text(), name
    assert "[OPENAI_API_KEY redacted]" in (run / "trace.json").read_text()


def test_redact_masks_secret_env_values_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-123456789")
    monkeypatch.setenv("GREETING", "hello-world-long")
    assert (
        redact("a tok-123456789 b hello-world-long")
        == "a [MY_SERVICE_TOKEN redacted] b hello-world-long"
    )
