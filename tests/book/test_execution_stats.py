"""The execution statistics record and the page built from it."""

import json

import execution_stats as es
from conftest import ROOT, book_notebooks


def test_versions_name_python_and_the_lesson_packages():
    found = es.versions()
    assert set(found) == {"python", "torch", "numpy", "matplotlib", "ipywidgets"}
    assert all(found.values())


def test_record_keeps_whole_seconds_and_a_sorted_stable_file(tmp_path):
    path = tmp_path / "stats.json"
    es.record("book/b.ipynb", 12.6, "ok", path)
    es.record("book/a.ipynb", 3.2, "error", path)
    first = path.read_text()
    stats = json.loads(first)
    assert list(stats) == ["book/a.ipynb", "book/b.ipynb"]
    assert stats["book/b.ipynb"]["seconds"] == 13
    assert stats["book/a.ipynb"]["status"] == "error"
    es.record("book/b.ipynb", 12.9, "ok", path)
    assert path.read_text() == first  # same whole seconds: the file does not change


def test_rows_follow_the_chapters_and_say_when_one_was_never_run():
    stats = {"x.ipynb": {"seconds": 4, "status": "ok", "python": "3.11.7",
                         "torch": "2.13.0", "numpy": "2.4.6", "matplotlib": "3.11.2",
                         "ipywidgets": "8.1.9"}}
    rows = es.rows(stats, ["x.ipynb", "y.ipynb"])
    assert rows[0] == ("x.ipynb", "ok", "4", "3.11.7", "2.13.0", "2.4.6", "3.11.2", "8.1.9")
    assert rows[1][1].startswith("not recorded")
    assert all(len(r) == len(es.COLUMNS) for r in rows)


def test_the_committed_record_covers_every_chapter():
    stats = es.load()
    for path in book_notebooks():
        entry = stats[path.relative_to(ROOT).as_posix()]
        # The 30 s budget itself is enforced by tools/execute_notebooks.py.
        assert entry["status"] != "error" and entry["seconds"] >= 0
