"""The local trace record: spans as OTLP JSON in the run folder, and reading it back.

The file is one OTLP/JSON ``ExportTraceServiceRequest`` (``{"resourceSpans": [...]}``),
the format Jaeger's UI loads with "Upload JSON" (Jaeger 1.55+), with hex trace
and span ids and integer enums as the OTLP/JSON mapping requires.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanContext, SpanKind

__all__ = [
    "OtlpJsonExporter",
    "SpanNode",
    "load_spans",
    "span_tree",
    "to_otlp_json",
]

# The OTLP span flags: the parent's "is remote" is known (256), and it is remote (512).
_HAS_IS_REMOTE, _IS_REMOTE = 0x100, 0x200
_KIND = {
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}


def to_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """Encode SDK spans as an OTLP/JSON ExportTraceServiceRequest (pure).

    Written directly (what the OTLP protobuf encoder followed by protobuf's JSON
    mapping gives, with hex ids, at a fraction of the cost: it runs as each span
    ends); ``tests/test_trace_file.py`` holds it to the protobuf path.
    """
    groups: dict[tuple[int, int], tuple[ReadableSpan, list[dict[str, Any]]]] = {}
    for span in spans:
        key = (id(span.resource), id(span.instrumentation_scope))
        groups.setdefault(key, (span, []))[1].append(_span(span))
    resource_spans = []
    for first, encoded in groups.values():
        header = _header(first)
        resource_spans.append(
            {**header, "scopeSpans": [{**header["scopeSpans"][0], "spans": encoded}]}
        )
    return {"resourceSpans": resource_spans}


_HEADERS: dict[tuple[int, int], tuple[Any, Any, dict[str, Any]]] = {}


def _header(span: ReadableSpan) -> dict[str, Any]:
    """The resource and scope part of a span's ``resourceSpans`` entry, made once per
    provider (the objects are held with it so that their ids are not reused)."""
    resource, scope = span.resource, span.instrumentation_scope
    key = (id(resource), id(scope))
    found = _HEADERS.get(key)
    if found is not None and found[0] is resource and found[1] is scope:
        return found[2]
    scope_spans: dict[str, Any] = {"scope": _scope(scope)}
    if scope is not None and scope.schema_url:
        scope_spans["schemaUrl"] = scope.schema_url
    header: dict[str, Any] = {"resource": _attributes_of(resource.attributes)}
    header["scopeSpans"] = [scope_spans]
    if resource.schema_url:
        header["schemaUrl"] = resource.schema_url
    if len(_HEADERS) > 256:  # one per job's provider: forget old jobs'
        _HEADERS.clear()
    _HEADERS[key] = (resource, scope, header)
    return header


def _scope(scope: Any) -> dict[str, Any]:
    if scope is None:
        return {}
    out: dict[str, Any] = {}
    if scope.name:
        out["name"] = scope.name
    if scope.version:
        out["version"] = scope.version
    if scope.attributes:
        out["attributes"] = _key_values(scope.attributes)
    return out


def _attributes_of(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"attributes": _key_values(attributes)} if attributes else {}


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None  # an SDK span always has one
    out: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
    }
    if context.trace_state:
        out["traceState"] = ",".join(f"{k}={v}" for k, v in context.trace_state.items())
    if span.parent is not None:
        out["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.name:
        out["name"] = span.name
    out["kind"] = _KIND[span.kind]
    if span.start_time:
        out["startTimeUnixNano"] = str(span.start_time)
    if span.end_time:
        out["endTimeUnixNano"] = str(span.end_time)
    if span.attributes:
        out["attributes"] = _key_values(span.attributes)
    _count(out, "droppedAttributesCount", span.dropped_attributes)
    if span.events:
        out["events"] = [_event(e) for e in span.events]
    _count(out, "droppedEventsCount", span.dropped_events)
    if span.links:
        out["links"] = [_link(link) for link in span.links]
    _count(out, "droppedLinksCount", span.dropped_links)
    status: dict[str, Any] = {}
    if span.status.description:
        status["message"] = span.status.description
    if span.status.status_code.value:
        status["code"] = span.status.status_code.value
    out["status"] = status
    out["flags"] = _flags(span.parent)
    return out


def _event(event: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if event.timestamp:
        out["timeUnixNano"] = str(event.timestamp)
    if event.name:
        out["name"] = event.name
    if event.attributes:
        out["attributes"] = _key_values(event.attributes)
    _count(out, "droppedAttributesCount", event.dropped_attributes)
    return out


def _link(link: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": f"{link.context.trace_id:032x}",
        "spanId": f"{link.context.span_id:016x}",
    }
    if link.attributes:  # (the OTLP encoder leaves a link's trace state out)
        out["attributes"] = _key_values(link.attributes)
    _count(out, "droppedAttributesCount", link.dropped_attributes)
    out["flags"] = _flags(link.context)
    return out


def _flags(parent: SpanContext | None) -> int:
    return _HAS_IS_REMOTE | (_IS_REMOTE if parent is not None and parent.is_remote else 0)


def _count(out: dict[str, Any], key: str, value: int) -> None:
    if value:
        out[key] = value


def _key_values(attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, value in attributes.items():
        encoded = _any_value(value)
        if encoded is not None:
            out.append({"key": key, "value": encoded} if key else {"value": encoded})
    return out


def _any_value(value: Any) -> dict[str, Any] | None:
    """One OTLP ``AnyValue`` (None: a value the protobuf encoder rejects and drops)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": _double(value)}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Sequence):
        items = [_any_value(v) for v in value]
        if any(v is None for v in items):
            return None
        return {"arrayValue": {"values": items} if items else {}}
    if isinstance(value, Mapping):
        pairs = [(str(k), _any_value(v)) for k, v in value.items()]
        if any(v is None for _, v in pairs):
            return None
        values = [{"key": k, "value": v} if k else {"value": v} for k, v in pairs]
        return {"kvlistValue": {"values": values} if values else {}}
    return None


def _double(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


class OtlpJsonExporter(SpanExporter):
    """Hands each export's OTLP/JSON ``resourceSpans`` to a function (e.g. a job store's)."""

    def __init__(self, write: Callable[[list[dict[str, Any]]], None]) -> None:
        self._write = write

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self._write(to_otlp_json(spans)["resourceSpans"])
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
