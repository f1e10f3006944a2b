from datetime import date

from todo.model import Task
from todo.query import filter_tasks, sort_tasks, stats

TODAY = date(2024, 5, 6)


def _tasks():
    return [
        Task(1, "Buy milk", "normal", ["home"], date(2024, 5, 7)),
        Task(2, "File taxes", "high", ["admin"], date(2024, 5, 1)),
        Task(3, "Call mum", "low", ["home", "family"], None, done=True),
        Task(4, "Fix bike", "high", [], date(2024, 5, 7)),
        Task(5, "Old invoice", "normal", ["admin"], date(2024, 4, 1), done=True),
    ]


def _ids(tasks):
    return [t.id for t in tasks]


def test_open_tasks_by_default():
    assert _ids(filter_tasks(_tasks())) == [1, 2, 4]


def test_done_and_all():
    assert _ids(filter_tasks(_tasks(), status="done")) == [3, 5]
    assert _ids(filter_tasks(_tasks(), status="all")) == [1, 2, 3, 4, 5]


def test_filter_by_tag():
    assert _ids(filter_tasks(_tasks(), tag="home", status="all")) == [1, 3]


def test_filter_by_tag_ignores_case():
    assert _ids(filter_tasks(_tasks(), tag="HOME")) == [1]


def test_filter_by_priority():
    assert _ids(filter_tasks(_tasks(), priority="high")) == [2, 4]


def test_overdue_filter():
    assert _ids(filter_tasks(_tasks(), status="all", overdue=True, today=TODAY)) == [2]


def test_sort_soonest_due_first_undated_last():
    tasks = [Task(1, "a"), Task(2, "b", due=date(2024, 5, 9)), Task(3, "c", due=TODAY)]
    assert _ids(sort_tasks(tasks)) == [3, 2, 1]


def test_sort_higher_priority_first_on_the_same_day():
    assert _ids(sort_tasks(filter_tasks(_tasks()))) == [2, 4, 1]


def test_sort_oldest_first_when_all_else_ties():
    tasks = [Task(7, "x"), Task(3, "y"), Task(5, "z")]
    assert _ids(sort_tasks(tasks)) == [3, 5, 7]


def test_stats_counts():
    counts = stats(_tasks(), TODAY)
    assert counts["total"] == 5
    assert counts["open"] == 3
    assert counts["done"] == 2
    assert counts["by_priority"] == {"low": 0, "normal": 1, "high": 2}
    assert counts["by_tag"] == {"admin": 1, "home": 1}


def test_stats_overdue_counts_open_tasks_only():
    assert stats(_tasks(), TODAY)["overdue"] == 1
    late = [
        Task(1, "a", "normal", [], date(2024, 5, 1)),
        Task(2, "b", "normal", [], date(2024, 5, 2)),
        Task(3, "c", "normal", [], date(2024, 5, 3), done=True),
    ]
    assert stats(late, TODAY)["overdue"] == 2  # not the done ones counted instead
