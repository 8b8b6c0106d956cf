"""The helper package's import graph, and a check that it has no cycle and no reach
into another module's private names.

    python tools/import_graph.py [PACKAGE_DIR]     # default: src/convergence_lab

Prints one line per module: the package's modules it imports (at module level or
inside a function: a lazy import closes a cycle just the same). Exits 1, naming each
problem, on

* an import cycle, lazy or not;
* ``from .x import _name``: a private name taken from another module;
* ``obj._name`` (or ``getattr(obj, "_name")``) on anything but ``self`` or ``cls``:
  another object's private attribute. The few third-party privates the recorder must
  read (matplotlib has no public getter) are listed in ``THIRD_PARTY_PRIVATES``.

Standard library only (``ast``): the check reads the source, it imports nothing.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "convergence_lab"
#: Private attributes of other libraries' objects that may be read, with the reason.
THIRD_PARTY_PRIVATES = {
    "_dash_pattern": "matplotlib Line2D: the drawn (width-scaled) dash pattern has no getter",
    "_linespacing": "matplotlib Text: get_linespacing is missing in Colab's matplotlib",
    "_BatchNorm": "torch: the one base class of every batch-norm layer",
    "_DropoutNd": "torch: the one base class of every dropout layer",
}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def modules(package: Path) -> dict[str, Path]:
    """Dotted module names (``convergence_lab.recording.format``) to their files."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def analyse(package: Path = PACKAGE):
    """``(graph, lazy, problems)``: each module's imported package modules, the
    edges made only inside functions, and what is wrong."""
    mods = modules(package)
    top = package.name
    graph: dict[str, set[str]] = {m: set() for m in mods}
    eager: set[tuple[str, str]] = set()
    problems: list[str] = []
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(package.parent)
        in_function = {id(n) for f in ast.walk(tree)
                       if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for n in ast.walk(f)}

        def edge(target, node, mod=mod, in_function=in_function):
            graph[mod].add(target)
            if id(node) not in in_function:
                eager.add((mod, target))

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == top or alias.name.startswith(top + "."):
                        edge(_known(alias.name, mods), node)
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(mod, path.name == "__init__.py", node)
                if not (target == top or target.startswith(top + ".")):
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edge(sub if sub in mods else _known(target, mods), node)
                    if _private(alias.name):
                        problems.append(f"{where}:{node.lineno}: imports private "
                                        f"{alias.name} from {target}")
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                    continue
                if node.attr not in THIRD_PARTY_PRIVATES:
                    problems.append(f"{where}:{node.lineno}: reads private attribute "
                                    f"{ast.unparse(node)}")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) >= 2
                  and isinstance(node.args[1], ast.Constant)
                  and isinstance(node.args[1].value, str) and _private(node.args[1].value)
                  and node.args[1].value not in THIRD_PARTY_PRIVATES):
                problems.append(f"{where}:{node.lineno}: {node.func.id} of private "
                                f"attribute {node.args[1].value!r}")
        graph[mod].discard(mod)
    lazy = {(a, b) for a in graph for b in graph[a] if (a, b) not in eager}
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return graph, lazy, problems


def _known(name: str, mods) -> str:
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a closed path) per strongly connected group of modules."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def main(argv: list[str]) -> int:
    package = Path(argv[0]).resolve() if argv else PACKAGE
    graph, lazy, problems = analyse(package)
    prefix = package.name + "."
    print("module -> the package's modules it imports (* only inside a function)")
    for mod in sorted(graph):
        deps = sorted(d.removeprefix(prefix) + ("*" if (mod, d) in lazy else "")
                      for d in graph[mod])
        print(f"{mod.removeprefix(prefix)} -> {', '.join(deps) or '(nothing)'}")
    for problem in problems:
        print("PROBLEM:", problem)
    print(f"{len(graph)} modules, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
