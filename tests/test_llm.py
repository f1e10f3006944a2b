"""Model calls: structured output with one re-ask, usage, endpoint configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from codeagent.tools.contracts.model import ModelSpec
from codeagent.tools.contracts.state import add_counts
from codeagent.tools.errors import ConfigError, ModelError
from codeagent.tools.models.llm import (
    Reply,
    ask_json,
    ask_text,
    build_chat_model,
    extract_json,
    total_usage,
)
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests.fault_server import FaultServer, fault_server


class Point(BaseModel):
    x: int
    y: int


def test_extract_json_from_prose_and_fences() -> None:
    assert extract_json('{"x": 1}') == {"x": 1}
    assert extract_json('Sure!\n```json\n{"x": 2}\n```\nDone.') == {"x": 2}
    assert extract_json('The answer is {"x": 3, "y": {"z": 4}} as asked.') == {
        "x": 3,
        "y": {"z": 4},
    }
    with pytest.raises(ValueError):
        extract_json("no json here")


def test_ask_json_reasks_once_with_the_validation_error() -> None:
    model = ScriptedChatModel(rules=[Rule(replies=['{"x": "one"}', '{"x": 1, "y": 2}'])])
    point, reply = ask_json(model, [("user", "give a point")], Point)
    assert point == Point(x=1, y=2)
    assert reply.calls == 2
    assert reply.input_tokens > 0 and reply.output_tokens > 0
    assert "x: Input should be a valid integer" in model.prompts[1]


def test_usage_of_several_calls_sums_like_the_state_does() -> None:
    replies = [Reply("a", 10, 3), Reply("b", 7, 2), Reply("c", 1, 1, calls=2)]

    total = total_usage(replies)

    assert total == {"calls": 4, "input_tokens": 18, "output_tokens": 6}
    first, second, third = (r.usage() for r in replies)
    assert total == add_counts(add_counts(first, second), third)
    assert total_usage([]) == {"calls": 0, "input_tokens": 0, "output_tokens": 0}


def test_ask_json_fails_cleanly_after_two_bad_answers() -> None:
    model = ScriptedChatModel(rules=[Rule(reply="I am a teapot")])
    with pytest.raises(ModelError, match="invalid Point JSON twice"):
        ask_json(model, [("user", "give a point")], Point)


def test_ask_text_reports_usage() -> None:
    reply = ask_text(ScriptedChatModel(rules=[Rule(reply="hello there")]), [("user", "hi")])
    assert reply.text == "hello there"
    assert reply.usage()["calls"] == 1


def test_no_endpoint_configured_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no model endpoint configured") as info:
        build_chat_model(ModelSpec(), Path("."))
    assert info.value.hint is not None and "OPENAI_API_KEY" in info.value.hint


def test_the_api_key_comes_from_the_named_env_var_and_is_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_KEY", "sk-secret-value-42")
    chat = build_chat_model(
        ModelSpec(api_key_env="MY_KEY", base_url="http://127.0.0.1:9/v1"), Path(".")
    )
    assert "sk-secret-value-42" not in repr(chat)
    assert chat.openai_api_key.get_secret_value() == "sk-secret-value-42"  # type: ignore[attr-defined]


def test_an_unreachable_endpoint_is_a_model_error_with_a_hint() -> None:
    spec = ModelSpec(base_url="http://127.0.0.1:9/v1", max_retries=0, timeout_s=2)
    chat = build_chat_model(spec, Path("."))
    with pytest.raises(ModelError, match="cannot reach the model endpoint") as info:
        ask_text(chat, [("user", "hi")])
    assert info.value.hint is not None and "resume" in info.value.hint


def test_scripted_rules_file(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text("rules:\n  - match: hi\n    reply: hello\n")
    chat = build_chat_model(ModelSpec(provider="scripted", script="rules.yaml"), tmp_path)
    assert ask_text(chat, [("user", "hi")]).text == "hello"


def test_a_broken_rules_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text("rules:\n  - mtch: hi\n")
    with pytest.raises(ConfigError, match="scripted model"):
        build_chat_model(ModelSpec(provider="scripted", script="rules.yaml"), tmp_path)


def test_seeded_embedded_requests_skip_the_servers_prompt_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cached prompt prefix changes a seeded answer (test_local_model shows it on the
    real server), so seeded embedded calls ask the server not to use its cache."""
    from codeagent.tools.models import local

    monkeypatch.setattr(local, "local_endpoint", lambda spec: "http://127.0.0.1:9/v1")
    seeded = build_chat_model(ModelSpec(provider="local", seed=1), Path("."))
    unseeded = build_chat_model(ModelSpec(provider="local"), Path("."))
    remote = build_chat_model(ModelSpec(base_url="http://127.0.0.1:9/v1", seed=1), Path("."))
    counts = {"timings_per_token": True}  # token counts on every streamed chunk
    assert seeded.extra_body == {**counts, "cache_prompt": False}  # type: ignore[attr-defined]
    assert unseeded.extra_body == counts  # type: ignore[attr-defined]
    assert remote.extra_body is None  # type: ignore[attr-defined]  # not llama.cpp's fields
    assert getattr(seeded, "stops_loops", False) and not getattr(remote, "stops_loops", False)


HEAD = "```python\nfrom solution import add\n\n"
BODY = "assert add(1, 2) == 3\nassert add(2, 2) == 4\n"


@pytest.fixture
def streaming(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[BaseChatModel, FaultServer]]:
    """The embedded model's client, against a server that streams as llama.cpp's does:
    the answer to "loop" repeats two lines 200 times, the one to "count" checks 30
    numbers, the one to "point" is JSON."""
    from codeagent.tools.models import local

    rules = [
        Rule(match="loop", reply=HEAD + BODY * 200 + "```\n"),
        Rule(match="count", reply=COUNTED),
        Rule(match="point", reply='{"x": 1, "y": 2}'),
    ]
    with fault_server(rules) as (url, server):
        monkeypatch.setattr(local, "local_endpoint", lambda spec: url)
        yield build_chat_model(ModelSpec(provider="local", seed=1), Path(".")), server


COUNTED = "```python\n" + "".join(f"assert f({i}) == {i * i}\n" for i in range(20)) + "```\n"


def test_an_answer_caught_in_a_loop_is_stopped_after_its_first_copy(
    streaming: tuple[BaseChatModel, FaultServer],
) -> None:
    chat, server = streaming
    reply = ask_text(chat, [("user", "loop")])
    assert reply.looped and reply.finish == "loop" and not reply.truncated
    assert reply.text == HEAD + BODY
    # the client hung up long before the 404 lines of the answer went out
    sent = server.finished_streams(1)
    assert len(sent) == 1 and sent[0] < 40
    # what the stopped call cost: the server's counts on the last chunk read
    assert reply.input_tokens == 42 and 3 * 17 <= reply.output_tokens <= 3 * sent[0]


def test_a_streamed_answer_without_a_loop_is_whole_with_the_final_usage(
    streaming: tuple[BaseChatModel, FaultServer],
) -> None:
    chat, server = streaming
    reply = ask_text(chat, [("user", "count")])
    assert reply.text == COUNTED and reply.finish == "stop"
    assert (reply.input_tokens, reply.output_tokens) == (42, 3 * 22)
    assert server.finished_streams(1) == [22]


def test_json_asks_are_not_streamed(streaming: tuple[BaseChatModel, FaultServer]) -> None:
    chat, server = streaming
    point, reply = ask_json(chat, [("user", "a point")], Point)
    assert point == Point(x=1, y=2) and reply.finish == "stop"
    assert server.stream_requests == [False] and server.streamed == []
