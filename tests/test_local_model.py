"""The embedded local model: errors without a model (fast) and a real 0.5B server (llm)."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr

from codeagent.tools.contracts.model import ModelSpec
from codeagent.tools.errors import ConfigError, ModelError
from codeagent.tools.models import local as local_model
from codeagent.tools.models import store as model_store
from codeagent.tools.models.llm import to_messages
from tests.host_support import require_model

MODEL = model_store.FAST_MODEL
SPEC = ModelSpec(provider="local", model=MODEL, context_size=2048, max_tokens=64, temperature=0)


def test_a_model_that_is_not_installed_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CODEAGENT_MODEL_DIR", str(tmp_path))
    local_model.stop_all()  # a server another test started would answer without a file
    with pytest.raises(ModelError) as err:
        local_model.local_endpoint(SPEC)
    assert err.value.hint == f"codeagent models install {MODEL}"


def test_unknown_names_and_other_providers_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        local_model.local_endpoint(ModelSpec(provider="local", model="no-such-model"))
    with pytest.raises(ConfigError):
        local_model.local_endpoint(ModelSpec(provider="openai"))


def test_missing_xllamacpp_gives_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # makes the import fail
    with pytest.raises(ModelError) as err:
        local_model._import_xllamacpp()
    assert "pip install" in (err.value.hint or "") and "xllamacpp==" in (err.value.hint or "")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The shared 0.5B server (CI installs the model first, so CI never skips)."""
    require_model(MODEL)
    yield local_model.local_endpoint(SPEC)
    local_model.stop_all()


def _get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        data: dict[str, object] = json.load(resp)
        return data


def _chat_model(base_url: str) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=base_url,
        api_key=SecretStr("not-needed"),
        model=MODEL,
        temperature=0,
        max_completion_tokens=64,
    )


@pytest.mark.llm
def test_server_lists_the_model(base_url: str) -> None:
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    models = _get_json(f"{base_url}/models")
    assert MODEL in json.dumps(models)


@pytest.mark.llm
def test_one_server_per_model_even_across_threads(base_url: str) -> None:
    urls: list[str] = []
    threads = [
        threading.Thread(target=lambda: urls.append(local_model.local_endpoint(SPEC)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert urls == [base_url] * 4
    assert len(local_model.running_servers()) == 1


@pytest.mark.llm
def test_chat_returns_text(base_url: str) -> None:
    reply = _chat_model(base_url).invoke([("user", "Say hello in one short sentence.")])
    assert isinstance(reply.content, str) and reply.content.strip()
    assert reply.usage_metadata and reply.usage_metadata["output_tokens"] > 0


@pytest.mark.llm
def test_a_seeded_answer_does_not_depend_on_the_prompts_before_it(base_url: str) -> None:
    """After the first ask the server's prompt cache holds all of this prompt but its
    last token, and a cached prefix changes a seeded answer (with the cache, asks 2-4
    differed from ask 1 here); seeded calls skip the cache, so every ask agrees."""
    from codeagent.tools.models.llm import build_chat_model

    spec = SPEC.model_copy(update={"seed": 7, "temperature": 1.0, "max_tokens": 96})
    chat = build_chat_model(spec, Path("."))
    prompt = [
        ("system", "You are a careful Python programmer."),
        (
            "user",
            "In a few sentences, list ideas for testing a function that returns the "
            "median of a list.",
        ),
    ]
    answers = [str(chat.invoke(prompt).content) for _ in range(4)]
    assert answers[0].strip()
    assert answers == [answers[0]] * 4


@pytest.mark.llm
def test_a_streamed_seeded_answer_is_the_one_the_server_gives_unstreamed(base_url: str) -> None:
    """The embedded model's text answers stream (to stop loops); streaming must not change
    what a seeded call answers, or every measured number would move."""
    from codeagent.tools.models.llm import ask_text, build_chat_model

    spec = SPEC.model_copy(update={"seed": 3, "temperature": 0.8, "max_tokens": 80})
    chat = build_chat_model(spec, Path("."))
    prompt = [("user", "Write a Python function that reverses the words of a sentence.")]
    whole = chat.invoke(to_messages(prompt))
    reply = ask_text(chat, prompt)
    assert reply.text == whole.content and reply.finish in {"stop", "length"}
    assert whole.usage_metadata is not None
    assert reply.input_tokens == whole.usage_metadata["input_tokens"]
    assert reply.output_tokens == whole.usage_metadata["output_tokens"]


@pytest.mark.llm
def test_an_answer_caught_in_a_loop_is_stopped_and_the_server_is_free_at_once(
    base_url: str,
) -> None:
    from codeagent.tools.models.llm import ask_text, build_chat_model

    spec = SPEC.model_copy(update={"seed": 1, "max_tokens": 1500})
    chat = build_chat_model(spec, Path("."))
    line = "assert add(1, 2) == 3"
    prompt = [("user", f"Write the line `{line}` 300 times, one per line. Nothing else.")]
    reply = ask_text(chat, prompt)
    assert reply.looped and reply.finish == "loop"
    assert reply.text.count(line) == 1
    assert 13 * 8 < reply.output_tokens < 400  # the first copies counted, nothing near 1,500
    assert reply.input_tokens > 20
    started = time.monotonic()
    quick = ask_text(chat, [("user", "Say hi.")], max_completion_tokens=4)
    # the server stopped decoding the abandoned answer: the next call does not queue
    # behind ~1,100 more tokens (over 20 s on this model)
    assert quick.output_tokens <= 4 and time.monotonic() - started < 10


class Answer(BaseModel):
    function_name: str
    returns_bool: bool


@pytest.mark.llm
def test_json_schema_response_format_gives_valid_json(base_url: str) -> None:
    schema = {"name": "answer", "schema": Answer.model_json_schema()}
    reply = _chat_model(base_url).invoke(
        [
            ("system", "Answer with JSON only."),
            ("user", "Name a Python function that checks if a number is prime."),
        ],
        response_format={"type": "json_schema", "json_schema": schema},
    )
    answer = Answer.model_validate_json(str(reply.content))
    assert answer.function_name


@pytest.mark.llm
def test_an_owned_server_stops(base_url: str) -> None:
    server = local_model.start_server(MODEL, threads=1, context_size=512)
    assert server.base_url != base_url
    assert _get_json(f"{server.root_url}/health") == {"status": "ok"}
    server.stop()
    assert not server.running
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{server.root_url}/health", timeout=5)


@pytest.mark.llm
def test_stop_all_stops_the_shared_server(base_url: str) -> None:
    local_model.stop_all()
    assert local_model.running_servers() == []
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{base_url}/models", timeout=5)
