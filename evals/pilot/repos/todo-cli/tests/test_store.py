import json
from datetime import date

import pytest

from todo import store
from todo.model import Task


def test_a_missing_file_has_no_tasks(tmp_path):
    data = store.load(tmp_path / "none.json")
    assert data.tasks == [] and data.next_id == 1


def test_round_trip(tmp_path):
    path = tmp_path / "db.json"
    data = store.Data([Task(1, "Buy milk", "high", ["home"], date(2024, 5, 7))], next_id=2)
    store.save(path, data)
    assert store.load(path) == data
    assert json.loads(path.read_text())["version"] == 1


def test_save_leaves_no_temporary_file(tmp_path):
    store.save(tmp_path / "db.json", store.Data())
    assert [p.name for p in tmp_path.iterdir()] == ["db.json"]


def test_a_corrupt_file_is_a_store_error(tmp_path):
    path = tmp_path / "db.json"
    path.write_text("{not json")
    with pytest.raises(store.StoreError):
        store.load(path)


def test_new_id_counts_up():
    data = store.Data()
    assert [store.new_id(data), store.new_id(data)] == [1, 2]
    assert data.next_id == 3


def test_ids_of_removed_tasks_are_not_reused():
    data = store.Data()
    for title in ("a", "b"):
        data.tasks.append(Task(store.new_id(data), title))
    data.tasks = [t for t in data.tasks if t.id != 1]
    assert store.new_id(data) == 3


def test_find():
    data = store.Data([Task(4, "x")])
    assert data.find(4).title == "x"
    with pytest.raises(KeyError):
        data.find(5)
