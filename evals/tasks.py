"""What the agent and the baseline are shown: the problem's prompt and nothing else.

Both modes get the same words, so single-shot and agent results compare. The
hidden tests never appear here: :func:`task_text` and :func:`single_shot_prompt`
read only ``Problem.prompt``.
"""

from __future__ import annotations

import ast

from codeagent.evals.datasets import Problem
from codeagent.nodes.parsing import code_blocks

__all__ = ["extract_code", "single_shot_prompt", "task_text"]

_PROSE = (
    "Write the Python function `{name}` this task describes, with that name, and make it "
    "pass the example."
)
_INSTRUCTION = (
    "Complete the Python function `{name}` below. Keep its name and signature, keep the "
    "imports and helper functions it needs, and make it pass the examples in its docstring."
)


def task_text(problem: Problem) -> str:
    """The agent's task: an instruction and the problem's prompt.

    A prompt in Python (HumanEval's signature and docstring) is shown as code to
    complete; a prompt in words (MBPP's sentence and example assertion) as it is.
    """
    prompt = problem.prompt.rstrip()
    if not _is_python(prompt):
        return f"{_PROSE.format(name=problem.entry_point)}\n\n{prompt}\n"
    instruction = _INSTRUCTION.format(name=problem.entry_point)
    return f"{instruction}\n\n```python\n{prompt}\n```\n"


def _is_python(prompt: str) -> bool:
    """True when ``prompt`` is Python source (perhaps a signature still needing a body)."""
    for text in (prompt, prompt + "\n    pass\n"):
        try:
            ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        return True
    return False


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
