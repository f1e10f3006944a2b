"""langgraph.json: LangGraph's dev server and Studio can load the default workflow's graph."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests import scripts

ROOT = Path(__file__).resolve().parent.parent


def test_langgraph_json_points_at_a_compiled_graph() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["dependencies"] == ["."]
    file_name, _, attr = config["graphs"]["codeagent"].partition(":")
    spec = importlib.util.spec_from_file_location("studio_graph", ROOT / file_name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    graph = getattr(module, attr)
    assert graph.name == "default"
    assert set(graph.get_graph().nodes) == {
        "__start__",
        "plan",
        "code",
        "test",
        "review",
        "__end__",
    }
    assert graph.checkpointer is None  # the LangGraph server brings its own persistence


def test_another_workflow_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from codeagent.graphs.studio import make_graph

    monkeypatch.setenv("CODEAGENT_WORKFLOW", "tdd")
    assert "write_tests" in make_graph().get_graph().nodes


@pytest.mark.slow
@pytest.mark.usefixtures("bwrap")
def test_langgraph_dev_runs_a_job_offline(tmp_path: Path) -> None:
    """``langgraph dev`` (pip install "langgraph-cli[inmem]") serves and runs the graph."""
    cli = shutil.which("langgraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "langgraph"
    )
    if cli is None:
        pytest.skip('langgraph-cli is not installed (pip install "langgraph-cli[inmem]")')
    workflow = scripts.write_workflow(tmp_path, base="quick")
    env = {**os.environ, "CODEAGENT_WORKFLOW": str(workflow), "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    port = _free_port()
    scratch = ROOT / ".langgraph_api"  # the dev server's state; paths resolve from the cwd
    had_scratch = scratch.exists()
    server = subprocess.Popen(
        [cli, "dev", "--no-browser", "--no-reload", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/ok", server)
        body = {"assistant_id": "codeagent", "input": {"task": scripts.TASK}}
        state = _post(f"http://127.0.0.1:{port}/runs/wait", body)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if not had_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    assert state["status"] == "success"
    assert state["test_report"]["passed"] == 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _wait_ready(url: str, server: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        assert server.poll() is None and time.monotonic() < deadline, "server did not start"
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        data: dict[str, Any] = json.load(response)
    return data
