"""Environment fixes for the frozen app, applied by `entry.py` before anything else runs.

- Linux: PyInstaller's bootloader starts the app with `LD_LIBRARY_PATH` pointing into the
  bundle (the original value saved as `LD_LIBRARY_PATH_ORIG`). The dynamic loader of this
  process read it at start-up already, so putting the user's value back in `os.environ`
  changes nothing here, but every program started from here (xdg-open, the browser, WebKit's
  helper processes, notify-send) then loads the system's libraries instead of ours.
  `tray_app.desktop.child_env()` keeps working on top of this.
- Linux and macOS: the bundled OpenSSL looks for CA certificates where the build machine
  kept them. Where that path does not exist on this machine, point `SSL_CERT_FILE` at the
  system's bundle, so HTTPS to the providers verifies (Windows uses its own store).
"""

from __future__ import annotations

import os
import ssl
import sys
from collections.abc import Callable, MutableMapping

CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",  # macOS, Alpine
)


def restore_library_path(environ: MutableMapping[str, str]) -> None:
    original = environ.get("LD_LIBRARY_PATH_ORIG")
    if original:
        environ["LD_LIBRARY_PATH"] = original
    else:
        environ.pop("LD_LIBRARY_PATH", None)


def system_ca_bundle(
    environ: MutableMapping[str, str],
    defaults: ssl.DefaultVerifyPaths,
    exists: Callable[[str], bool] = os.path.exists,
) -> str | None:
    """The CA bundle to use, or None where OpenSSL's own default works (or the user chose)."""
    if environ.get("SSL_CERT_FILE") or environ.get("SSL_CERT_DIR"):
        return None
    if (defaults.cafile and exists(defaults.cafile)) or (
        defaults.capath and exists(defaults.capath)
    ):
        return None
    return next((path for path in CA_BUNDLES if exists(path)), None)


def prepare(environ: MutableMapping[str, str], platform: str = sys.platform) -> None:
    if platform.startswith("linux"):
        restore_library_path(environ)
    if platform != "win32":
        bundle = system_ca_bundle(environ, ssl.get_default_verify_paths())
        if bundle:
            environ["SSL_CERT_FILE"] = bundle
