"""Build Claude Code Fallback for this OS, pack it, and smoke-test the frozen binary.

    python packaging/build.py                # PyInstaller → dist/, pack, smoke test
    python packaging/build.py --skip-build   # check, pack and smoke-test what dist/ holds

Run it with the project's Python environment (`pip install -e .[dev] pyinstaller`). It
exits non-zero if PyInstaller, the contents check, packing or any smoke check fails,
prints sizes and timings, and writes them to `dist/build-report.json`.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

from smoke import read_version, run_smoke  # noqa: E402

from proxy import APP_SLUG, PRODUCT_NAME  # noqa: E402
from proxy.core.errors import BuildError, SmokeError  # noqa: E402

SPEC = HERE / "ccf.spec"
SLUG = APP_SLUG
PRODUCT = PRODUCT_NAME
MB = 1_000_000

# Modules that must be in the frozen app, and modules of other toolkits that must not.
APP_MODULES = ("tray_app.cli", "tray_app.tray", "proxy.foreground", "proxy.admin.page", "webview")
FOREIGN_TOOLKITS = ("tkinter", "PyQt5", "PyQt6", "PySide2", "PySide6", "qtpy", "cefpython3")
TOOLKIT_MODULES = {
    "linux": ("gi", "pystray._appindicator", "pystray._gtk", "webview.platforms.gtk"),
    "macos": ("pystray._darwin", "webview.platforms.cocoa"),
    "windows": ("pystray._win32", "webview.platforms.winforms", "webview.platforms.edgechromium"),
}
ALL_BACKENDS = {m for modules in TOOLKIT_MODULES.values() for m in modules} | {
    "pystray._xorg",
    "webview.platforms.qt",
    "webview.platforms.cef",
}
FOREIGN_FILES = ("libQt", "Qt6", "Qt5", "libtk", "libtcl", "_tkinter", "tcl8", "tk8")
DATA_FILES = ("assets/tray-green-22.png", "assets/app-256.png", "ui/static/index.html")
LINUX_EXTRAS = (
    f"{SLUG}.desktop",
    "install.sh",
    "README.txt",
    f"icons/{SLUG}-256.png",
    f"icons/{SLUG}-512.png",
)


@dataclass(frozen=True)
class Target:
    """What one OS's build produces."""

    os_name: str
    app: Path  # the folder (or .app) that is packed
    binary: Path  # the executable that also runs `--version` and `serve` from a terminal
    contents: Path  # PyInstaller's contents directory (data files, libraries)
    archive: Path
    gui_binary: Path | None = None  # Windows: the windowed .exe next to ccf.exe


def arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


def target_for(dist: Path, version: str, platform_name: str = sys.platform) -> Target:
    if platform_name.startswith("linux"):
        app = dist / SLUG
        archive = dist / f"{SLUG}-{version}-linux-{arch()}.tar.gz"
        return Target("linux", app, app / "ccf", app / "_internal", archive)
    if platform_name == "darwin":
        app = dist / f"{PRODUCT}.app"
        archive = dist / f"{SLUG}-{version}-macos-{arch()}.zip"
        return Target(
            "macos",
            app,
            app / "Contents" / "MacOS" / "ccf",
            app / "Contents" / "Frameworks",
            archive,
        )
    app = dist / PRODUCT
    archive = dist / f"{SLUG}-{version}-windows-{arch()}.zip"
    return Target(
        "windows", app, app / "ccf.exe", app / "_internal", archive, app / f"{PRODUCT}.exe"
    )


# ---------------------------------------------------------------- steps


def run_pyinstaller(dist: Path, work: Path, clean: bool) -> None:
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    command += ["--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    if clean:
        command.insert(3, "--clean")
    print("+", " ".join(command), flush=True)
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
        raise BuildError("PyInstaller failed (its output is above)")


def frozen_modules(binary: Path) -> set[str]:
    from PyInstaller.archive.readers import pkg_archive_contents

    return set(pkg_archive_contents(str(binary)))


def check_contents(target: Target) -> None:
    """The app's modules and data are in, this OS's toolkit is in, no other toolkit is."""
    modules = frozen_modules(target.binary)
    wanted = (*APP_MODULES, *TOOLKIT_MODULES[target.os_name])
    missing = [m for m in wanted if m not in modules]
    if missing:
        raise BuildError(f"the frozen app lacks {', '.join(missing)}")
    own = set(TOOLKIT_MODULES[target.os_name])
    foreign = sorted(
        m
        for m in modules
        if (m in ALL_BACKENDS and m not in own) or m.split(".")[0] in FOREIGN_TOOLKITS
    )
    if foreign:
        raise BuildError(f"another GUI toolkit got into the build: {', '.join(foreign[:10])}")
    files = [p for p in target.app.rglob("*") if any(f in p.name for f in FOREIGN_FILES)]
    if files:
        raise BuildError(f"another toolkit's libraries got into the build: {files[:5]}")
    absent = [name for name in DATA_FILES if not (target.contents / name).is_file()]
    if target.os_name == "linux":
        absent += [name for name in LINUX_EXTRAS if not (target.app / name).is_file()]
    if absent:
        raise BuildError(f"files missing from {target.app}: {', '.join(absent)}")


def pack(target: Target) -> None:
    target.archive.unlink(missing_ok=True)
    if target.os_name == "linux":
        with tarfile.open(target.archive, "w:gz", compresslevel=9) as tar:
            tar.add(target.app, arcname=target.app.name)
    elif target.os_name == "macos":  # ditto keeps the bundle's symlinks, modes and signature
        subprocess.run(
            [
                "ditto",
                "-c",
                "-k",
                "--sequesterRsrc",
                "--keepParent",
                str(target.app),
                str(target.archive),
            ],
            check=True,
        )
    else:
        with zipfile.ZipFile(target.archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for path in sorted(target.app.rglob("*")):
                zf.write(path, path.relative_to(target.app.parent))


def tree_size(path: Path) -> int:
    """Bytes of the regular files under `path` (symlinks counted as links, not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def check_gui_binary(target: Target, version: str) -> None:
    """The windowed .exe has no console; with pipes it still answers `--version`."""
    if target.gui_binary is None:
        return
    result = subprocess.run(
        [str(target.gui_binary), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"{target.gui_binary.name} --version exited {result.returncode}")
    if result.stdout.strip() not in ("", f"ccf {version}"):
        raise BuildError(f"{target.gui_binary.name} --version printed {result.stdout!r}")


def timed(label: str, step: Callable[[], Any], timings: dict[str, float]) -> Any:
    started = time.perf_counter()
    print(f"== {label}", flush=True)
    result = step()
    timings[label] = round(time.perf_counter() - started, 1)
    return result


def build(args: argparse.Namespace) -> dict[str, Any]:
    version = read_version(ROOT)
    target = target_for(args.dist, version)
    timings: dict[str, float] = {}
    if not args.skip_build:
        timed("pyinstaller", lambda: run_pyinstaller(args.dist, args.work, args.clean), timings)
    timed("contents", lambda: check_contents(target), timings)
    timed("pack", lambda: pack(target), timings)
    smoke = timed("smoke", lambda: run_smoke(target.binary, version, args.starts), timings)
    check_gui_binary(target, version)
    return {
        "version": version,
        "os": target.os_name,
        "arch": arch(),
        "app": str(target.app),
        "binary": str(target.binary),
        "archive": str(target.archive),
        "folder_bytes": tree_size(target.app),
        "archive_bytes": target.archive.stat().st_size,
        "seconds": timings,
        "python": platform.python_version(),
        "pyinstaller": pyinstaller_version(),
        "smoke": smoke,
    }


def pyinstaller_version() -> str:
    import PyInstaller

    return str(PyInstaller.__version__)


def summary(report: dict[str, Any]) -> str:
    smoke = report["smoke"]
    return "\n".join(
        [
            f"built   {report['app']} ({report['folder_bytes'] / MB:.1f} MB)",
            f"packed  {report['archive']} ({report['archive_bytes'] / MB:.1f} MB)",
            f"smoke   {smoke['version']}; POST /v1/messages streamed through "
            f"{smoke['request']['attempts']!r}",
            f"cold start to /health: median {smoke['cold_start_median_seconds']:.2f} s "
            f"of {smoke['cold_start_seconds']}",
            "seconds " + ", ".join(f"{k} {v}" for k, v in report["seconds"].items()),
        ]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "build" / "pyinstaller",
        help="PyInstaller's work folder",
    )
    parser.add_argument("--skip-build", action="store_true", help="use what --dist already holds")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's caches first")
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time")
    args = parser.parse_args(argv)
    args.dist, args.work = args.dist.resolve(), args.work.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        report = build(args)
    except (BuildError, SmokeError, subprocess.CalledProcessError, OSError) as exc:
        print(f"build FAILED: {exc}", file=sys.stderr)
        return 1
    report["seconds"]["total"] = round(time.perf_counter() - started, 1)
    (args.dist / "build-report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
