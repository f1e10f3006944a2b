"""Helpers for setup-step tests: a tiny wheel built here, network facts read in a sandbox."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

__all__ = ["INTERFACES", "WHEEL", "non_loopback", "tiny_wheel"]

WHEEL = "mypkg-0.1-py3-none-any.whl"

# Prints the network interfaces the command's namespace has, one a line (no /sys needed).
INTERFACES = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"


def tiny_wheel(value: int = 42) -> bytes:
    """A valid pure-Python wheel of ``mypkg`` (one module: ``VALUE = value``), as bytes."""
    files = {
        "mypkg/__init__.py": f"VALUE = {value}\n",
        "mypkg-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: mypkg\nVersion: 0.1\n",
        "mypkg-0.1.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("mypkg-0.1.dist-info/RECORD,,")
    files["mypkg-0.1.dist-info/RECORD"] = "\n".join(record) + "\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return buf.getvalue()


def non_loopback(listing: str) -> list[str]:
    """The interfaces in an :data:`INTERFACES` listing other than ``lo``."""
    return [name for name in listing.split() if name != "lo"]
