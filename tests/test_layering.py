"""The package arrows of docs/architecture.md hold: ui -> devices -> kiosk, edge -> kiosk, central -> kiosk.

Checked on the source (every import statement, lazy ones inside functions and TYPE_CHECKING ones
included), so a shortcut that would tie the edge daemon to Qt or the domain core to a driver fails here.
The two composition roots are named exceptions: kiosk/cli.py finds command groups by module name (no
import statement), and ui/demo/ runs edge and central as separate processes.

Inside a package the imports run one way too: no module imports one that (through others) imports it
back, no two parts of ui/ lean on each other, and no screen imports the shell around it (screens are
handed a ui.screens.host.ScreenHost).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kiosk", "devices", "ui", "edge", "central", "provisioning")
ALLOWED = {
    "kiosk": {"kiosk"},
    "devices": {"kiosk", "devices"},
    "ui": {"kiosk", "devices", "ui"},
    "edge": {"kiosk", "edge"},
    "central": {"kiosk", "central"},
    "provisioning": {"kiosk", "provisioning"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


def test_imports_follow_the_arrows():
    wrong = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for target in _imports(path) - ALLOWED[pkg]:
                wrong.append(f"{path.relative_to(ROOT)} imports {target}")
    assert not wrong, "\n".join(wrong)


# --- inside a package ------------------------------------------------------------------------------
def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """module -> the modules of `package` it imports, by every import statement in it (lazy and
    TYPE_CHECKING ones too); `from a import b` counts as importing a.b when that is a module."""
    modules = {module_name(root, p): p for p in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        here = name if is_pkg else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package this module is in
                    up = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join([*up, *([base] if base else [])])
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of nodes that import each other (directly or around a loop), each sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def parts_graph(graph: dict[str, set[str]], package: str) -> dict[str, set[str]]:
    """The same graph between the package's direct parts (ui.shell, ui.screens, ui.theme...)."""
    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    out: dict[str, set[str]] = {}
    for source, targets in graph.items():
        if source == package:
            continue
        out.setdefault(part(source), set()).update(part(t) for t in targets if t != package)
    return {k: v - {k} for k, v in out.items()}


def _say(groups: Iterable[list[str]]) -> str:
    return "\n".join(" <-> ".join(g) for g in groups)


# Cycles known and owned elsewhere, each to go (the test below fails once one is gone, to drop it here):
# edge/api.py adds the fleet-command relay's routes by a lazy import of the module that imports it back.
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycle_inside_a_package():
    found = [g for pkg in PACKAGES for g in cycles(import_graph(ROOT, pkg))]
    new = [g for g in found if g not in KNOWN_CYCLES]
    assert not new, "modules that import each other:\n" + _say(new)
    gone = [g for g in KNOWN_CYCLES if g not in found]
    assert not gone, "no longer a cycle, take it out of KNOWN_CYCLES:\n" + _say(gone)


def test_the_parts_of_ui_lean_one_way():
    found = cycles(parts_graph(import_graph(ROOT, "ui"), "ui"))
    assert not found, "parts of ui/ that import each other:\n" + _say(found)


def test_no_screen_imports_the_shell():
    graph = import_graph(ROOT, "ui")
    wrong = [f"{m} imports {t}" for m, targets in graph.items() if m.startswith("ui.screens")
             for t in sorted(targets) if t.startswith("ui.shell")]
    assert not wrong, "\n".join(wrong)


def test_a_cycle_behind_type_checking_or_in_a_function_is_found(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for init in (pkg / "__init__.py", pkg / "sub" / "__init__.py"):
        init.write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub.b import B\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import C\n")
    (pkg / "c.py").write_text("from pkg import a\n")
    (pkg / "d.py").write_text("import pkg.c\n")  # imports into the cycle, is not part of it
    graph = import_graph(tmp_path, "pkg")
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    assert cycles(parts_graph(graph, "pkg")) == [["pkg.a", "pkg.c", "pkg.sub"]]


def test_screens_ask_the_host_only_what_screen_host_declares():
    """A screen reaches the shell only through ui.screens.host.ScreenHost: every `host.x` a screen uses is
    declared there (so the window's other members stay the shell's own)."""
    host_tree = ast.parse((ROOT / "ui" / "screens" / "host.py").read_text(encoding="utf-8"))
    protocol = next(n for n in host_tree.body if isinstance(n, ast.ClassDef) and n.name == "ScreenHost")
    declared = {n.target.id for n in protocol.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    declared |= {n.name for n in protocol.body if isinstance(n, ast.FunctionDef)}

    def is_host(node: ast.expr) -> bool:
        return (isinstance(node, ast.Name) and node.id == "host") or (
            isinstance(node, ast.Attribute) and node.attr == "host" and isinstance(node.value, ast.Name)
            and node.value.id == "self")

    used: dict[str, set[str]] = {}
    for path in (ROOT / "ui" / "screens").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and is_host(node.value):
                used.setdefault(node.attr, set()).add(path.name)
    assert used, "the check found no host use at all: it would prove nothing"
    wrong = {name: sorted(files) for name, files in used.items() if name not in declared}
    assert not wrong, f"screens use host members ScreenHost does not declare: {wrong}"
