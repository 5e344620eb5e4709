"""The package arrows of docs/architecture.md hold: ui -> devices -> kiosk, edge -> kiosk, central -> kiosk.

Checked on the source (every import statement, lazy ones inside functions included), so a shortcut
that would tie the edge daemon to Qt or the domain core to a driver fails here. The two composition
roots are named exceptions: kiosk/cli.py finds command groups by module name (no import statement),
and ui/demo.py runs edge and central as separate processes.
"""

from __future__ import annotations

import ast
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
