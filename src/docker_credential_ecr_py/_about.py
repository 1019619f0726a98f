"""What this program is: the ``-v`` banner and the ``version`` line, and which build runs."""

from __future__ import annotations

import sys

from docker_credential_ecr_py import __version__
from docker_credential_ecr_py._protocol import NAME, PACKAGE


def build_flavour() -> str:
    """The console script, the PyInstaller onedir, or the static file.

    A frozen build carries its own ``_build_info`` (written by the PyInstaller spec).
    """
    if not getattr(sys, "frozen", False):
        return "console script"
    from docker_credential_ecr_py import _build_info

    return _build_info.FLAVOUR


def banner() -> str:
    """The ``-v`` / ``--version`` text."""
    return (
        f"{PACKAGE}: Amazon ECR credential helper ({NAME})\n"
        f"Version:    {__version__}\n"
        f"Build:      {build_flavour()}\n"
        f"Python:     {sys.version.split()[0]}\n"
    )


def version_line() -> str:
    """The ``version`` verb's line (docker-credential-helpers prints ``<name> (<package>) <v>``)."""
    return f"{NAME} ({PACKAGE}) {__version__}"
