"""Reads a package's imports from its source (every import, a function's own included: a lazy
import hides a cycle, it does not remove it) and checks them against the kit's layering rules.
Used by tests/test_layers.py on grader/, and on planted packages to show that the rules can fail."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a package's __init__ where no submodule is named)
    names: tuple  # the names taken with `from target import ...`
    line: int


def modules(package_dir: Path) -> dict:
    """Dotted module name -> file, for every module of the package (packages by their __init__)."""
    package_dir = Path(package_dir)
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = (package_dir.name, *path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(package_dir: Path) -> list[Import]:
    """Every import of one of the package's own modules by another of them."""
    mods = modules(package_dir)
    found = []
    for name, path in mods.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [Import(name, a.name, (), node.lineno) for a in node.names if a.name in mods]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name if is_package else name.rsplit(".", 1)[0]
                    for _ in range(node.level - 1):
                        base = base.rsplit(".", 1)[0]
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                if target not in mods:
                    continue
                plain = []
                for alias in node.names:
                    if f"{target}.{alias.name}" in mods:  # `from . import module`
                        found.append(Import(name, f"{target}.{alias.name}", (), node.lineno))
                    else:
                        plain.append(alias.name)
                if plain:
                    found.append(Import(name, target, tuple(plain), node.lineno))
    return [i for i in found if i.source != i.target]


def cycles(edges: list[Import]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    graph: dict = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def private_imports(edges: list[Import]) -> list[str]:
    """`from module import _name` between two modules: a private name used where it is not defined."""
    return [f"{e.source}:{e.line} imports {', '.join(n for n in e.names if n.startswith('_'))} from {e.target}"
            for e in edges if any(n.startswith("_") and not n.startswith("__") for n in e.names)]


def part_of(module: str, parts: dict) -> str:
    """The part (a key of ``parts``: part -> module prefixes) a module belongs to: the longest prefix."""
    best, length = "", -1
    for part, prefixes in parts.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = part, len(prefix)
    return best


def against_layers(edges: list[Import], layers: list[list[str]], parts: dict, allowed: set = frozenset()) -> list[str]:
    """Imports that go up the layers (``layers``: the parts, bottom first, several parts to a layer),
    or across between two parts of one layer (those are independent of each other) unless the pair
    (importing part, imported part) is in ``allowed``."""
    level = {part: n for n, layer in enumerate(layers) for part in layer}
    wrong = []
    for edge in edges:
        a, b = part_of(edge.source, parts), part_of(edge.target, parts)
        if not a or not b:
            wrong.append(f"{edge.source if not a else edge.target} belongs to no part of the layering")
        elif a != b and (level[a] < level[b] or level[a] == level[b] and (a, b) not in allowed):
            wrong.append(f"{edge.source}:{edge.line} ({a}) imports {edge.target} ({b})")
    return sorted(set(wrong))
