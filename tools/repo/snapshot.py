"""A read-only copy of a repository's files: what a repo job works on instead of the user's tree.

:func:`take_snapshot` reads the files git would (tracked, plus untracked that are not
ignored) into memory once, so the job never touches the user's working tree again
until the end. A snapshot's id is the digest of its manifest, so the same files give
the same id; :func:`store_snapshot` keeps it as a deterministic tar under the state
dir, and :func:`load_snapshot` reads it back (verifying the id), so a resumed job
rebuilds its workspace from that, not from the user's tree as it is now.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from codeagent.tools.errors import RepoError, SandboxError
from codeagent.tools.repo.gitops import head_commit, work_tree_prefix
from codeagent.tools.repo.listing import DEFAULT_LIMITS, RepoLimits, list_repo_files
from codeagent.tools.workspace import safe_relpath

__all__ = [
    "RepoLimits",
    "Snapshot",
    "decode_text",
    "file_digest",
    "list_repo_files",
    "load_snapshot",
    "snapshot_files",
    "snapshot_id",
    "store_snapshot",
    "take_snapshot",
]

_ID = re.compile(r"[0-9a-f]{64}")


def file_digest(data: bytes) -> str:
    """The sha256 of a file's content, as hex."""
    return hashlib.sha256(data).hexdigest()


def decode_text(data: bytes) -> str | None:
    """``data`` as text, or None when it is binary: it holds NUL or is not UTF-8."""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def snapshot_id(files: Mapping[str, bytes]) -> str:
    """The sha256 over the sorted ``(path, sha256 of content)`` manifest of ``files``."""
    return _manifest_digest(files)


def _manifest_digest(files: Mapping[str, bytes]) -> str:
    manifest = hashlib.sha256()
    for path in sorted(files):
        # path, NUL, then a fixed-length digest: no two manifests read the same
        manifest.update(path.encode("utf-8") + b"\0" + file_digest(files[path]).encode() + b"\n")
    return manifest.hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """The files of a repository at one moment, by content.

    Attributes:
        id: :func:`snapshot_id` of ``files``.
        files: POSIX relative path -> content, read-only.
        skipped: ``(path, reason)`` for each file left out (a link leaving the repo, ...).
        base_commit: HEAD when the repository is a git work tree with commits, else None.
        root: The repository's directory when the snapshot was taken.
    """

    id: str
    files: Mapping[str, bytes] = field(repr=False)
    skipped: tuple[tuple[str, str], ...] = ()
    base_commit: str | None = None
    root: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))

    def text(self, path: str) -> str | None:
        """The file's text, or None when it is binary (holds NUL or is not UTF-8).

        Raises:
            RepoError: When the snapshot has no such file.
        """
        try:
            data = self.files[path]
        except KeyError:
            raise RepoError(
                f"{path!r} is not in the snapshot of {self.root}",
                hint="paths are relative to the repository root, with '/' separators",
            ) from None
        return decode_text(data)

    def texts(self) -> dict[str, str]:
        """Every text file (binary ones left out), by path."""
        decoded = {path: decode_text(data) for path, data in self.files.items()}
        return {path: text for path, text in decoded.items() if text is not None}

    def binary_paths(self) -> list[str]:
        """The paths whose content is not text, sorted."""
        return sorted(path for path, data in self.files.items() if decode_text(data) is None)

    @property
    def total_bytes(self) -> int:
        """The size of all files together."""
        return sum(len(data) for data in self.files.values())


def take_snapshot(root: Path, limits: RepoLimits = DEFAULT_LIMITS) -> Snapshot:
    """Read the repository's files (as :func:`list_repo_files` chooses them) into a snapshot.

    Raises:
        RepoError: For a root that is not a readable directory, or a cap exceeded.
    """
    paths, skipped = list_repo_files(root, limits)
    files: dict[str, bytes] = {}
    total = 0
    for rel in paths:
        try:
            with open(root / rel, "rb") as handle:
                data = handle.read(limits.max_file_bytes + 1)
        except OSError as exc:
            skipped.append((rel, f"cannot be read: {exc.strerror or exc}"))
            continue
        total += len(data)
        if len(data) > limits.max_file_bytes or total > limits.max_total_bytes:
            raise RepoError(
                f"{rel} grew while the snapshot of {root} was taken",
                hint="let the program writing to the repository finish, then run again",
            )
        files[rel] = data
    base = head_commit(root) if work_tree_prefix(root) is not None else None
    return Snapshot(snapshot_id(files), files, tuple(sorted(skipped)), base, str(root))


def snapshot_files(snapshot_id: str, home: Path) -> tuple[Path, Path]:
    """Where a stored snapshot's tar and its JSON sidecar are under ``home``.

    Raises:
        RepoError: When ``snapshot_id`` is not a snapshot id.
    """
    if not _ID.fullmatch(snapshot_id):
        raise RepoError(f"{snapshot_id!r} is not a snapshot id", hint="ids are 64 hex digits")
    folder = home / "snapshots"
    return folder / f"{snapshot_id}.tar", folder / f"{snapshot_id}.json"


def store_snapshot(snapshot: Snapshot, home: Path) -> Path:
    """Keep ``snapshot`` as ``home/snapshots/<id>.tar`` (once) with a JSON sidecar.

    The tar is deterministic (sorted names, mtime 0, owner 0, mode 0644), so the same
    files give the same bytes; an intact tar already there is kept. The sidecar
    (``<id>.json``) holds the root, base commit and skipped files of this snapshot.

    Returns:
        The tar's path.

    Raises:
        RepoError: When the state dir cannot be written.
    """
    folder = home / "snapshots"
    tar_path = folder / f"{snapshot.id}.tar"
    meta = {"root": snapshot.root, "base_commit": snapshot.base_commit}
    sidecar = json.dumps({**meta, "skipped": [list(s) for s in snapshot.skipped]}, indent=1)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not _intact(tar_path, snapshot.id):
            _write_atomic(tar_path, _tar_bytes(snapshot.files))
        _write_atomic(folder / f"{snapshot.id}.json", sidecar.encode())
    except OSError as exc:
        raise RepoError(
            f"cannot store the snapshot in {folder}: {exc.strerror or exc}",
            hint="check that CODEAGENT_HOME is writable and the disk is not full",
        ) from exc
    return tar_path


def load_snapshot(snapshot_id: str, home: Path) -> Snapshot:
    """Read a stored snapshot back, checking that its files still give its id.

    Raises:
        RepoError: When it is missing, unreadable, or its files do not match its id.
    """
    tar_path, meta_path = snapshot_files(snapshot_id, home)
    folder = tar_path.parent
    hint = "the job's saved copy of the repository is gone; start the job again"
    try:
        files = _read_tar(tar_path)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        skipped = tuple((str(path), str(why)) for path, why in meta.get("skipped", []))
        base, root = meta.get("base_commit"), str(meta.get("root", ""))
    except FileNotFoundError as exc:
        raise RepoError(f"snapshot {snapshot_id} is not in {folder}", hint=hint) from exc
    except (OSError, tarfile.TarError, ValueError, TypeError, AttributeError) as exc:
        raise RepoError(f"snapshot {snapshot_id} in {folder} is corrupt: {exc}", hint=hint) from exc
    if _manifest_digest(files) != snapshot_id:
        raise RepoError(
            f"snapshot {snapshot_id} in {folder} is corrupt: its files do not match its id",
            hint=hint,
        )
    return Snapshot(snapshot_id, files, skipped, base if isinstance(base, str) else None, root)


def _tar_bytes(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(files[path]), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[path]))
    return buffer.getvalue()


def _read_tar(path: Path) -> dict[str, bytes]:
    files = {}
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            if not member.isreg() or not _plain_name(member.name):
                raise ValueError(f"unexpected entry {member.name!r}")
            handle = tar.extractfile(member)
            if handle is None:
                raise ValueError(f"unreadable entry {member.name!r}")
            files[member.name] = handle.read()
    return files


def _plain_name(name: str) -> bool:
    try:
        return safe_relpath(name) == name
    except SandboxError:
        return False


def _intact(tar_path: Path, expected: str) -> bool:
    try:
        return _manifest_digest(_read_tar(tar_path)) == expected
    except (OSError, tarfile.TarError, ValueError):
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # 0600: the user's own code
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
