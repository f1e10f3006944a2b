"""What the agent and the baseline are shown: the problem's prompt and nothing else.

Both modes get the same words, so single-shot and agent results compare. The
hidden tests never appear here: :func:`task_text` and :func:`single_shot_prompt`
read only ``Problem.prompt``.
"""

from __future__ import annotations

from codeagent.evals.datasets import Problem
from codeagent.nodes.parsing import code_blocks

__all__ = ["extract_code", "single_shot_prompt", "task_text"]

_INSTRUCTION = (
    "Complete the Python function `{name}` below. Keep its name and signature, keep the "
    "imports and helper functions it needs, and make it pass the examples in its docstring."
)


def task_text(problem: Problem) -> str:
    """The agent's task: an instruction and the problem's prompt (signature + docstring)."""
    instruction = _INSTRUCTION.format(name=problem.entry_point)
    return f"{instruction}\n\n```python\n{problem.prompt.rstrip()}\n```\n"


def single_shot_prompt(problem: Problem) -> list[tuple[str, str]]:
    """The baseline's one call: the same task, answered with one code block."""
    system = (
        "You are an expert Python programmer. Reply with the complete code in one ```python block."
    )
    return [("system", system), ("user", task_text(problem))]


def extract_code(text: str) -> str:
    """The code in a model's answer: the longest Python block, else the whole text."""
    blocks = [b for b in code_blocks(text) if b.body.strip()]
    python = [b for b in blocks if b.path is None or b.path.endswith(".py")]
    if python:
        return max(python, key=lambda b: len(b.body)).body
    return text.strip() + "\n"
