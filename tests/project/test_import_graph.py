"""tools/import_graph.py: the helper package has no import cycle and no module reads
another's private names; and the check catches both."""

import import_graph


def test_the_package_has_no_cycle_and_no_reach_into_privates(capsys):
    assert import_graph.main([]) == 0
    out = capsys.readouterr().out
    # The live view only when the live figure is asked for (it brings the recording in).
    assert "explorer -> controls, errors, live_view*, plots\n" in out
    assert "live_view -> recording\n" in out
    assert "recorded -> explorer, recording\n" in out


def test_cycles_and_private_access_are_caught(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n    return g()\n")
    (pkg / "b.py").write_text("from .a import _hidden\n\ndef g(x):\n    return x._inner\n")
    graph, lazy, problems = import_graph.analyse(pkg)
    assert graph["pkg.a"] == {"pkg.b"} and ("pkg.a", "pkg.b") in lazy
    assert any("import cycle: pkg.a -> pkg.b -> pkg.a" in p for p in problems)
    assert any("imports private _hidden" in p for p in problems)
    assert any("reads private attribute x._inner" in p for p in problems)
    assert import_graph.main([str(pkg)]) == 1
