"""Chat models: build one from a :class:`ModelSpec`, call it, get text or validated JSON.

Every endpoint is reached through LangChain's ``BaseChatModel``; in production
that is ``ChatOpenAI`` against any OpenAI-compatible server. Structured output
is asked for with ``response_format`` json_schema where the spec allows it and
is always validated with pydantic; invalid output is re-asked once with the
validation error, then the call fails with :class:`ModelError`. Text answers of the
embedded model stream, and one caught repeating the same lines is stopped there
(:mod:`codeagent.tools.models.repetition`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, SecretStr, ValidationError

from codeagent.tools.contracts.model import ModelSpec
from codeagent.tools.contracts.state import add_counts
from codeagent.tools.errors import ConfigError, ModelError
from codeagent.tools.models.repetition import loop_start
from codeagent.tools.observability.tracing import chat_span, record_chat

__all__ = [
    "Reply",
    "ask_json",
    "ask_text",
    "build_chat_model",
    "extract_json",
    "resolve_provider",
    "to_messages",
    "total_usage",
]

T = TypeVar("T", bound=BaseModel)
LOCAL_TIMEOUT_S = 900.0  # a small CPU model can take minutes for a long answer


@dataclass(frozen=True)
class Reply:
    """One model answer with what it cost."""

    text: str
    input_tokens: int
    output_tokens: int
    calls: int = 1
    truncated: bool = False  # cut off at max_tokens
    looped: bool = False  # stopped repeating itself; the repeats after the first are dropped

    @property
    def finish(self) -> str:
        """Why the answer ended: ``loop``, ``length`` (max_tokens) or ``stop``."""
        return "loop" if self.looped else "length" if self.truncated else "stop"

    def usage(self) -> dict[str, int]:
        """Usage counters for ``AgentState.usage``."""
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


def total_usage(replies: Iterable[Reply]) -> dict[str, int]:
    """The usage of several calls, summed as ``AgentState.usage`` sums node updates.

    Always has ``calls``, ``input_tokens`` and ``output_tokens`` (zero for no replies).
    """
    usage = Reply("", 0, 0, calls=0).usage()
    for reply in replies:
        usage = add_counts(usage, reply.usage())
    return usage


def build_chat_model(
    spec: ModelSpec, base_dir: Path, temperature: float | None = None
) -> BaseChatModel:
    """Make the chat model a :class:`~codeagent.tools.contracts.model.ModelSpec` describes.

    Args:
        spec: The model spec.
        base_dir: Directory of the workflow file (``script:`` paths are relative to it).
        temperature: A node-level override of the spec's temperature.

    Raises:
        ConfigError: When no endpoint is configured or a script file is missing.
    """
    temp = spec.temperature if temperature is None else temperature
    spec = resolve_provider(spec)
    if spec.provider == "scripted":
        from codeagent.tools.testing import ScriptedChatModel

        assert spec.script is not None  # the spec's validator requires it
        return ScriptedChatModel.from_file(base_dir / spec.script)
    key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
    base_url: str | None
    if spec.provider == "local":
        from codeagent.tools.models.local import local_endpoint

        base_url, key = local_endpoint(spec), None  # no key ever goes to the local server
    else:
        base_url = spec.base_url or os.environ.get("OPENAI_BASE_URL")
    if not base_url and not key:
        raise ConfigError(
            f"no model endpoint configured for model {spec.model!r}",
            hint=(
                f"export {spec.api_key_env or 'OPENAI_API_KEY'}=... for OpenAI, or set "
                "models.<name>.base_url (or OPENAI_BASE_URL) to an OpenAI-compatible server "
                "(vLLM, Ollama, llama.cpp), or use provider: local for the embedded model"
            ),
        )
    from langchain_openai import ChatOpenAI

    from codeagent.tools.models.local_chat import LocalChatOpenAI

    local = spec.provider == "local"
    client = LocalChatOpenAI if local else ChatOpenAI
    return client(
        model=spec.model,
        base_url=base_url,
        api_key=SecretStr(key or "not-needed"),
        temperature=temp,
        max_completion_tokens=spec.max_tokens,
        # The in-process server has one slot: a retried request would queue behind the
        # abandoned one, so local calls get no retries and a CPU-sized timeout.
        timeout=max(spec.timeout_s, LOCAL_TIMEOUT_S) if local else spec.timeout_s,
        max_retries=0 if local else spec.max_retries,
        seed=spec.seed,
        extra_body=_local_extra_body(spec) if local else None,
        stream_usage=True if local else None,
    )


def _local_extra_body(spec: ModelSpec) -> dict[str, Any]:
    """Request fields for the embedded llama.cpp server.

    A seeded model must answer a prompt the same whatever was asked before it. The server
    reuses the cached state of an earlier prompt's common prefix (the shared system
    prompt, a repair's earlier turns), and a prefix read from the cache gives slightly
    different numbers than one computed afresh: the sampled answer changes with the run's
    history (HumanEval/100 ended right alone and wrong after 24 other problems). So seeded
    requests skip the cache and pay for reading the whole prompt; unseeded ones keep it.
    """
    from codeagent.tools.models.local_chat import STREAM_FIELDS

    return {**STREAM_FIELDS, **({"cache_prompt": False} if spec.seed is not None else {})}


def resolve_provider(spec: ModelSpec) -> ModelSpec:
    """``provider: auto`` made concrete: ``openai`` when an endpoint or key is configured
    (``base_url``, ``$OPENAI_BASE_URL`` or the key's variable), else the embedded model."""
    if spec.provider != "auto":
        return spec
    key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
    if spec.base_url or os.environ.get("OPENAI_BASE_URL") or key:
        return spec.model_copy(update={"provider": "openai"})
    return spec.model_copy(update={"provider": "local", "model": spec.local_model})


def to_messages(prompt: list[tuple[str, str]]) -> list[BaseMessage]:
    """``[("system"|"user"|"assistant", text)]`` -> LangChain messages."""
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[role](content=text) for role, text in prompt]


def ask_text(model: BaseChatModel, prompt: list[tuple[str, str]], **kwargs: Any) -> Reply:
    """One model call; returns its text and token usage.

    A model marked ``stops_loops`` (the embedded one) streams its answer, and an answer
    that starts repeating the same lines (:func:`~codeagent.tools.models.repetition.loop_start`)
    is stopped there: the reply keeps one copy and is marked ``looped``.

    Raises:
        ModelError: When the endpoint fails (after the client's own retries).
    """
    messages = to_messages(prompt)
    with chat_span(model) as span:
        try:
            if getattr(model, "stops_loops", False) and "response_format" not in kwargs:
                reply = _streamed(model, messages, **kwargs)
            else:
                reply = _invoked(model, messages, **kwargs)
        except ModelError:
            raise
        except Exception as exc:
            cut = _cut_off(exc)
            if cut is None:
                raise _model_error(exc) from exc
            reply = cut
        prompt_text = "\n\n".join(f"[{role}] {content}" for role, content in prompt)
        record_chat(
            span, prompt_text, reply.text, reply.input_tokens, reply.output_tokens, reply.finish
        )
    return reply


def _invoked(model: BaseChatModel, messages: list[BaseMessage], **kwargs: Any) -> Reply:
    message = model.invoke(messages, **kwargs)
    text = _join(message.content)
    usage = getattr(message, "usage_metadata", None) or {}
    finish = (getattr(message, "response_metadata", None) or {}).get("finish_reason")
    return Reply(
        text,
        int(usage.get("input_tokens", 0)),
        int(usage.get("output_tokens", 0)),
        truncated=finish == "length",
    )


def _streamed(model: BaseChatModel, messages: list[BaseMessage], **kwargs: Any) -> Reply:
    """Stream one answer, hanging up when it loops (the server then stops decoding it)."""
    from codeagent.tools.models.local_chat import counted_stream

    pieces: list[str] = []
    counts, finish, cut = (0, 0), None, None
    with counted_stream() as counted:
        stream = model.stream(messages, **kwargs)
        try:
            for chunk in stream:
                counts = counted(getattr(chunk, "usage_metadata", None)) or counts
                finish = (chunk.response_metadata or {}).get("finish_reason") or finish
                piece = _join(chunk.content)
                if not piece:
                    continue
                pieces.append(piece)
                if "\n" in piece:
                    cut = loop_start("".join(pieces))
                    if cut is not None:
                        break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # hangs up: the server stops decoding
    text = "".join(pieces)
    return Reply(
        text if cut is None else text[:cut],
        *counts,
        truncated=cut is None and finish == "length",
        looped=cut is not None,
    )


def ask_json(
    model: BaseChatModel,
    prompt: list[tuple[str, str]],
    schema: type[T],
    *,
    structured: str = "json_schema",
) -> tuple[T, Reply]:
    """Ask for JSON matching ``schema``; re-ask once with the error if it does not validate.

    Returns:
        The validated object and the summed usage of the call(s).

    Raises:
        ModelError: When the second answer is still invalid.
    """
    kwargs: dict[str, Any] = {}
    if structured == "json_schema":
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
        }
    replies: list[Reply] = []
    messages = list(prompt)
    for round_ in range(2):
        reply = ask_text(model, messages, **kwargs)
        replies.append(reply)
        try:
            parsed = schema.model_validate(extract_json(reply.text))
            usage = total_usage(replies)
            total = Reply(reply.text, usage["input_tokens"], usage["output_tokens"], usage["calls"])
            return parsed, total
        except (ValueError, ValidationError) as exc:
            error = _short_error(exc)
            if reply.truncated:
                error += " (the answer was cut off at max_tokens; answer more briefly)"
            if round_ == 1:
                raise ModelError(
                    f"the model returned invalid {schema.__name__} JSON twice: {error}",
                    hint="use a stronger model, or lower its temperature",
                    usage=total_usage(replies),
                ) from None
            messages += [
                ("assistant", reply.text[:4000]),
                (
                    "user",
                    f"That answer was not valid: {error}\nReply again with only the JSON "
                    f"object, matching this schema:\n{json.dumps(schema.model_json_schema())}",
                ),
            ]
    raise AssertionError("unreachable")


_FENCED = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The first JSON object in a model's text: bare, fenced, or embedded in prose.

    Raises:
        ValueError: When there is none.
    """
    text = text.strip()
    candidates = [text, *(m.group(1) for m in _FENCED.finditer(text))]
    start = text.find("{")
    if start != -1:
        candidates.append(text[start : text.rfind("}") + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    if start != -1:
        try:
            obj, _ = json.JSONDecoder().raw_decode(text[start:])
            return obj
        except ValueError:
            pass
    raise ValueError("no JSON object found in the answer")


def _cut_off(exc: Exception) -> Reply | None:
    """The partial answer of a completion cut off at max_tokens (the openai client raises)."""
    if type(exc).__name__ != "LengthFinishReasonError":
        return None
    completion = getattr(exc, "completion", None)
    try:
        text = completion.choices[0].message.content or ""  # type: ignore[union-attr]
        usage = completion.usage  # type: ignore[union-attr]
        tokens = (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
    except (AttributeError, IndexError):
        text, tokens = "", (0, 0)
    return Reply(text, tokens[0], tokens[1], truncated=True)


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'object'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
    return str(exc)[:300]


def _join(content: str | list[Any]) -> str:
    """A message's text: its content as is, or its text parts joined."""
    if isinstance(content, str):
        return content
    return "".join(c if isinstance(c, str) else str(c.get("text", "")) for c in content)


def _model_error(exc: Exception) -> ModelError:
    name = type(exc).__name__
    text = str(exc)[:300]
    if "Connection" in name or "connect" in text.lower():
        return ModelError(
            f"cannot reach the model endpoint: {text}",
            hint="start your model server or fix models.<name>.base_url; "
            "the job is checkpointed: 'codeagent resume THREAD' continues it",
        )
    if "Authentication" in name or "401" in text:
        return ModelError(
            "the model endpoint rejected the API key",
            hint="check the environment variable named by models.<name>.api_key_env",
        )
    if "NotFound" in name or "404" in text:
        return ModelError(
            f"the model endpoint does not know this model: {text}",
            hint="check models.<name>.model against what the server serves",
        )
    return ModelError(
        f"the model call failed ({name}): {text}",
        hint="the job is checkpointed: 'codeagent resume THREAD' retries from the failed node",
    )
