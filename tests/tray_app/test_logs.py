"""The log file: where it goes, rotation, redaction, tracebacks of crashed threads."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tray_app import logs


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    """Restore the root logger and the excepthooks after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = (sys.excepthook, threading.excepthook)
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks


def read(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("x-api-key: sk-ant-api03-abcdef", "x-api-key: ***"),
        ("X-Api-Key=sk-ant-api03-abcdef next", "X-Api-Key=*** next"),
        ("{'x-api-key': 'sk-ant-xyz', 'a': 1}", "{'x-api-key': '***', 'a': 1}"),
        ('{"authorization": "Bearer sk-or-v1-abc"}', '{"authorization": "Bearer ***"}'),
        ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer ***"),
        ("authorization=Basic dXNlcjpwYXNz;", "authorization=Basic ***;"),
        ("x-ccf-token: tok123", "x-ccf-token: ***"),
        ("authorization failed for user", "authorization failed for user"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_header_values_are_masked(line: str, expected: str) -> None:
    assert logs.RedactingFilter().redact(line) == expected


def test_registered_secrets_are_masked_anywhere() -> None:
    redactor = logs.RedactingFilter()
    redactor.add_secret("sk-or-v1-0123456789")
    redactor.add_secret("ab")  # too short to mask safely: ignored
    assert redactor.redact("body said sk-or-v1-0123456789!") == "body said ***!"
    assert redactor.redact("about a tab") == "about a tab"


def test_setup_logging_writes_redacted_file(tmp_path: Path, clean_root: logging.Logger) -> None:
    path = logs.setup_logging(tmp_path / "logs")
    assert path == tmp_path / "logs" / "ccf.log"
    logs.register_secret("key-from-keyring-42")
    log = logging.getLogger("proxy.upstream")
    log.info("headers %s", {"x-api-key": "sk-ant-123", "anthropic-version": "2023-06-01"})
    log.warning("upstream echoed key-from-keyring-42 back")
    text = read(path)
    assert "sk-ant-123" not in text
    assert "key-from-keyring-42" not in text
    assert "'x-api-key': '***'" in text
    assert "upstream echoed *** back" in text
    assert "INFO MainThread proxy.upstream:" in text


def test_tracebacks_are_redacted(tmp_path: Path, clean_root: logging.Logger) -> None:
    path = logs.setup_logging(tmp_path)
    try:
        raise ValueError("bad header authorization: Bearer sk-live-999")
    except ValueError:
        logging.getLogger("t").exception("request failed")
    text = read(path)
    assert "Traceback (most recent call last)" in text
    assert "sk-live-999" not in text
    assert "authorization: Bearer ***" in text


def test_crashed_thread_traceback_goes_to_the_log(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    path = logs.setup_logging(tmp_path)

    def proxy_loop() -> None:
        raise RuntimeError("event loop died")

    thread = threading.Thread(target=proxy_loop, name="ccf-proxy")
    thread.start()
    thread.join()
    text = read(path)
    assert "CRITICAL" in text
    assert "uncaught exception in ccf-proxy" in text
    assert "RuntimeError: event loop died" in text
    assert "in proxy_loop" in text


def test_log_file_rotates(
    tmp_path: Path, clean_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    path = logs.setup_logging(tmp_path, hooks=False)
    for i in range(200):
        logging.getLogger("t").info("line %d %s", i, "x" * 40)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ccf.log", "ccf.log.1", "ccf.log.2", "ccf.log.3"]
    assert path.stat().st_size <= 2000


def test_second_setup_replaces_handlers_and_keeps_secrets(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    logs.setup_logging(tmp_path / "a", hooks=False)
    logs.register_secret("first-secret-value")
    path = logs.setup_logging(tmp_path / "b", hooks=False)
    ours = [h for h in clean_root.handlers if logs._filters_of(h)]
    assert len(ours) == 1
    logging.getLogger("t").warning("leak first-secret-value?")
    assert "leak ***?" in read(path)


def test_console_handler_is_redacted_too(
    tmp_path: Path, clean_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.setup_logging(tmp_path, console=True, hooks=False)
    logging.getLogger("t").warning("x-api-key: sk-ant-console")
    assert "x-api-key: ***" in capsys.readouterr().err


def test_log_dir_is_the_platform_log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("XDG paths")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert logs.log_dir() == tmp_path / "claude-code-fallback" / "log"


def test_key_shaped_strings_are_masked_without_being_told(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    path = logs.setup_logging(tmp_path, hooks=False)
    logging.getLogger("t").warning("upstream said: invalid x-api-key sk-ant-api03-Zz9Yy8Xx7Ww6")
    text = read(path)
    assert "sk-ant" not in text
    assert "invalid x-api-key ***" in text


def test_log_files_are_private(tmp_path: Path, clean_root: logging.Logger) -> None:
    folder = tmp_path / "log"
    folder.mkdir(mode=0o755)
    (folder / "ccf.log.1").write_text("old\n")
    (folder / "ccf.log.1").chmod(0o644)  # left by an older version
    path = logs.setup_logging(folder, hooks=False)
    logging.getLogger("t").warning("hello")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
    assert (folder / "ccf.log.1").stat().st_mode & 0o777 == 0o600


def test_rotated_log_files_are_private_too(
    tmp_path: Path, clean_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 500)
    path = logs.setup_logging(tmp_path / "fresh" / "log", hooks=False)
    for i in range(50):
        logging.getLogger("t").info("line %d %s", i, "x" * 40)
    files = list(path.parent.iterdir())
    assert len(files) == 1 + logs.BACKUPS
    assert {p.stat().st_mode & 0o777 for p in files} == {0o600}
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_repeated_lines_are_collapsed(tmp_path: Path, clean_root: logging.Logger) -> None:
    path = logs.setup_logging(tmp_path, hooks=False)
    log = logging.getLogger("ccf.admin")
    log.info("before")
    for _ in range(5000):
        log.info("a settings sign-in link was refused")
    log.warning("after")
    lines = read(path).splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "before",
        "a settings sign-in link was refused",
        "last message repeated 4999 times",
        "after",
    ]


def test_a_long_run_of_repeats_is_summed_up_as_it_goes() -> None:
    now = [0.0]
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect()
    handler.addFilter(logs.RepeatCollapser(handler, clock=lambda: now[0]))
    log = logging.getLogger("test.collapse")
    log.propagate = False
    log.addHandler(handler)
    try:
        for _ in range(40):  # one a second
            log.warning("flood")
            now[0] += 1.0
        log.warning("done")
    finally:
        log.removeHandler(handler)
    assert seen == [
        "flood",
        "last message repeated 30 times",  # after 30 s of them
        "last message repeated 9 times",
        "done",
    ]
