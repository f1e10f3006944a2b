"""Build the ``codeagent-sandbox`` Docker image (python3, pytest, coverage, nodejs).

Two routes, tried in this order:

1. ``Dockerfile`` (shipped next to this module): ``FROM python:3.11-slim``, for
   machines that can pull from a registry.
2. Offline: ``debootstrap --variant=minbase`` from the host's own configured
   Debian/Ubuntu mirror (read from the apt sources, never hard-coded), then
   ``docker import``. The root-filesystem tarball is cached under
   ``~/.cache/codeagent`` (or ``$XDG_CACHE_HOME``) so rebuilds take seconds.

Library code never prints: progress goes to the optional ``progress`` callback.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from codeagent.tools.errors import SandboxError
from codeagent.tools.sandbox.protocol import SANDBOX_UID

__all__ = [
    "IMAGE_REPO",
    "SANDBOX_UID",
    "AptSource",
    "BuildResult",
    "build_image",
    "default_image",
    "host_apt_source",
    "rootfs_cache_path",
]

IMAGE_REPO = "codeagent-sandbox"
PACKAGES = ("python3", "python3-pytest", "python3-coverage", "nodejs")
IMAGE_LABEL = "codeagent.sandbox.image"
_SOURCES = ("/etc/apt/sources.list.d", "/etc/apt/sources.list")
_IMPORT_CHANGES = (
    f"USER {SANDBOX_UID}:{SANDBOX_UID}",
    "WORKDIR /workspace",
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["sleep", "infinity"]',
    f'LABEL {IMAGE_LABEL}="1"',
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class AptSource:
    """One Debian-style package source: mirror URI, suite and components."""

    uri: str
    suite: str
    components: tuple[str, ...] = ("main",)


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_image` made.

    Attributes:
        tag: The image reference, e.g. ``codeagent-sandbox:0.1.0``.
        route: ``"dockerfile"`` or ``"offline"``.
        rootfs_cached: True when the offline route reused a cached rootfs tarball.
        fallback_reason: Why the Dockerfile route was given up, when it was.
    """

    tag: str
    route: str
    rootfs_cached: bool = False
    fallback_reason: str | None = None


def default_image() -> str:
    """The image reference this version of codeagent uses: ``codeagent-sandbox:<version>``."""
    try:
        version = importlib.metadata.version("codeagent")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"
    return f"{IMAGE_REPO}:{version}"


def host_apt_source(paths: Iterable[str] = _SOURCES) -> AptSource:
    """The first main-archive source the host's apt is configured with.

    Reads deb822 ``*.sources`` files and one-line ``sources.list`` entries, and
    skips security and updates suites (debootstrap wants the release suite).

    Raises:
        SandboxError: When no usable ``deb`` source is configured.
    """
    for path in paths:
        base = Path(path)
        files = (
            sorted(base.glob("*.sources")) + sorted(base.glob("*.list"))
            if base.is_dir()
            else [base]
        )
        for file in files:
            if not file.is_file():
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
            parse = _parse_deb822 if file.suffix == ".sources" else _parse_one_line
            for source in parse(text):
                if not re.search(r"-(security|updates|backports|proposed)$", source.suite):
                    return source
    raise SandboxError(
        "no Debian/Ubuntu package mirror is configured in /etc/apt",
        hint="the offline sandbox build needs apt sources; or build on a machine with a registry",
    )


def _parse_deb822(text: str) -> list[AptSource]:
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled") == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                comps = tuple(fields.get("components", "main").split())
                found.append(AptSource(uri, suite, comps))
    return found


def _parse_one_line(text: str) -> list[AptSource]:
    found = []
    for line in text.splitlines():
        words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(words) >= 3 and words[0] == "deb":
            found.append(AptSource(words[1], words[2], tuple(words[3:]) or ("main",)))
    return found


def rootfs_cache_path(source: AptSource) -> Path:
    """Where the offline route caches the debootstrap tarball for ``source``."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codeagent"
    key = hashlib.sha256(
        f"{source.suite}|{','.join(PACKAGES)}|{SANDBOX_UID}|v1".encode()
    ).hexdigest()[:12]
    return base / f"sandbox-rootfs-{source.suite}-{key}.tar"


def build_image(
    tag: str | None = None,
    *,
    offline: bool = False,
    progress: Progress | None = None,
    client: Any = None,
) -> BuildResult:
    """Build the sandbox image: the Dockerfile route first, the offline route on failure.

    Args:
        tag: Image reference to create (default: :func:`default_image`).
        offline: Skip the Dockerfile route (no registry is reachable).
        progress: Called with one line of text per build step.
        client: A ``docker.DockerClient``; one is made from the environment when omitted.

    Raises:
        SandboxError: When the engine is unreachable or both routes fail.
    """
    from codeagent.tools.sandbox.engine import docker_client  # lazy: docker-py is heavy

    tag = tag or default_image()
    say = progress or (lambda _line: None)
    client = client or docker_client()
    reason = None
    if not offline:
        try:
            _build_dockerfile(client, tag, say)
            return BuildResult(tag=tag, route="dockerfile")
        except SandboxError as exc:
            reason = exc.message
            say(f"Dockerfile route failed ({reason}); building offline instead")
    cached = _build_offline(client, tag, say)
    return BuildResult(tag=tag, route="offline", rootfs_cached=cached, fallback_reason=reason)


def _build_dockerfile(client: Any, tag: str, say: Progress) -> None:
    import docker.errors

    recipe = resources.files("codeagent.tools.sandbox").joinpath("Dockerfile").read_bytes()
    say("building from the Dockerfile (FROM python:3.11-slim)")
    try:
        stream = client.api.build(
            fileobj=io.BytesIO(recipe), tag=tag, rm=True, forcerm=True, decode=True
        )
        for chunk in stream:
            if "error" in chunk:
                raise SandboxError(str(chunk["error"]).strip().splitlines()[0][:300])
            line = str(chunk.get("stream") or chunk.get("status") or "").strip()
            if line:
                say(line)
    except docker.errors.DockerException as exc:
        raise SandboxError(str(exc).splitlines()[0][:300]) from exc


def _build_offline(client: Any, tag: str, say: Progress) -> bool:
    import docker.errors

    source = host_apt_source()
    tarball = rootfs_cache_path(source)
    cached = tarball.is_file()
    if cached:
        say(f"reusing cached root filesystem {tarball}")
    else:
        _make_rootfs_tarball(source, tarball, say)
    repo, _, version = tag.rpartition(":") if ":" in tag.split("/")[-1] else (tag, "", "latest")
    say(f"importing {tarball.name} as {tag}")
    try:
        client.api.import_image_from_file(
            str(tarball), repository=repo, tag=version, changes=list(_IMPORT_CHANGES)
        )
    except docker.errors.DockerException as exc:
        raise SandboxError(f"docker import failed: {exc}", hint="check `docker info`") from exc
    say(f"built {tag}")
    return cached


def _make_rootfs_tarball(source: AptSource, tarball: Path, say: Progress) -> None:
    if shutil.which("debootstrap") is None:
        raise SandboxError(
            "the offline sandbox build needs debootstrap",
            hint="apt-get install debootstrap (or build where python:3.11-slim can be pulled)",
        )
    if os.geteuid() != 0:
        raise SandboxError(
            "the offline sandbox build runs debootstrap, which needs root",
            hint="run: sudo codeagent sandbox build --offline",
        )
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="codeagent-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        say(f"debootstrap {source.suite} from {source.uri} (about a minute)")
        _check(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                f"--components={','.join(source.components)}",
                source.suite,
                str(rootfs),
                source.uri,
            ],
            "debootstrap",
        )
        _prepare_rootfs(rootfs)
        say("packing the root filesystem")
        partial = tarball.with_suffix(".partial")
        _check(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], "tar")
        partial.replace(tarball)


def _prepare_rootfs(rootfs: Path) -> None:
    """Trim apt caches and add the unprivileged ``sandbox`` user and its workspace."""
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (rootfs / junk).glob("*"):
            if item.is_file():
                item.unlink()
    uid = SANDBOX_UID
    with open(rootfs / "etc/passwd", "a", encoding="utf-8") as fh:
        fh.write(f"sandbox:x:{uid}:{uid}:codeagent sandbox:/workspace:/bin/sh\n")
    with open(rootfs / "etc/group", "a", encoding="utf-8") as fh:
        fh.write(f"sandbox:x:{uid}:\n")
    workspace = rootfs / "workspace"
    workspace.mkdir(exist_ok=True)
    os.chown(workspace, uid, uid)


def _check(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise SandboxError(
            f"{what} failed (exit {proc.returncode}): {' / '.join(tail)[:400]}",
            hint="check the apt mirror is reachable (apt-get update) and there is disk space",
        )
