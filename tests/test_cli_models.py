"""``codeagent models``: install / list / serve as a user types them (no download)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codeagent.graphs.cli.models import app
from codeagent.tools.models.store import CATALOGUE, FAST_MODEL, ModelEntry

DATA = b"GGUF" + b"\x01" * 4096
runner = CliRunner()


@pytest.fixture(autouse=True)
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("CODEAGENT_MODEL_DIR", str(root))
    entry = ModelEntry(
        name="fake",
        description="tiny",
        file_name="fake.gguf",
        sha256=hashlib.sha256(DATA).hexdigest(),
        size=len(DATA),
        url="http://127.0.0.1:9/fake.gguf",
    )
    monkeypatch.setitem(CATALOGUE, "fake", entry)
    return root


def test_install_from_a_file_then_list_shows_it(store: Path, tmp_path: Path) -> None:
    src = tmp_path / "fake.gguf"
    src.write_bytes(DATA)
    result = runner.invoke(app, ["install", "fake", "--from", str(src)])
    assert result.exit_code == 0, result.output
    assert str(store / "fake.gguf") in result.stdout
    again = runner.invoke(app, ["install", "fake"])
    assert again.exit_code == 0 and "already installed" in again.output

    listed = runner.invoke(app, ["list", "--json"])
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["fake"]["installed"] is True
    assert rows[FAST_MODEL]["installed"] is False


def test_a_wrong_file_is_refused_with_exit_2(tmp_path: Path) -> None:
    src = tmp_path / "other.gguf"
    src.write_bytes(b"not the model")
    result = runner.invoke(app, ["install", "fake", "--from", str(src)])
    assert result.exit_code == 2
    assert "sha256" in result.output and "Traceback" not in result.output


def test_unknown_model_exits_2_with_the_known_names() -> None:
    result = runner.invoke(app, ["install", "llama-70b"])
    assert result.exit_code == 2
    assert FAST_MODEL in result.output


def test_serving_a_model_that_is_not_installed_says_how_to_install() -> None:
    result = runner.invoke(app, ["serve", FAST_MODEL, "--port", "0"])
    assert result.exit_code == 2
    assert f"codeagent models install {FAST_MODEL}" in result.output
