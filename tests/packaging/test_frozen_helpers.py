"""The frozen app's helpers (packaging/frozen_env.py, crash_report.py) and per-OS metadata,
checked without building: they are plain files and functions."""

from __future__ import annotations

import configparser
import plistlib
import re
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.packaging.conftest import PACKAGING, ROOT, load

frozen_env = load("frozen_env")
crash_report = load("crash_report")


# ---------------------------------------------------------------- frozen_env


def test_library_path_is_given_back_to_child_programs() -> None:
    env = {"LD_LIBRARY_PATH": "/opt/app/_internal", "LD_LIBRARY_PATH_ORIG": "/usr/local/lib"}
    frozen_env.restore_library_path(env)
    assert env["LD_LIBRARY_PATH"] == "/usr/local/lib"

    env = {"LD_LIBRARY_PATH": "/opt/app/_internal"}
    frozen_env.restore_library_path(env)
    assert "LD_LIBRARY_PATH" not in env


def paths(cafile: str | None, capath: str | None) -> ssl.DefaultVerifyPaths:
    return ssl.DefaultVerifyPaths(cafile, capath, "SSL_CERT_FILE", "", "SSL_CERT_DIR", "")


def test_ca_bundle_is_the_systems_where_the_build_machines_path_is_missing() -> None:
    fedora = {"/etc/pki/tls/certs/ca-bundle.crt"}
    build_machine = paths("/opt/build/ssl/cert.pem", "/opt/build/ssl/certs")
    assert (
        frozen_env.system_ca_bundle({}, build_machine, fedora.__contains__)
        == "/etc/pki/tls/certs/ca-bundle.crt"
    )


def test_ca_bundle_is_left_alone_when_it_works_or_the_user_chose() -> None:
    debian = paths("/usr/lib/ssl/cert.pem", "/usr/lib/ssl/certs")
    everything = {"/usr/lib/ssl/certs", "/etc/ssl/certs/ca-certificates.crt"}.__contains__
    assert frozen_env.system_ca_bundle({}, debian, everything) is None
    chosen = {"SSL_CERT_FILE": "/home/me/corp.pem"}
    assert frozen_env.system_ca_bundle(chosen, paths(None, None), lambda _: True) is None


def test_prepare_on_windows_changes_nothing() -> None:
    env = {"LD_LIBRARY_PATH": "/x"}
    frozen_env.prepare(env, platform="win32")
    assert env == {"LD_LIBRARY_PATH": "/x"}


# ---------------------------------------------------------------- crash_report


def test_crash_is_logged_and_shown_with_where_the_details_are(tmp_path: Path) -> None:
    shown: list[tuple[str, str]] = []
    try:
        raise RuntimeError("the proxy thread died")
    except RuntimeError as exc:
        message = crash_report.report_crash(
            exc,
            show_dialog=True,
            dialog=lambda title, text: shown.append((title, text)),
            log_path=tmp_path / "log" / "crash.log",
        )
    log = (tmp_path / "log" / "crash.log").read_text()
    assert "Traceback" in log
    assert "RuntimeError: the proxy thread died" in log
    assert shown == [(crash_report.TITLE, message)]
    assert "RuntimeError: the proxy thread died" in message
    assert str(tmp_path / "log" / "crash.log") in message


def test_no_dialog_for_headless_commands() -> None:
    assert crash_report.started_as_desktop_app(["ccf"])
    assert crash_report.started_as_desktop_app(["ccf", "--config", "x.yaml"])
    assert not crash_report.started_as_desktop_app(["ccf", "serve", "--port", "0"])
    assert not crash_report.started_as_desktop_app(["ccf", "--config", "x.yaml", "config", "path"])


def test_a_failing_dialog_does_not_hide_the_crash(tmp_path: Path) -> None:
    def broken(title: str, text: str) -> None:
        raise OSError("no display")

    message = crash_report.report_crash(
        ValueError("bad"), show_dialog=True, dialog=broken, log_path=tmp_path / "crash.log"
    )
    assert "ValueError: bad" in message
    assert "ValueError: bad" in (tmp_path / "crash.log").read_text()


def test_a_crash_that_names_a_key_shows_and_writes_it_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shown: list[str] = []
    key = "sk-ant-api03-CrashedWithTheKey0123"
    message = crash_report.report_crash(
        ValueError(f"upstream said invalid x-api-key {key}"),
        show_dialog=True,
        dialog=lambda title, text: shown.append(text),
        log_path=tmp_path / "crash.log",
    )
    written = [message, *shown, (tmp_path / "crash.log").read_text(), capsys.readouterr().err]
    assert all("invalid x-api-key ***" in text for text in written)
    assert not any(key in text for text in written)


# ---------------------------------------------------------------- per-OS metadata


def test_macos_info_plist_makes_a_menu_bar_app() -> None:
    with (PACKAGING / "macos" / "Info.plist").open("rb") as file:
        info = plistlib.load(file)
    assert info["LSUIElement"] is True
    assert info["CFBundleName"] == "Claude Code Fallback"
    spec = (PACKAGING / "ccf.spec").read_text()
    assert 'BUNDLE_ID = "io.github.claude-code-fallback"' in spec


def version_info_tree(version: str, numbers: str) -> Any:
    """Evaluate the version resource template with stand-ins for PyInstaller's classes
    (the real module imports Windows-only code)."""
    text = (PACKAGING / "windows" / "version_info.txt").read_text(encoding="utf-8")
    text = text.replace("{version_tuple}", numbers).replace("{version}", version)
    names = set(re.findall(r"\b([A-Z][A-Za-z]+)\(", text))
    namespace = {name: (lambda *a, _n=name, **k: (_n, a, k)) for name in names}
    return eval(text, namespace)  # the file is PyInstaller's Python-literal format


def test_windows_version_info_carries_the_version() -> None:
    tree = version_info_tree("1.2.3", "1, 2, 3, 0")
    assert tree[0] == "VSVersionInfo"
    fixed = tree[2]["ffi"]
    assert fixed[2]["filevers"] == (1, 2, 3, 0)
    strings = repr(tree[2]["kids"])
    assert "('StringStruct', ('ProductVersion', '1.2.3'), {})" in strings
    assert "('StringStruct', ('FileDescription', 'Claude Code Fallback'), {})" in strings


def test_linux_desktop_file() -> None:
    path = PACKAGING / "linux" / "claude-code-fallback.desktop"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(path)
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Name"] == "Claude Code Fallback"
    assert section["Icon"] == "claude-code-fallback"
    assert section["Terminal"] == "false"
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(
            ["desktop-file-validate", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def fake_unpacked_folder(where: Path) -> Path:
    folder = where / "apps" / "my $pecial %folder"
    (folder / "icons").mkdir(parents=True)
    for name in ("install.sh", "claude-code-fallback.desktop"):
        shutil.copy2(PACKAGING / "linux" / name, folder / name)
    for size in (256, 512):
        shutil.copy2(
            ROOT / "assets" / f"app-{size}.png",
            folder / "icons" / f"claude-code-fallback-{size}.png",
        )
    (folder / "ccf").write_text("#!/bin/sh\necho ccf\n")
    (folder / "ccf").chmod(0o755)
    return folder


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_install_sh_adds_a_menu_entry_and_removes_exactly_that(tmp_path: Path) -> None:
    folder = fake_unpacked_folder(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    subprocess.run(["sh", str(folder / "install.sh")], env=env, check=True, capture_output=True)
    data = home / ".local" / "share"
    desktop = (data / "applications" / "claude-code-fallback.desktop").read_text()
    assert 'Exec="' + str(folder).replace("$", "\\\\$").replace("%", "%%") + '/ccf"' in desktop
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / "claude-code-fallback.png").is_file()
    link = home / ".local" / "bin" / "ccf"
    assert link.resolve() == (folder / "ccf").resolve()
    if shutil.which("desktop-file-validate"):
        subprocess.run(
            ["desktop-file-validate", str(data / "applications" / "claude-code-fallback.desktop")],
            check=True,
        )

    subprocess.run(
        ["sh", str(folder / "install.sh"), "--uninstall"], env=env, check=True, capture_output=True
    )
    left = [p for p in home.rglob("*") if p.is_file() or p.is_symlink()]
    assert left == []
    assert (folder / "ccf").is_file()
