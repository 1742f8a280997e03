"""Import cycles among segstudio's modules, counting every import, those inside functions too.

An ``import`` inside a function hides a cycle from Python (both modules are complete by the time
the function runs) but not from a reader: the two modules still need each other, neither can be
understood, tested or moved alone, and the order in which they first load decides whether the
program starts. So this reads each module's source (no import is executed) and takes every
``import`` and ``from ... import`` anywhere in it -- module level, functions, methods,
``if TYPE_CHECKING`` blocks -- as an edge of the import graph, then reports the strongly connected
components: each is a set of modules that reach one another, with one cycle through them shown.

Edges: ``import a.b.c`` points at the deepest of ``a.b.c``, ``a.b`` that is a module of the tree;
``from a.b import c`` at the module ``a.b.c`` when there is one, else at ``a.b`` (a name defined in
its ``__init__`` or module). A package's own ``__init__`` importing its submodules is an edge like
any other; the implicit load of the parent packages is not one.

    python tests/tools/import_cycles.py [PREFIX ...]

prints every cycle (or those touching a module under a PREFIX, e.g. ``segstudio.model``) and exits
with 1 when there is one. tests/test_layers.py runs the same check.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def module_files(root: Path, package: str = "segstudio") -> dict[str, Path]:
    """Every module of ``package`` under ``root`` (the folder that holds the package): name → file."""
    found: dict[str, Path] = {}
    base = root / package
    for path in sorted(base.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, path: Path, level: int, target: str | None) -> str:
    """The absolute module a ``from``'s (level, module) names, seen from module ``name``."""
    if level == 0:
        return target or ""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imports_of(name: str, path: Path, modules: Iterable[str]) -> set[str]:
    """The modules of ``modules`` that ``name`` (the source in ``path``) imports anywhere."""
    known = set(modules)

    def deepest(dotted: str) -> str | None:
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in known:
                return candidate
        return None

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                hit = deepest(alias.name)
                if hit:
                    found.add(hit)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(name, path, node.level, node.module)
            for alias in node.names:
                child = f"{source}.{alias.name}"
                hit = child if child in known else deepest(source)
                if hit:
                    found.add(hit)
    found.discard(name)
    return found


def import_graph(root: Path = REPO, package: str = "segstudio") -> dict[str, set[str]]:
    """module → the modules it imports (within ``package``), every import counted."""
    files = module_files(root, package)
    return {name: imports_of(name, path, files) for name, path in files.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The components of more than one module (Tarjan's algorithm, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module: ``[a, b, ..., a]``."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return component


def cycles(prefixes: Iterable[str] = (), root: Path = REPO) -> list[list[str]]:
    """One cycle per strongly connected component of segstudio's import graph; only components
    with a module under one of ``prefixes`` when any are given."""
    graph = import_graph(root)
    wanted = tuple(prefixes)
    found = []
    for component in strongly_connected(graph):
        if not wanted or any(m == p or m.startswith(p + ".") for m in component for p in wanted):
            found.append(one_cycle(graph, component))
    return found


def main(argv: list[str]) -> int:
    found = cycles(argv)
    for cycle in found:
        print(" -> ".join(cycle))
    print(f"{len(found)} import cycle{'' if len(found) == 1 else 's'}"
          + (f" touching {', '.join(argv)}" if argv else ""))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
