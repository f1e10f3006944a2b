"""The deployment files: the Compose file for many machines and the workers' image.

No image can be pulled here, so these read the files as Compose would (YAML, then its
``${...}`` interpolation) and check what a deployment depends on.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "configs" / "deploy"
SECRET_NAME = re.compile(r"PASSWORD|API_KEY|TOKEN|SECRET|AUTH")
REFERENCE = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")
PASSWORDS = {"POSTGRES_PASSWORD": "pg-pw", "REDIS_PASSWORD": "redis-pw"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return dict(compose["services"])


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return REFERENCE.sub(one, value)


def _environment(service: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    return {k: interpolate(str(v), env) for k, v in service["environment"].items()}


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def test_the_stack_has_its_services_and_vllm_only_on_request(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "redis", "jaeger", "worker", "vllm"}
    assert services["vllm"]["profiles"] == ["vllm"]
    assert [name for name, s in services.items() if "profiles" in s] == ["vllm"]


def test_no_password_or_key_is_written_in_the_file(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for var, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(var):
                assert REFERENCE.fullmatch(str(value)), f"{name}.{var} is written in the file"
        command = service.get("command") or []
        for flag, arg in itertools.pairwise(command):
            if flag in ("--requirepass", "--api-key"):
                assert REFERENCE.fullmatch(arg), f"{name}: {flag} is written in the file"
    for text in _strings(services):
        for password in re.findall(r"://[^/@:]*:([^@]+)@", text):
            assert REFERENCE.fullmatch(password), f"a password is written in {text!r}"


def test_workers_find_the_broker_the_checkpoints_and_jaeger(services: dict[str, Any]) -> None:
    env = _environment(services["worker"], PASSWORDS)
    assert env["CODEAGENT_BROKER_URL"] == "redis://:redis-pw@redis:6379/0"
    postgres = _environment(services["postgres"], PASSWORDS)
    assert env["CODEAGENT_CHECKPOINT_URL"] == (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
    assert any(str(port).endswith(":4318:4318") for port in services["jaeger"]["ports"])


def test_workers_on_other_machines_point_at_the_head(services: dict[str, Any]) -> None:
    head = {**PASSWORDS, "REDIS_HOST": "10.0.0.5", "POSTGRES_HOST": "10.0.0.5"}
    env = services["worker"]["environment"]
    assert interpolate(env["CODEAGENT_BROKER_URL"], head).startswith("redis://:redis-pw@10.0.0.5:")
    assert "@10.0.0.5:5432/" in interpolate(env["CODEAGENT_CHECKPOINT_URL"], head)
    with pytest.raises(KeyError, match="set POSTGRES_PASSWORD"):
        interpolate(env["CODEAGENT_CHECKPOINT_URL"], {})


def test_the_model_endpoint_and_key_come_from_the_host(services: dict[str, Any]) -> None:
    env = services["worker"]["environment"]
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        assert env[name] == f"${{{name}:-}}"
        assert interpolate(env[name], {name: "from-host"}) == "from-host"
    assert "OPENAI_BASE_URL=http://vllm:8000/v1" in (DEPLOY / "compose.yaml").read_text()
    vllm = services["vllm"]
    assert vllm["command"][:2] == ["--model", "${VLLM_MODEL:-Qwen/Qwen2.5-Coder-7B-Instruct}"]
    (device,) = vllm["deploy"]["resources"]["reservations"]["devices"]
    assert device["capabilities"] == ["gpu"]


def test_redis_keeps_the_queue_across_restarts(services: dict[str, Any]) -> None:
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in services["redis"]["volumes"])


def test_workers_scale_and_open_sandboxes_on_the_host_engine(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert worker["command"] == ["worker", "--concurrency", "2"]
    # `--scale worker=N` needs no fixed name and no host port
    assert "container_name" not in worker
    assert "ports" not in worker
    assert isinstance(worker["deploy"]["replicas"], int)
    assert "/var/run/docker.sock:/var/run/docker.sock" in worker["volumes"]
    assert worker["environment"]["DOCKER_HOST"] == "unix:///var/run/docker.sock"
    assert (DEPLOY / worker["build"]["context"]).resolve() == ROOT
    assert (ROOT / worker["build"]["dockerfile"]).is_file()


def test_the_image_installs_the_project_and_runs_codeagent_as_a_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert "pip install '.[celery,postgres]'" in dockerfile
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert {"celery", "postgres"} <= set(extras)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["codeagent"\]$', dockerfile, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv"} <= set(ignored)
