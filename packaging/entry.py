"""The frozen app's entry point: PyInstaller runs this file as `__main__`.

First the environment fixes of `frozen_env` (also in the settings window's child process),
then `multiprocessing.freeze_support()`, so that the `spawn` child (which re-runs this
executable) becomes that child instead of a second app. A crash that escapes
`tray_app.cli.main` is written to the log directory and, when the app was started as a
desktop app (no subcommand), shown in a dialog: a double-clicked app has no terminal.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

EX_SOFTWARE = 70


def run() -> int:
    from tray_app.cli import main

    return main()


if __name__ == "__main__":
    from frozen_env import prepare

    prepare(os.environ)
    multiprocessing.freeze_support()
    try:
        code = run()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        from crash_report import report_crash, started_as_desktop_app

        report_crash(exc, show_dialog=started_as_desktop_app(sys.argv))
        code = EX_SOFTWARE
    sys.exit(code)
