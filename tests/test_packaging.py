"""codeagent installs as one namespace, so a user's own tools/ or graphs/ never shadows it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests import scripts

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "codeagent.graphs.cli"]
PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
_FOREIGN = "raise ImportError(\"this is the user's own {name} package, not codeagent's\")\n"


@pytest.mark.slow
def test_the_wheel_installs_one_top_level_package(tmp_path: Path) -> None:
    subprocess.run(
        [*PIP_WHEEL, "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("codeagent-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        assert archive.read(top_level).decode().split() == ["codeagent"]
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "codeagent = codeagent.graphs.cli:main" in archive.read(entry_points).decode()
    roots = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert roots == {"codeagent"}
    for data in (
        "codeagent/configs/default.yaml",
        "codeagent/configs/workflow.schema.json",
        "codeagent/nodes/templates/coder.md",
        "codeagent/tools/sandbox/Dockerfile",
        "codeagent/graphs/py.typed",
    ):
        assert data in names


@pytest.mark.usefixtures("bwrap")
def test_a_job_runs_from_a_directory_with_its_own_tools_and_graphs(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for name in ("tools", "graphs", "nodes", "evals", "configs"):
        (project / name).mkdir(parents=True)
        (project / name / "__init__.py").write_text(_FOREIGN.format(name=name))
    workflow, out = scripts.write_workflow(tmp_path, base="quick"), tmp_path / "out"
    proc = subprocess.run(
        [*CLI, "run", scripts.TASK, "--workflow", str(workflow), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=project,  # `python -m` puts the working directory first on sys.path
        env={**_env(), "PYTHONPATH": str(project)},
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "success"


def test_the_user_directory_does_not_shadow_the_api(tmp_path: Path) -> None:
    for name in ("tools", "graphs"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(_FOREIGN.format(name=name))
    code = "import codeagent.graphs, codeagent.tools.testing; print(codeagent.graphs.run_job)"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**_env(), "PYTHONPATH": str(tmp_path)},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "run_job" in proc.stdout


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
