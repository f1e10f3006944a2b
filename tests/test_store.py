"""The job store: one interface, a state dir or PostgreSQL, the same behaviour."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from codeagent.graphs import run_job
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.records import JobRecord
from codeagent.graphs.jobs.store import FileStore, JobStore, store_for
from codeagent.graphs.jobs.store_postgres import PostgresStore, StoreUnavailable
from codeagent.tools.errors import ConfigError
from codeagent.tools.sandbox import LocalSandbox
from tests import scripts
from tests.tcp_proxy import TcpProxy, target_of, through


@pytest.fixture(params=["file", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> JobStore:
    if request.param == "postgres":
        return PostgresStore(request.getfixturevalue("pg_url"))
    return FileStore(tmp_path / "home")


def _record(thread_id: str, **changes: object) -> JobRecord:
    base = JobRecord(thread_id, "task", "wf.yaml", "name: x", "/tmp/out", time.time())
    return JobRecord(**{**base.__dict__, **changes})


def test_records_round_trip_and_list_newest_first(store: JobStore) -> None:
    key = uuid.uuid4().hex[:8]
    older, newer = f"20250101-000000-{key}", f"20990101-000000-{key}"
    store.save_record(_record(older))
    store.save_record(_record(newer, status="queued"))
    store.save_record(_record(newer, status="success", tests={"passed": 2}))
    loaded = store.load_record(newer)
    assert loaded.status == "success" and loaded.tests == {"passed": 2}
    ids = [r.thread_id for r in store.list_records() if r.thread_id.endswith(key)]
    assert ids == [newer, older]
    with pytest.raises(ConfigError, match="no job"):
        store.load_record(f"missing-{key}")


def test_audit_lines_and_spans_append_in_order(store: JobStore) -> None:
    tid = f"t-{uuid.uuid4().hex[:8]}"
    assert store.read_audit(tid) == [] and store.read_trace(tid) == {"resourceSpans": []}
    store.append_audit(tid, '{"event": "job"}\n{"event": "node"}\n')
    store.append_audit(tid, '{"event": "transition"}\n')
    assert [line["event"] for line in store.read_audit(tid)] == ["job", "node", "transition"]
    store.append_spans(tid, [{"scopeSpans": [{"spans": [{"name": "a"}]}]}])
    store.append_spans(tid, [{"scopeSpans": [{"spans": [{"name": "b"}]}]}])
    spans = store.read_trace(tid)["resourceSpans"]
    assert [r["scopeSpans"][0]["spans"][0]["name"] for r in spans] == ["a", "b"]


def test_the_file_trace_is_appended_and_written_whole_when_a_run_ends(tmp_path: Path) -> None:
    store, tid = FileStore(tmp_path / "home"), "t-file"
    run = store.run_dir(tid)
    store.append_spans(tid, [{"scopeSpans": [{"spans": [{"name": "a"}]}]}])
    store.append_spans(tid, [{"scopeSpans": [{"spans": [{"name": "b"}]}]}])
    assert len((run / "trace.jsonl").read_text().splitlines()) == 2  # one line per export
    assert not (run / "trace.json").exists()
    with open(run / "trace.jsonl", "a") as handle:  # a run killed while writing a line
        handle.write('[{"scopeSpans": [{"spa')
    with open(run / "audit.jsonl", "a") as handle:
        handle.write('{"event": "job"}\n{"event": "no')
    names = ["a", "b"]
    assert [
        r["scopeSpans"][0]["spans"][0]["name"] for r in store.read_trace(tid)["resourceSpans"]
    ] == names
    assert [line["event"] for line in store.read_audit(tid)] == ["job"]
    store.finish_trace(tid)  # the whole trace, one OTLP/JSON document (Jaeger's upload)
    whole = json.loads((run / "trace.json").read_text())
    assert whole == store.read_trace(tid)


def test_blobs_are_kept_and_keys_cannot_escape(store: JobStore) -> None:
    key = f"snapshots/{uuid.uuid4().hex}.tar"
    assert store.get_blob(key) is None
    store.put_blob(key, b"\x00tar")
    assert store.get_blob(key) == b"\x00tar"
    if isinstance(store, FileStore):
        with pytest.raises(ConfigError, match="invalid blob key"):
            store.put_blob("../escape", b"x")


def test_a_lease_has_one_live_owner(store: JobStore) -> None:
    tid = f"lease-{uuid.uuid4().hex[:8]}"
    assert store.claim(tid, "w1", 30) is None
    assert store.claim(tid, "w1", 30) is None  # renewing
    assert store.claim(tid, "w2", 30) == "w1"
    store.release(tid, "w2")  # not the owner: nothing changes
    assert store.claim(tid, "w2", 30) == "w1"
    store.release(tid, "w1")
    assert store.claim(tid, "w2", 0.2) is None
    time.sleep(0.3)  # w2's lease runs out: anyone may take the job
    assert store.claim(tid, "w3", 30) is None


def test_a_job_with_a_checkpoint_url_keeps_everything_in_postgres(
    tmp_path: Path, pg_url: str
) -> None:
    config = RunConfig(tmp_path / "home", checkpoint_url=pg_url)
    result = run_job(
        scripts.TASK,
        chat_model=scripts.model(),
        sandbox_factory=LocalSandbox,
        config=config,
        out=tmp_path / "out",
    )
    assert result.status == "success"
    assert not (tmp_path / "home" / "runs").exists()  # no command needs this disk
    store = store_for(config)
    assert isinstance(store, PostgresStore)
    record = store.load_record(result.thread_id)
    assert record.status == "success" and record.tests and record.tests["passed"] == 4
    events = [line["event"] for line in store.read_audit(result.thread_id)]
    assert events.count("model_call") == 4 and "transition" in events
    names = [
        span["name"]
        for resource in store.read_trace(result.thread_id)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    assert "invoke_workflow default" in names and "invoke_agent test" in names


def test_an_unreachable_database_is_a_clear_error_with_no_password(pg_url: str) -> None:
    url = pg_url
    with TcpProxy(*target_of(url)) as proxy:
        store = PostgresStore(through(url, proxy.port))
        store.append_audit("t-proxy", '{"event": "job"}\n')
        proxy.cut()
        with pytest.raises(StoreUnavailable) as caught:
            store.append_audit("t-proxy", '{"event": "node"}\n')
        password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[-1]
        assert password not in caught.value.message and "does not answer" in caught.value.message
        proxy.restore()
        store.append_audit("t-proxy", '{"event": "node"}\n')  # reconnects by itself
        assert [line["event"] for line in store.read_audit("t-proxy")][-1] == "node"


def test_records_can_be_listed_by_status(store: JobStore) -> None:
    key = uuid.uuid4().hex[:8]
    store.save_record(_record(f"20991231-000000-{key}a", status="queued"))
    store.save_record(_record(f"20991231-000000-{key}b", status="success"))
    store.save_record(_record(f"20991231-000000-{key}c", status="running"))
    found = [
        r.thread_id[-1] for r in store.list_records({"queued", "running"}) if key in r.thread_id
    ]
    assert found == ["c", "a"]
