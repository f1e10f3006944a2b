"""The plan: the structured, versioned record a planner writes and the other nodes follow.

The pydantic :class:`Plan` validates a model's answer; the job state keeps its
``model_dump()`` plus a ``version``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from codeagent.tools.languages.base import LanguageAdapter

__all__ = ["Plan", "planned_files"]


def _bounded(items: int, chars: int) -> dict[str, Any]:
    """JSON-schema bounds for a list of strings (see ``Plan``)."""
    return {"maxItems": items, "items": {"type": "string", "maxLength": chars}}


class Plan(BaseModel):
    """The plan a planner writes (validated model output)."""

    model_config = ConfigDict(extra="ignore")

    # The bounds are hints in the JSON schema only (not enforced when validating): a
    # grammar-constrained small model otherwise keeps appending items until max_tokens.
    summary: str = Field(min_length=1, json_schema_extra={"maxLength": 300})
    files: list[str] = Field(default_factory=list, json_schema_extra=_bounded(5, 80))
    steps: list[str] = Field(default_factory=list, json_schema_extra=_bounded(6, 200))
    test_cases: list[str] = Field(default_factory=list, json_schema_extra=_bounded(6, 200))

    @field_validator("files", "steps", "test_cases", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v if isinstance(v, str) else str(v) for v in value]
        return value


def planned_files(
    plan: Mapping[str, Any] | None, language: LanguageAdapter, default: str | None = None
) -> list[str]:
    """The solution files a plan (as kept in state) names; the first is the main one.

    Without a plan, or when it names none, ``[default]``, else the language's single
    default file (``solution.py`` for Python).
    """
    files = list((plan or {}).get("files") or [])
    return files or [default or language.default_source_path()]
