"""The local trace record: spans as OTLP JSON in the run folder, and reading it back.

The file is one OTLP/JSON ``ExportTraceServiceRequest`` (``{"resourceSpans": [...]}``),
the format Jaeger's UI loads with "Upload JSON" (Jaeger 1.55+), with hex trace
and span ids and integer enums as the OTLP/JSON mapping requires.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = [
    "OtlpJsonExporter",
    "SpanNode",
    "load_spans",
    "span_tree",
    "to_otlp_json",
]

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def to_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """Encode SDK spans as an OTLP/JSON ExportTraceServiceRequest (pure)."""
    data = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource in data.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                _hex_ids(span)
                for link in span.get("links", []):
                    _hex_ids(link)
    return data


def _hex_ids(obj: dict[str, Any]) -> None:
    for key in _ID_KEYS:
        if obj.get(key):
            obj[key] = base64.b64decode(obj[key]).hex()


class OtlpJsonExporter(SpanExporter):
    """Hands each export's OTLP/JSON ``resourceSpans`` to a function (e.g. a job store's)."""

    def __init__(self, write: Callable[[list[dict[str, Any]]], None]) -> None:
        self._write = write

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self._write(to_otlp_json(spans).get("resourceSpans", []))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


@dataclass
class SpanNode:
    """One span read back from a trace file, with its children."""

    name: str
    span_id: str
    parent_id: str
    trace_id: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    status_code: int
    children: list[SpanNode] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Wall time of the span in seconds."""
        return (self.end_ns - self.start_ns) / 1e9


def _value(v: dict[str, Any]) -> Any:
    if "arrayValue" in v:
        return [_value(x) for x in v["arrayValue"].get("values", [])]
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        return int(v["intValue"])
    return None


def _attrs(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {a["key"]: _value(a.get("value", {})) for a in items}


def load_spans(data: dict[str, Any]) -> list[SpanNode]:
    """Every span in an OTLP/JSON document, in start order (pure)."""
    spans = []
    for resource in data.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for s in scope.get("spans", []):
                spans.append(
                    SpanNode(
                        name=s.get("name", ""),
                        span_id=s.get("spanId", ""),
                        parent_id=s.get("parentSpanId", ""),
                        trace_id=s.get("traceId", ""),
                        start_ns=int(s.get("startTimeUnixNano", 0)),
                        end_ns=int(s.get("endTimeUnixNano", 0)),
                        attributes=_attrs(s.get("attributes", [])),
                        events=[
                            {"name": e.get("name"), **_attrs(e.get("attributes", []))}
                            for e in s.get("events", [])
                        ],
                        status_code=int(s.get("status", {}).get("code", 0)),
                    )
                )
    return sorted(spans, key=lambda s: s.start_ns)


def span_tree(spans: list[SpanNode]) -> list[SpanNode]:
    """Link children to parents; returns the roots (pure)."""
    by_id = {s.span_id: s for s in spans}
    for s in spans:
        s.children = []
    roots = []
    for s in spans:
        parent = by_id.get(s.parent_id)
        if parent is not None:
            parent.children.append(s)
        else:
            roots.append(s)
    return roots
