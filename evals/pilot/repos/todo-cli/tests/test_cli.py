import json
from datetime import date

import pytest

from todo.cli import main

TODAY = date(2024, 5, 6)


@pytest.fixture
def todo(tmp_path, capsys):
    db = tmp_path / "todo.json"

    def run(*args):
        code = main(["--db", str(db), *args], today=TODAY)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _listed(todo, *args):
    code, out, _ = todo("list", "--json", *args)
    assert code == 0
    return json.loads(out)


def test_add_and_list(todo):
    assert todo("add", "Buy milk", "--tag", "Home", "--due", "tomorrow")[:2] == (
        0,
        "Added task 1: Buy milk\n",
    )
    code, out, _ = todo("list")
    assert code == 0
    assert out == "  1 [ ] normal Buy milk  #home  due 2024-05-07 (tomorrow)\n"


def test_add_json(todo):
    code, out, _ = todo("add", "Pay rent", "-p", "high", "--json")
    assert code == 0
    assert json.loads(out) == {
        "id": 1,
        "title": "Pay rent",
        "priority": "high",
        "tags": [],
        "due": None,
        "done": False,
    }


def test_add_with_a_bad_due_date_is_an_error(todo):
    code, out, err = todo("add", "x", "--due", "someday")
    assert code == 1 and out == ""
    assert err.startswith("error: not a due date")
    assert _listed(todo) == []


def test_empty_list(todo):
    assert todo("list") == (0, "No tasks.\n", "")


def test_list_tag_filter_ignores_case(todo):
    todo("add", "Buy milk", "--tag", "home")
    todo("add", "Write report", "--tag", "work")
    assert [t["title"] for t in _listed(todo, "--tag", "HOME")] == ["Buy milk"]


def test_list_shows_high_priority_first(todo):
    todo("add", "later", "-p", "low")
    todo("add", "now", "-p", "high")
    todo("add", "sometime")
    assert [t["title"] for t in _listed(todo)] == ["now", "sometime", "later"]


def test_list_overdue(todo):
    todo("add", "late", "--due", "2024-05-01")
    todo("add", "fine", "--due", "+2d")
    todo("add", "late but done", "--due", "2024-04-01")
    todo("done", "3")
    assert [t["title"] for t in _listed(todo, "--overdue")] == ["late"]


def test_done_and_undo(todo):
    todo("add", "a")
    assert todo("done", "1")[:2] == (0, "Done: 1 a\n")
    assert _listed(todo) == []
    assert [t["done"] for t in _listed(todo, "--done")] == [True]
    assert todo("undo", "1")[:2] == (0, "Open again: 1 a\n")
    assert [t["title"] for t in _listed(todo)] == ["a"]


def test_done_unknown_id_is_an_error(todo):
    todo("add", "a")
    code, out, err = todo("done", "9")
    assert code == 1
    assert err == "error: no task with id 9\n"


def test_done_with_one_unknown_id_changes_nothing(todo):
    todo("add", "a")
    assert todo("done", "1", "9")[0] == 1
    assert [t["done"] for t in _listed(todo, "--all")] == [False]


def test_rm(todo):
    todo("add", "a")
    todo("add", "b")
    assert todo("rm", "1")[:2] == (0, "Removed 1 task(s)\n")
    assert [t["id"] for t in _listed(todo)] == [2]


def test_rm_then_add_gets_a_fresh_id(todo):
    todo("add", "a")
    todo("add", "b")
    todo("rm", "1")
    todo("add", "c")
    assert [t["id"] for t in _listed(todo)] == [2, 3]


def test_clear_removes_done_tasks(todo):
    for title in ("a", "b", "c"):
        todo("add", title)
    todo("done", "1", "3")
    assert todo("clear")[:2] == (0, "Removed 2 done task(s)\n")
    assert [t["title"] for t in _listed(todo, "--all")] == ["b"]


def test_clear_json(todo):
    todo("add", "a")
    todo("done", "1")
    assert json.loads(todo("clear", "--json")[1]) == {"removed": [1]}
    assert json.loads(todo("clear", "--json")[1]) == {"removed": []}


def test_stats(todo):
    todo("add", "a", "--tag", "home", "--due", "2024-05-01")
    todo("add", "b", "-p", "high")
    todo("add", "c", "--due", "2024-05-02")
    todo("done", "3")
    code, out, _ = todo("stats", "--json")
    assert code == 0
    counts = json.loads(out)
    assert (counts["total"], counts["open"], counts["done"]) == (3, 2, 1)
    assert counts["overdue"] == 1
    assert counts["by_tag"] == {"home": 1}
    text = todo("stats")[1]
    assert "total: 3" in text and "by tag: #home 1" in text


def test_a_wrong_command_line_exits_2(todo):
    with pytest.raises(SystemExit) as exc:
        todo("frobnicate")
    assert exc.value.code == 2


def test_a_corrupt_task_file_is_an_error(tmp_path, capsys):
    db = tmp_path / "todo.json"
    db.write_text("[1, 2")
    assert main(["--db", str(db), "list"], today=TODAY) == 1
    assert capsys.readouterr().err.startswith("error: cannot read")
