"""What every sandbox implementation does the same: binary files, and a full workspace.

Run against the real backends (local with bubblewrap, docker with the engine), the
docker pool, the traced and policy wrappers, and ``FakeSandbox``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from codeagent.tools.errors import SandboxError
from codeagent.tools.guardrails import Policy
from codeagent.tools.sandbox import LocalSandbox, Sandbox, SandboxLimits
from codeagent.tools.sandbox.policy import PolicySandbox
from codeagent.tools.sandbox.traced import TracedSandbox
from codeagent.tools.testing import FakeSandbox
from tests.docker_support import require_docker

Opener = Callable[[SandboxLimits], Sandbox]

BLOB = bytes(range(256)) * 64 + b"\x00\xff\xfe\x80 not utf-8"
TEXT = "héllo wörld ✓\n"
HASH_CMD = [
    "python3",
    "-c",
    "import hashlib; print(hashlib.sha256(open('assets/blob.bin','rb').read()).hexdigest());"
    " print(open('notes.txt','rb').read().hex())",
]


def _local(limits: SandboxLimits) -> Sandbox:
    return LocalSandbox(limits)


def _traced(limits: SandboxLimits) -> Sandbox:
    return TracedSandbox(LocalSandbox(limits))


def _policy(limits: SandboxLimits) -> Sandbox:
    return PolicySandbox(LocalSandbox(limits), Policy(), lambda path: True)


@pytest.fixture
def docker_engine() -> tuple[Any, str]:
    return require_docker()


@pytest.fixture(
    params=[
        "local",
        "traced",
        "policy",
        pytest.param("docker", marks=pytest.mark.docker),
        pytest.param("pooled", marks=pytest.mark.docker),
    ]
)
def opener(request: pytest.FixtureRequest) -> Iterator[Opener]:
    """A way to make an unstarted sandbox of each implementation that runs code."""
    if request.param in ("local", "traced", "policy"):
        request.getfixturevalue("bwrap")
        yield {"local": _local, "traced": _traced, "policy": _policy}[request.param]
        return
    client, image = request.getfixturevalue("docker_engine")
    from codeagent.tools.sandbox.docker import DockerSandbox
    from codeagent.tools.sandbox.pool import SandboxPool

    if request.param == "docker":
        yield lambda limits: DockerSandbox(limits, image, client=client)
        return
    pools: list[SandboxPool] = []

    def pooled(limits: SandboxLimits) -> Sandbox:
        pools.append(SandboxPool(limits, image, size=1, client=client))
        return pools[-1].sandbox()

    yield pooled
    for pool in pools:
        pool.close()


def test_binary_files_are_written_as_they_are(opener: Opener) -> None:
    with opener(SandboxLimits()) as sandbox:
        sandbox.write_files({"assets/blob.bin": BLOB, "notes.txt": TEXT})
        result = sandbox.run(HASH_CMD, timeout_s=30)

        assert result.ok, result.stderr
        digest, text_hex = result.stdout.split()
        assert digest == hashlib.sha256(BLOB).hexdigest()
        assert bytes.fromhex(text_hex) == TEXT.encode("utf-8")
        assert sandbox.read_files(["notes.txt"]) == {"notes.txt": TEXT}


def test_files_that_do_not_fit_are_a_sandbox_error_naming_the_setting(opener: Opener) -> None:
    with opener(SandboxLimits(workspace_mb=1)) as sandbox:
        sandbox.write_files({"keep.txt": "kept\n"})

        with pytest.raises(SandboxError) as info:
            sandbox.write_files({"big.bin": b"\x00" * (2 * 1024 * 1024)})

        assert "sandbox.workspace_mb is 1" in info.value.message
        assert info.value.hint is not None and "workspace_mb" in info.value.hint
        # What was written before is still there, and the sandbox still runs commands.
        assert sandbox.run(["cat", "keep.txt"], timeout_s=30).stdout == "kept\n"


def test_the_fake_sandbox_keeps_bytes_as_they_are() -> None:
    sandbox = FakeSandbox()
    with sandbox:
        sandbox.write_files({"assets/blob.bin": BLOB, "notes.txt": TEXT})

    assert sandbox.binary == {"assets/blob.bin": BLOB}
    assert sandbox.files["assets/blob.bin"] == BLOB.decode("utf-8", errors="replace")
    assert sandbox.read_files(["notes.txt"]) == {"notes.txt": TEXT}
    sandbox.write_files({"assets/blob.bin": "now text"})
    assert sandbox.binary == {} and sandbox.files["assets/blob.bin"] == "now text"
