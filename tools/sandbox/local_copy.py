"""The local sandbox's size-capped workspace: copied into a tmpfs per command, and back out.

A bubblewrap tmpfs (``--size``) lives only as long as one ``bwrap`` command, so
the files live in a host directory between commands. Each command runs under
:data:`WRAPPER`, which copies that directory (mounted read-only) into the tmpfs,
runs the command with the copy-out channel closed, then writes the workspace as
a tar to that channel: only the wrapper, after the command, can write there.
:func:`unpack` then rebuilds the host directory from the tar, keeping regular
files, directories and links that stay inside.

The same tar format keeps a set-up workspace (:func:`pack`, :func:`extract`): the
setup step's result is cached as one tar, and every later sandbox of the job
starts from it. :func:`workspace_bytes` is what the size-capped tmpfs will need
for the host directory, so a write that will not fit fails before anything runs.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import BinaryIO

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.protocol import WORKSPACE_HINT, FileData
from codeagent.tools.workspace import safe_relpath

__all__ = [
    "COPY_FAILED",
    "INBOX",
    "WRAPPER",
    "check_room",
    "copy_error",
    "copy_failure",
    "extract",
    "pack",
    "page_bytes",
    "unpack",
    "workspace_bytes",
]

INBOX = "/.codeagent-in"
"""Where the host directory is mounted (read-only) for the wrapper to copy in."""

COPY_FAILED = b"codeagent: workspace copy-in failed\n"
"""What the wrapper writes to the copy-out channel, then a reason, when the workspace
cannot be copied into the tmpfs (it does not fit): the command never ran."""
_PAGE = 4096  # tmpfs charges whole pages

# argv: fd of the copy-out channel, the command's file-size limit (bytes; the wrapper's
# own is the workspace size, to write the tar), then the command. Exit status: the
# command's, 127 when it cannot start (as a shell says), 128 + N when signal N ended it.
WRAPPER = f"""\
import os, resource, shutil, subprocess, sys, tarfile
out = os.fdopen(int(sys.argv[1]), "wb")
os.set_inheritable(out.fileno(), False)
fsize = int(sys.argv[2])
try:
    shutil.copytree({INBOX!r}, ".", symlinks=True, dirs_exist_ok=True)
except OSError as exc:
    out.write({COPY_FAILED!r} + str(exc)[-600:].encode("utf-8", "replace"))
    out.close()
    sys.exit(125)
def limit():
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
try:
    rc = subprocess.call(sys.argv[3:], preexec_fn=limit)
except OSError as exc:
    print(f"{{sys.argv[3]}}: {{exc.strerror}}", file=sys.stderr)
    rc = 127
with tarfile.open(fileobj=out, mode="w|") as tar:
    tar.add(".", arcname=".")
sys.exit(rc if rc >= 0 else 128 - rc)
"""


def unpack(archive: BinaryIO, store: Path) -> bool:
    """Replace ``store`` with the workspace in ``archive``; False (``store`` kept) if unreadable.

    Args:
        archive: The tar the wrapper wrote, positioned anywhere.
        store: The host directory that holds the workspace between commands.
    """
    archive.seek(0)
    fresh = Path(tempfile.mkdtemp(prefix="codeagent-ws-", dir=store.parent))
    try:
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            tar.extractall(fresh, filter=_inside)
    except (tarfile.TarError, OSError):
        shutil.rmtree(fresh, ignore_errors=True)
        return False
    shutil.rmtree(store, ignore_errors=True)
    fresh.rename(store)
    return True


def _inside(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    if not (member.isreg() or member.isdir() or member.issym()):
        return None  # fifos, devices, hard links: nothing a test run needs back
    try:
        return tarfile.data_filter(member, path)
    except tarfile.FilterError:
        return None  # absolute, or a link that leaves the workspace


def copy_failure(archive: BinaryIO) -> str | None:
    """Why the wrapper could not copy the workspace in (None: it could); see :data:`COPY_FAILED`."""
    archive.seek(0)
    head = archive.read(len(COPY_FAILED))
    if head != COPY_FAILED:
        return None
    return archive.read(2000).decode("utf-8", errors="replace")


def copy_error(reason: str, workspace_mb: int) -> SandboxError:
    """The error for a :func:`copy_failure`: a full workspace names ``sandbox.workspace_mb``."""
    if "No space left" in reason or "Errno 28" in reason:
        return SandboxError(
            f"the workspace does not fit in sandbox.workspace_mb ({workspace_mb} MB): "
            + reason.strip().splitlines()[-1][:300],
            hint=WORKSPACE_HINT,
        )
    return SandboxError(f"cannot copy the workspace into the sandbox: {reason.strip()[:300]}")


def check_room(files: Mapping[str, FileData], workspace_mb: int, store: Path | None = None) -> None:
    """Refuse files that will not fit in a ``workspace_mb`` tmpfs (with what ``store`` holds).

    Files being replaced do not count twice. Nothing is written either way.

    Raises:
        SandboxError: Naming ``sandbox.workspace_mb`` and the size needed.
    """
    sizes = {
        safe_relpath(rel): page_bytes(
            len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
        )
        for rel, data in files.items()
    }
    held = 0 if store is None else workspace_bytes(store, skip=sizes.keys())
    need = held + sum(sizes.values())
    if need > workspace_mb * 1024 * 1024:
        raise SandboxError(
            f"the files do not fit in the workspace: {need / 2**20:.1f} MB needed, "
            f"sandbox.workspace_mb is {workspace_mb}",
            hint=WORKSPACE_HINT,
        )


def page_bytes(size: int) -> int:
    """Bytes a file of ``size`` bytes takes in a tmpfs (whole pages)."""
    return -(-size // _PAGE) * _PAGE


def workspace_bytes(store: Path, skip: Collection[str] = ()) -> int:
    """Bytes the files under ``store`` take in a tmpfs, leaving out the relative paths ``skip``.

    Directories and symbolic links are not counted (a tmpfs keeps them in inodes).
    """
    total = 0
    for top, _dirs, names in os.walk(store):
        for name in names:
            path = os.path.join(top, name)
            if os.path.relpath(path, store).replace(os.sep, "/") in skip:
                continue
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                total += page_bytes(info.st_size)
    return total


def pack(store: Path, dest: Path) -> None:
    """Write the workspace in ``store`` as a tar at ``dest``, atomically (a temp file renamed)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(handle, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
            tar.add(store, arcname=".")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def extract(archive: Path, store: Path) -> None:
    """Unpack a tar :func:`pack` wrote into ``store`` (regular files, dirs, links inside only)."""
    with tarfile.open(archive, mode="r:") as tar:
        tar.extractall(store, filter=_inside)
