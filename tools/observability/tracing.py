"""OpenTelemetry tracing of jobs, following the GenAI semantic conventions.

One root span per job (``invoke_workflow {name}``), one span per node execution
(``invoke_agent {node}``) carrying the transition it chose as an event, one span
per model call (``chat {model}``, CLIENT) and per sandbox command
(``execute_tool sandbox.run``). Each job gets its own ``TracerProvider``: spans
always go to the run folder (OTLP/JSON) and the audit log, and to an OTLP
endpoint only when one is configured. Prompt and completion text are recorded
only with ``capture_content``. Strings are scrubbed of secret env values.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from langgraph.errors import GraphBubbleUp
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
)

from codeagent.tools.observability.trace_file import OtlpJsonExporter

__all__ = [
    "JobTracer",
    "Redactor",
    "TracingConfig",
    "active_tracer",
    "chat_span",
    "redact",
    "sandbox_span",
]

TRACE_FLUSH_MS = 500  # the trace file lags the job by at most this (its audit log: not at all)
_ACTIVE: ContextVar[JobTracer | None] = ContextVar("codeagent_tracer", default=None)
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


@dataclass(frozen=True)
class TracingConfig:
    """Where spans go besides the run folder.

    Attributes:
        endpoint: OTLP endpoint (e.g. ``http://localhost:4318``); None: the standard
            ``OTEL_EXPORTER_OTLP_*`` variables, and no export when they are unset.
        protocol: ``http/protobuf`` or ``grpc``; None: ``OTEL_EXPORTER_OTLP_PROTOCOL``.
        capture_content: Record prompt and completion text on model spans.
        jaeger_ui: Base URL of a Jaeger UI, for printing a link to the trace.
        service_name: The ``service.name`` resource attribute.
    """

    endpoint: str | None = None
    protocol: str | None = None
    capture_content: bool = False
    jaeger_ui: str | None = None
    service_name: str = "codeagent"

    def export_endpoint(self) -> str | None:
        """The endpoint spans are exported to, or None when export is off."""
        return (
            self.endpoint
            or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        )

    def trace_url(self, trace_id: str) -> str | None:
        """A link to the trace in the Jaeger UI, when one is configured."""
        ui = self.jaeger_ui or os.environ.get("CODEAGENT_JAEGER_UI")
        return f"{ui.rstrip('/')}/trace/{trace_id}" if ui else None


class Redactor:
    """Masks the values secret-looking environment variables had when it was made.

    A job makes one as it starts (its audit log scrubs every line: reading the
    environment for each would cost more than the line); :func:`redact` reads it now.
    """

    def __init__(self) -> None:
        self._secrets = [
            (name, value)
            for name, value in os.environ.items()
            if len(value) >= 8 and _SECRET_NAME.search(name)
        ]

    def __call__(self, text: str) -> str:
        for name, value in self._secrets:
            if value in text:
                text = text.replace(value, f"[{name} redacted]")
        return text


def redact(text: str) -> str:
    """``text`` with the values of secret-looking environment variables masked."""
    return Redactor()(text)


def _otlp_exporter(config: TracingConfig) -> SpanExporter | None:
    endpoint = config.export_endpoint()
    if not endpoint:
        return None
    protocol = config.protocol or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    explicit = config.endpoint is not None
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc

        if not explicit:
            return Grpc()
        parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
        return Grpc(endpoint=parsed.netloc, insecure=parsed.scheme != "https")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    if not explicit:
        return Http()
    url = (
        endpoint
        if urlparse(endpoint).path not in ("", "/")
        else endpoint.rstrip("/") + "/v1/traces"
    )
    return Http(endpoint=url)


class JobTracer:
    """Tracing for one job run: its provider, exporters and the node spans awaiting checkpoints.

    Args:
        config: Export settings.
        trace_sink: Given the ended spans as OTLP/JSON ``resourceSpans``, in batches from
            a background thread (at most ``TRACE_FLUSH_MS`` after a span ends, and all of
            them at :meth:`shutdown`): the job store's trace (None: not kept).
        processors: Extra span processors (the audit log, tests' in-memory exporters).
    """

    def __init__(
        self,
        config: TracingConfig,
        trace_sink: Callable[[list[dict[str, Any]]], None] | None = None,
        processors: Sequence[SpanProcessor] = (),
    ) -> None:
        self.config = config
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": config.service_name})
        )
        if trace_sink is not None:
            # written by a background thread in batches, off the transition path; the
            # audit log (a processor below) is written synchronously as each span ends
            self.provider.add_span_processor(
                BatchSpanProcessor(
                    OtlpJsonExporter(trace_sink), schedule_delay_millis=TRACE_FLUSH_MS
                )
            )
        for processor in processors:
            self.provider.add_span_processor(processor)
        exporter = _otlp_exporter(config)
        if exporter is not None:
            self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer("codeagent")
        # node spans awaiting their checkpoints, oldest first per node (checkpoints are
        # saved in order, on LangGraph's background thread)
        self._parked: dict[str, deque[Span]] = defaultdict(deque)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def activate(self) -> Iterator[JobTracer]:
        """Make this the tracer model and sandbox calls report to (context-local)."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    @contextlib.contextmanager
    def job_span(
        self,
        workflow: str,
        thread_id: str,
        resumed_from: SpanContext | None,
        parent: SpanContext | None = None,
    ) -> Iterator[Span]:
        """The span of one run of a job; a resumed run links to the first run's root.

        ``parent`` (a job submitted to workers: the submitter's span, carried in the
        message) makes every run of the job, on any worker, a child in one trace.
        """
        links = [Link(resumed_from, {"codeagent.link": "resumed_from"})] if resumed_from else []
        context = trace.set_span_in_context(NonRecordingSpan(parent)) if parent else None
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_workflow",
            "gen_ai.workflow.name": workflow,
            "codeagent.thread_id": thread_id,
            "codeagent.resumed": resumed_from is not None,
        }
        with self.tracer.start_as_current_span(
            f"invoke_workflow {workflow}", context=context, links=links, attributes=attributes
        ) as span:
            yield span

    @contextlib.contextmanager
    def node_span(self, node: str, kind: str, attempt: int) -> Iterator[Span]:
        """A node execution. It stays open after the node returns, until :meth:`end_node`
        records the checkpoint it produced; a node that raises ends it with an error."""
        span = self.tracer.start_span(
            f"invoke_agent {node}",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": node,
                "codeagent.node.kind": kind,
                "codeagent.attempt": attempt,
            },
        )
        with trace.use_span(span, end_on_exit=False, record_exception=False):
            try:
                yield span
            except GraphBubbleUp:  # an interrupt (approval pause): not an error
                span.set_attribute("codeagent.paused", True)
                span.end()
                raise
            except BaseException as exc:
                span.set_status(Status(StatusCode.ERROR, redact(str(exc))[:500]))
                span.set_attribute("error.type", type(exc).__name__)
                span.end()
                raise
        with self._lock:
            self._parked[node].append(span)

    def end_node(self, node: str, checkpoint_id: str | None) -> None:
        """End the oldest node span parked under ``node``, recording its checkpoint id."""
        with self._lock:
            parked = self._parked.get(node)
            span = parked.popleft() if parked else None
        if span is not None:
            if checkpoint_id:
                span.set_attribute("codeagent.checkpoint_id", checkpoint_id)
            span.end()

    def shutdown(self) -> None:
        """End any span still parked, flush and stop the exporters."""
        for node in list(self._parked):
            while self._parked[node]:
                self.end_node(node, None)
        self.provider.force_flush()
        self.provider.shutdown()


def active_tracer() -> JobTracer | None:
    """The tracer of the job running in this context, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def chat_span(model: Any) -> Iterator[Span]:
    """A CLIENT span around one model call (a non-recording span when no job is traced)."""
    tracer = active_tracer()
    if tracer is None:
        yield trace.INVALID_SPAN
        return
    name = str(getattr(model, "model_name", None) or getattr(model, "_llm_type", "model"))
    chat_openai = any(cls.__name__ == "ChatOpenAI" for cls in type(model).__mro__)
    provider = "openai" if chat_openai else str(model._llm_type)
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": name,
    }
    base = getattr(model, "openai_api_base", None)
    if base:
        parsed = urlparse(base)
        attributes["server.address"] = parsed.hostname or ""
        if parsed.port:
            attributes["server.port"] = parsed.port
    with tracer.tracer.start_as_current_span(
        f"chat {name}", kind=SpanKind.CLIENT, attributes=attributes
    ) as span:
        yield span


def record_chat(
    span: Span, prompt: str, text: str, tokens_in: int, tokens_out: int, finish: str = "stop"
) -> None:
    """Usage, finish reason (always) and content (only when opted in) of a finished model call.

    ``finish`` is ``stop``, ``length`` (cut off at max_tokens) or ``loop`` (stopped while
    repeating itself).
    """
    span.set_attribute("gen_ai.usage.input_tokens", tokens_in)
    span.set_attribute("gen_ai.usage.output_tokens", tokens_out)
    span.set_attribute("gen_ai.response.finish_reasons", [finish])
    tracer = active_tracer()
    if tracer is not None and tracer.config.capture_content:
        span.set_attribute("gen_ai.input.messages", redact(prompt)[:20000])
        span.set_attribute("gen_ai.output.messages", redact(text)[:20000])


@contextlib.contextmanager
def sandbox_span(backend: str, command: Sequence[str]) -> Iterator[Span]:
    """An ``execute_tool sandbox.run`` span around one sandbox command."""
    tracer = active_tracer()
    if tracer is None:
        yield trace.INVALID_SPAN
        return
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "sandbox.run",
        "codeagent.sandbox.backend": backend,
        "codeagent.sandbox.command": redact(" ".join(command))[:2000],
    }
    with tracer.tracer.start_as_current_span(
        "execute_tool sandbox.run", attributes=attributes
    ) as span:
        yield span
