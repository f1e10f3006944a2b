"""The embedded model's chat client: ``ChatOpenAI`` whose answers stream and can be stopped.

llama.cpp's server stops decoding a streamed answer as soon as its client hangs up (the
next request is answered at once), and with ``timings_per_token`` every streamed chunk
carries the prompt and answer token counts so far. :func:`codeagent.tools.models.llm.ask_text`
streams through this client, watches the answer for a loop, and hangs up on one; the
token counts of the last chunk read are what the stopped call cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from langchain_core.outputs import ChatGenerationChunk
from langchain_openai import ChatOpenAI

__all__ = ["STREAM_FIELDS", "LocalChatOpenAI", "counted_stream"]

STREAM_FIELDS = {"timings_per_token": True}
"""Request fields that make the server put its token counts on every streamed chunk."""

# The last streamed chunk's ``timings``, for the stream being read in this context. Kept
# out of the chunks themselves: LangChain adds up a stream's chunks, and cannot add these.
_TIMINGS: ContextVar[dict[str, Any] | None] = ContextVar("codeagent_timings", default=None)


class LocalChatOpenAI(ChatOpenAI):
    """``ChatOpenAI`` for the embedded server; streamed chunks' ``timings`` are kept."""

    stops_loops: ClassVar[bool] = True
    """:func:`~codeagent.tools.models.llm.ask_text` streams this model's answers and stops
    one caught in a loop."""

    def _convert_chunk_to_generation_chunk(
        self,
        chunk: dict[str, Any],
        default_chunk_class: type,
        base_generation_info: dict[str, Any] | None,
    ) -> ChatGenerationChunk | None:
        timings = chunk.get("timings")
        if isinstance(timings, dict):
            _TIMINGS.set(timings)
        return super()._convert_chunk_to_generation_chunk(
            chunk, default_chunk_class, base_generation_info
        )


@contextmanager
def counted_stream() -> Iterator[Any]:
    """Around reading one stream: yields ``counts(usage)``, the ``(input_tokens,
    output_tokens)`` the stream has reported so far, or None before any.

    ``usage`` is a chunk's ``usage_metadata`` (the final chunk's wins); before it, the
    server's ``timings``: prompt tokens read (``prompt_n``) plus those taken from its
    cache (``cache_n``), answer tokens so far (``predicted_n``).
    """
    token = _TIMINGS.set(None)

    def counts(usage: dict[str, Any] | None) -> tuple[int, int] | None:
        if usage:
            return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        timings = _TIMINGS.get()
        if not timings or "predicted_n" not in timings:
            return None
        prompt = int(timings.get("prompt_n", 0)) + int(timings.get("cache_n", 0))
        return prompt, int(timings["predicted_n"])

    try:
        yield counts
    finally:
        _TIMINGS.reset(token)
