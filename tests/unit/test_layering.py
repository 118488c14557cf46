"""The domain package stands alone: adapters live at the edge (STYLE.md, "Adapters at the edge")."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

LEDGER = Path(__file__).resolve().parents[2] / "ledger"
ALLOWED = {"__future__", "eventsourcing", "ledger"}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports (a relative import counts as its own package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("ledger" if node.level else (node.module or "").split(".")[0])
    return found


def test_the_ledger_imports_only_the_standard_library_eventsourcing_and_itself() -> None:
    modules = sorted(LEDGER.rglob("*.py"))
    assert len(modules) > 10, f"the ledger package was not found at {LEDGER}"
    foreign = {
        f"{path.relative_to(LEDGER.parent)}: {name}"
        for path in modules
        for name in imported_packages(path)
        if name not in ALLOWED and name not in sys.stdlib_module_names
    }
    assert not foreign, f"ledger/ imports beyond the standard library and eventsourcing: {foreign}"


def test_the_layering_check_sees_a_driver_import(tmp_path: Path) -> None:
    module = tmp_path / "adapter.py"
    module.write_text("import json\nfrom psycopg.sql import SQL\nfrom . import values\n")
    assert imported_packages(module) == {"json", "psycopg", "ledger"}
