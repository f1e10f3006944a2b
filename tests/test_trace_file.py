"""The OTLP/JSON trace encoder: what the OTLP protobuf encoder and protobuf's JSON mapping give."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)
from opentelemetry.trace.span import NonRecordingSpan, TraceState

from codeagent.tools.observability.trace_file import load_spans, to_otlp_json

ATTRIBUTES: dict[str, Any] = {
    "s": "text",
    "empty": "",
    "b": True,
    "f": False,
    "i": 3,
    "zero": 0,
    "neg": -5,
    "big": 2**62,
    "d": 1.5,
    "d0": 0.0,
    "nan": math.nan,
    "inf": -math.inf,
    "strs": ["p", "q"],
    "ints": (1, 2),
    "bools": [True, False],
    "none_list": [],
}


def _reference(spans: list[ReadableSpan]) -> dict[str, Any]:
    """The protobuf path, ids turned to hex as OTLP/JSON wants."""
    data = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource in data.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for obj in [span, *span.get("links", [])]:
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if obj.get(key):
                            obj[key] = base64.b64decode(obj[key]).hex()
    return data


def _spans() -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "codeagent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("codeagent", "1.2.3")
    remote = SpanContext(
        trace_id=0x0123456789ABCDEF0123456789ABCDEF,
        span_id=0x0011223344556677,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "v1")]),
    )
    parent = set_span_in_context(NonRecordingSpan(remote))
    link = Link(remote, {"codeagent.link": "resumed_from"})
    with tracer.start_as_current_span("root", context=parent, links=[link], attributes=ATTRIBUTES):
        with tracer.start_as_current_span("chat m", kind=SpanKind.CLIENT) as span:
            span.add_event("codeagent.transition", {"codeagent.to": "END", "n": 2})
            span.add_event("bare")
            span.set_status(Status(StatusCode.ERROR, "bad answer"))
        with tracer.start_as_current_span("ok", kind=SpanKind.SERVER) as span:
            span.set_status(Status(StatusCode.OK))
        for kind in (SpanKind.PRODUCER, SpanKind.CONSUMER):
            with tracer.start_as_current_span(f"k{kind.value}", kind=kind):
                pass
    return list(exporter.get_finished_spans())


def test_each_span_encodes_as_the_protobuf_path_does() -> None:
    spans = _spans()
    assert len(spans) == 5
    for span in spans:
        assert to_otlp_json([span]) == _reference([span]), span.name


def test_several_spans_encode_as_one_request() -> None:
    spans = _spans()
    ours = to_otlp_json(spans)
    assert json.loads(json.dumps(ours)) == _reference(spans)
    assert {s.name for s in load_spans(ours)} == {"root", "chat m", "ok", "k3", "k4"}
