"""How a repo runs its tests and what its own instructions tell an agent."""

from __future__ import annotations

import json

import pytest

from codeagent.tools.repo.testcmd import (
    agents_instructions,
    detect_test_command,
    instructed_test_command,
    named_failing_tests,
    pytest_node_ids,
)

PYTEST = ["python3", "-m", "pytest"]
NPM = ["npm", "test", "--silent"]


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": "[project]\nname = 'x'\n\n[tool.pytest.ini_options]\naddopts = '-q'\n"},
        {"pyproject.toml": "[tool.pytest]\nminversion = '9.0'\n"},
        {"pytest.ini": "[pytest]\n"},
        {"setup.cfg": "[metadata]\nname = x\n\n[tool:pytest]\ntestpaths = tests\n"},
        {"tox.ini": "[tox]\nenvlist = py311\n\n[pytest]\naddopts = -q\n"},
        {"src/x.py": "", "tests/test_x.py": "def test_a():\n    pass\n"},
        {"x_test.py": ""},
        # pytest configuration wins over a package.json test script
        {"pytest.ini": "[pytest]\n", "package.json": '{"scripts": {"test": "jest"}}'},
        # a broken pyproject still shows its pytest table
        {"pyproject.toml": "[tool.pytest.ini_options]\naddopts = [\n"},
    ],
)
def test_python_repos_run_pytest(files: dict[str, str]) -> None:
    assert detect_test_command(files) == PYTEST


def test_a_package_json_test_script_runs_npm_test() -> None:
    files = {"package.json": json.dumps({"scripts": {"test": "node --test"}}), "tests/a.js": ""}
    assert detect_test_command(files) == NPM
    # a package.json script beats a stray Python test helper
    assert detect_test_command({**files, "scripts/test_release.py": ""}) == NPM


@pytest.mark.parametrize(
    "files",
    [
        {
            "package.json": json.dumps(
                {"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}
            )
        },
        {"package.json": json.dumps({"scripts": {"build": "tsc"}})},
        {"package.json": "{not json"},
        {"pyproject.toml": "[project]\nname = 'x'\n", "src/x.py": ""},
        {"setup.cfg": "[metadata]\n# [tool:pytest] is only mentioned\n"},
        {},
    ],
)
def test_no_command_when_nothing_says_how(files: dict[str, str]) -> None:
    assert detect_test_command(files) is None


AGENTS = """\
# Agent notes

Keep changes small.

## Tests

Run the tests with `pytest -q tests/`, before sending a patch.
"""

README = """\
Billing
=======

A library.

## Install

    pip install billing

## Development

Set up a venv.

### Running tests

```sh
make test
```

## License

MIT
"""


def test_agents_instructions_labels_agents_md_and_the_readme_section() -> None:
    text = agents_instructions({"AGENTS.md": AGENTS, "README.md": README, "src/x.py": ""})
    assert text == (
        "AGENTS.md:\n" + AGENTS.strip() + "\n\n"
        "README.md (section 'Development'):\nSet up a venv.\n\n### Running tests\n\n"
        "```sh\nmake test\n```"
    )


def test_agents_instructions_reads_setext_headings_and_skips_code_fences() -> None:
    readme = (
        "Intro\n\n```md\n# Testing (not a heading: inside a fence)\n```\n\n"
        "Testing\n-------\nUse tox.\n\nOther\n-----\nno\n"
    )
    assert agents_instructions({"README.md": readme}) == "README.md (section 'Testing'):\nUse tox."


def test_agents_instructions_are_bounded() -> None:
    long_agents = "# Notes\n" + "Be careful with the cache layer. " * 200
    for budget in (300, 1000, 2000):
        text = agents_instructions({"AGENTS.md": long_agents, "README.md": README}, budget)
        assert len(text) <= budget
        assert text.startswith("AGENTS.md:\n# Notes\n")
        assert "more characters]" in text
        assert "README.md (section 'Development'):" in text
    alone = agents_instructions({"AGENTS.md": long_agents}, 500)
    assert len(alone) <= 500 and "README" not in alone


def test_no_instructions_when_the_repo_has_none() -> None:
    assert (
        agents_instructions({"README.md": "# x\n\n## Usage\n\nrun it\n", "docs/AGENTS.md": "x"})
        == ""
    )
    assert agents_instructions({}) == ""


def test_the_agents_md_test_command_from_inline_code() -> None:
    assert instructed_test_command({"AGENTS.md": AGENTS}) == ["pytest", "-q", "tests/"]


def test_the_agents_md_test_command_from_a_shell_block_under_a_test_heading() -> None:
    agents = (
        "# Notes\n\n```sh\npip install -e .\n```\n\n## Testing\n\n```bash\n"
        "$ pip install -e '.[dev]'\n$ python -m pytest -x 'tests/unit tests'\n```\n"
    )
    assert instructed_test_command({"AGENTS.md": agents}) == [
        "python",
        "-m",
        "pytest",
        "-x",
        "tests/unit tests",
    ]


def test_a_command_with_shell_operators_runs_through_sh() -> None:
    agents = "Before a commit, run the tests: `npm ci && npm test`.\n"
    assert instructed_test_command({"AGENTS.md": agents}) == ["sh", "-c", "npm ci && npm test"]


@pytest.mark.parametrize(
    "agents",
    [
        "Lint with `ruff check .` and format with `ruff format`.\n",
        "## Tests\n\n```python\nassert add(1, 2) == 3\n```\n",
        "Tests are run by CI; `pip install -e .` first.\n",
        "Run the tests with `pytest 'unbalanced`.\n",
    ],
)
def test_no_instructed_command_when_none_is_stated(agents: str) -> None:
    assert instructed_test_command({"AGENTS.md": agents}) is None
    assert instructed_test_command({"README.md": "Run `pytest`.\n"}) is None


def test_tox_counts_as_a_test_runner() -> None:
    assert instructed_test_command({"AGENTS.md": "## Tests\n\n```\ntox -e py311\n```\n"}) == [
        "tox",
        "-e",
        "py311",
    ]


def test_pytest_node_ids_named_in_a_task() -> None:
    task = (
        "Make tests/test_cli.py::test_json pass, and tests/test_a.py::TestX::test_y "
        "(also ./tests/test_p.py::test_p[1-2]). The whole tests/test_b.py file, then "
        "pkg/test_c.py. Not src/pkg/mod.py, but again tests/test_cli.py::test_json."
    )
    assert pytest_node_ids(task) == [
        "tests/test_cli.py::test_json",
        "tests/test_a.py::TestX::test_y",
        "tests/test_p.py::test_p[1-2]",
        "tests/test_b.py",
        "pkg/test_c.py",
    ]
    assert pytest_node_ids("nothing to see in src/app.py") == []


def test_failing_tests_a_task_names_by_their_names_alone() -> None:
    failing = [
        "splits at the end of an acronym",  # node --test: the test's own name
        "words > keeps digits",  # a subtest: the part after the last '>'
        "tests/test_cli.py::test_json",  # pytest: the function's name, as a word
        "tests/test_cli.py::TestReport::test_json_rows[2-3]",
        "tests/test_cli.py::t1",  # too short a name to look for
    ]
    task = (
        'The test "Splits at the end of an acronym" fails, and so does test_json; '
        "keeps digits is fine; test_json_rows too. t1."
    )

    assert named_failing_tests(task, failing) == [
        "splits at the end of an acronym",
        "words > keeps digits",
        "tests/test_cli.py::test_json",
        "tests/test_cli.py::TestReport::test_json_rows[2-3]",
    ]
    # a name inside a longer word is not named; an id written whole is
    assert named_failing_tests("test_jsonl fails", ["t.py::test_json"]) == []
    assert named_failing_tests("t.py::t1 fails", ["t.py::t1"]) == ["t.py::t1"]
