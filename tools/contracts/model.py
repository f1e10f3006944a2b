"""The model spec: one chat model a workflow's nodes may use (the ``models:`` entries).

A contract shared by the workflow schema (graphs) and the model factories (tools), so
it lives at the bottom.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["ModelSpec"]


class ModelSpec(BaseModel):
    """One chat model the nodes may use.

    ``provider: openai`` is any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama,
    llama.cpp server). ``local`` is the embedded model (``model`` names it).
    ``auto`` is ``openai`` when an endpoint or API key is configured, else the
    embedded ``local_model``. ``scripted`` replays a rules file (for testing
    workflows without a model).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["auto", "openai", "local", "scripted"] = "openai"
    model: str = "gpt-4o-mini"
    local_model: str = Field(
        default="qwen2.5-coder-1.5b",
        description="The embedded model used by provider 'auto' when no endpoint is configured.",
    )
    base_url: str | None = None
    api_key_env: str | None = Field(
        default="OPENAI_API_KEY",
        description="Name of the environment variable holding the API key (never the key).",
    )
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tokens: int = Field(default=2048, gt=0)
    timeout_s: float = Field(default=120, gt=0)
    max_retries: int = Field(default=2, ge=0)
    structured_output: Literal["json_schema", "prompt"] = "json_schema"
    seed: int | None = Field(
        default=None,
        description="Sampling seed, for reproducible runs where the server honours it.",
    )
    threads: int | None = Field(default=None, gt=0)
    context_size: int = Field(default=8192, gt=0)
    slots: int = Field(
        default=1,
        ge=1,
        le=16,
        description=(
            "Embedded model: requests decoded side by side (llama.cpp's parallel slots), "
            "each with the whole context_size; 1: requests queue."
        ),
    )
    script: str | None = None

    @field_validator("api_key_env")
    @classmethod
    def _is_a_name(cls, value: str | None) -> str | None:
        if value is not None and (not value.replace("_", "").isalnum() or value[0].isdigit()):
            raise ValueError(
                "must be the NAME of an environment variable (e.g. OPENAI_API_KEY), "
                "never the key itself"
            )
        return value

    @model_validator(mode="after")
    def _scripted_needs_script(self) -> ModelSpec:
        if self.provider == "scripted" and not self.script:
            raise ValueError("provider 'scripted' needs 'script: FILE' (a rules file)")
        return self
