"""The core stays pure: no module under proxy/core imports I/O, clocks or event loops."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import proxy.core

BANNED = frozenset({"aiohttp", "asyncio", "os", "time", "socket", "subprocess", "pathlib"})
CORE = Path(proxy.core.__file__).parent
SOURCES = sorted(CORE.rglob("*.py"))


def imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.partition(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            roots.add(str(node.args[0].value).partition(".")[0])
    return roots


def test_the_core_has_the_modules_we_test() -> None:
    names = {path.relative_to(CORE).as_posix() for path in SOURCES}
    expected = {"config.py", "config_yaml.py", "models.py", "health.py", "plan.py", "classify.py",
                "sse.py", "body.py", "shaping.py", "status.py"}  # fmt: skip
    assert expected <= names


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(CORE).as_posix() for p in SOURCES])
def test_no_core_module_imports_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert not imported_roots(tree) & BANNED


def test_the_checker_sees_every_import_form() -> None:
    source = "import os.path\nfrom time import monotonic\nimport json\nfrom . import x\n__import__('socket')\n"
    assert imported_roots(ast.parse(source)) == {"os", "time", "json", "socket"}
