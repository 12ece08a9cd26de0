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


STATEFUL_DECORATORS = frozenset({"lru_cache", "cache", "cached_property"})


def kept_state(tree: ast.AST) -> list[str]:
    """Module state in disguise: memoising decorators and `global` rebinding."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.append(f"global {', '.join(node.names)}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = (
                    target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                )
                if name in STATEFUL_DECORATORS:
                    found.append(f"@{name} on {node.name}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(CORE).as_posix() for p in SOURCES])
def test_no_core_module_keeps_state_between_calls(path: Path) -> None:
    assert not kept_state(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))


def test_the_state_checker_sees_caches_and_globals() -> None:
    source = (
        "@functools.lru_cache(maxsize=8)\ndef a(): pass\n@cache\ndef b(): pass\n"
        "def c():\n    global X\n"
    )
    assert kept_state(ast.parse(source)) == ["@lru_cache on a", "@cache on b", "global X"]


def test_the_checker_sees_every_import_form() -> None:
    source = "import os.path\nfrom time import monotonic\nimport json\nfrom . import x\n__import__('socket')\n"
    assert imported_roots(ast.parse(source)) == {"os", "time", "json", "socket"}
