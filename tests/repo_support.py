"""A small repository with a bug, and a scripted model that fixes it (repo-job tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from codeagent.tools.testing import Rule, ScriptedChatModel
from tests.git_support import git

__all__ = [
    "APPROVE",
    "BREAKS_SUB",
    "CALC",
    "FIX",
    "PYPROJECT",
    "RESTORE_SUB",
    "TASK",
    "TESTS",
    "calc_model",
    "make_calc_repo",
    "make_repo",
    "untouched",
    "write_repo_workflow",
]

CALC = '''"""A calculator."""


def add(a, b):
    """The sum of a and b."""
    return a - b


def sub(a, b):
    return a - b
'''
TESTS = """from calc import add, sub


def test_add():
    assert add(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2
"""
PYPROJECT = (
    '[project]\nname = "calc"\nversion = "0"\n\n[tool.pytest.ini_options]\npythonpath = ["."]\n'
)
TASK = "tests/test_calc.py::test_add fails; fix it."
FIX = 'calc.py\n```python\ndef add(a, b):\n    """The sum of a and b."""\n    return a + b\n```\n'
BREAKS_SUB = (
    "calc.py\n```python\ndef sub(a, b):\n    return a + b\n\n\n"
    "def add(a, b):\n    return a + b\n```\n"
)
RESTORE_SUB = "calc.py\n```python\ndef sub(a, b):\n    return a - b\n```\n"
APPROVE = '{"verdict": "approve", "comments": []}'


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository at ``root`` holding ``files``, all committed on ``main``."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    return root


def make_calc_repo(parent: Path) -> Path:
    """A git repository with a bug in ``add`` and a failing ``test_add``."""
    files = {
        "calc.py": CALC,
        "tests/test_calc.py": TESTS,
        "pyproject.toml": PYPROJECT,
        ".gitignore": "build/\n",
    }
    return make_repo(parent / "calc", files)


def calc_model(*code: str, fix: tuple[str, ...] = ()) -> ScriptedChatModel:
    """The repo-fix workflow's model: opens calc.py, answers ``code`` then ``fix``."""
    return ScriptedChatModel(
        rules=[
            Rule(name="context", match="You are the navigator", reply='{"open": ["calc.py"]}'),
            Rule(
                name="fix",
                match="Your changes so far|could not be applied",
                replies=list(fix or code),
            ),
            Rule(name="code", match="You are the coder", replies=list(code)),
            Rule(name="review", match="You are the reviewer", reply=APPROVE),
        ]
    )


def untouched(repo: Path) -> None:
    """The user's tree is as :func:`make_calc_repo` left it."""
    assert (repo / "calc.py").read_text() == CALC
    assert git(repo, "status", "--porcelain") == ""


def write_repo_workflow(
    directory: Path, model: ScriptedChatModel, *, base: str = "repo-fix", **changes: Any
) -> Path:
    """A copy of the shipped ``base`` workflow in ``directory`` whose model is ``model``'s
    rules (a scripted rules file, so another process can load it) and whose sandbox is
    the local one; ``changes`` replace top-level keys."""
    from codeagent.configs import workflow_path

    path = workflow_path(base)
    assert path is not None
    data = yaml.safe_load(path.read_text())
    data["models"] = {"default": {"provider": "scripted", "script": "rules.yaml"}}
    data["sandbox"]["backend"] = "local"
    data.update(changes)
    rules = [r.model_dump(exclude_defaults=True) for r in model.rules]
    (directory / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}))
    target = directory / "wf.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target
