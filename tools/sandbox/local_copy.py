"""The local sandbox's size-capped workspace: copied into a tmpfs per command, and back out.

A bubblewrap tmpfs (``--size``) lives only as long as one ``bwrap`` command, so
the files live in a host directory between commands. Each command runs under
:data:`WRAPPER`, which copies that directory (mounted read-only) into the tmpfs,
runs the command with the copy-out channel closed, then writes the workspace as
a tar to that channel: only the wrapper, after the command, can write there.
:func:`unpack` then rebuilds the host directory from the tar, keeping regular
files, directories and links that stay inside.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO

__all__ = ["INBOX", "WRAPPER", "unpack"]

INBOX = "/.codeagent-in"
"""Where the host directory is mounted (read-only) for the wrapper to copy in."""

# argv: fd of the copy-out channel, the command's file-size limit (bytes; the wrapper's
# own is the workspace size, to write the tar), then the command. Exit status: the
# command's, 127 when it cannot start (as a shell says), 128 + N when signal N ended it.
WRAPPER = f"""\
import os, resource, shutil, subprocess, sys, tarfile
out = os.fdopen(int(sys.argv[1]), "wb")
os.set_inheritable(out.fileno(), False)
fsize = int(sys.argv[2])
shutil.copytree({INBOX!r}, ".", symlinks=True, dirs_exist_ok=True)
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
