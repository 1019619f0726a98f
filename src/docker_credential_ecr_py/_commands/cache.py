"""``docker-credential-ecr-login cache [show|path|clear]``: look at or empty the token cache.

``show`` lists entries (registry, whose, requested, expires, state) and never a token; ``clear``
removes every entry, or with ``--expired`` only the expired ones, keeping the file valid.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TextIO

from docker_credential_ecr_py import _cache
from docker_credential_ecr_py._commands.common import Parser
from docker_credential_ecr_py._errors import CacheError
from docker_credential_ecr_py._lean import format_time

if TYPE_CHECKING:
    from docker_credential_ecr_py._context import Context


def main(argv: list[str], ctx: Context, stdout: TextIO, stderr: TextIO) -> int:
    """Run a cache subcommand."""
    parser = Parser(
        stdout,
        stderr,
        prog="docker-credential-ecr-login cache",
        description="Inspect or clear the token cache.",
    )
    sub = parser.add_subparsers(dest="action", parser_class=parser.child)  # type: ignore[call-overload]
    sub.add_parser("show", help="list cached registries (no tokens)")
    sub.add_parser("path", help="print the cache file in use")
    clear = sub.add_parser("clear", help="remove cached tokens")
    clear.add_argument("--expired", action="store_true", help="only the expired ones")
    args = parser.parse_args(argv)  # Exit is handled by _commands.run
    cache = ctx.cache
    if not cache.persistent:
        stderr.write("docker-credential-ecr-login: no file cache is in use\n")
        return 1
    action = args.action or "show"
    if action == "path":
        stdout.write(cache.path + "\n")
        return 0
    registries = cache.registries()
    now = time.time()
    if action == "clear":
        try:
            if args.expired:
                cache.prune()
            else:
                cache.clear()
        except CacheError as err:
            stderr.write(f"docker-credential-ecr-login: {err}\n")
            return 1
        remaining = len(cache.registries())
        stdout.write(f"{cache.path}: {len(registries) - remaining} removed, {remaining} kept\n")
        return 0
    mine = ctx.identity().key_part
    stdout.write(f"{cache.path}\n")
    for key, entry in sorted(_cache.iter_entries(registries), key=lambda item: item[1].expires_at):
        host = entry.proxy_endpoint.split("://", 1)[-1] or "?"
        if entry.expired(now):
            state = "expired"
        elif entry.fresh(now):
            state = "fresh"
        else:
            state = "refresh due"
        whose = "you" if mine in key else ("fingerprint" if "idfp:" in key else "other key")
        stdout.write(
            f"  {host:<56} {whose:<11} requested {format_time(entry.requested_at)[:19]}Z "
            f"expires {format_time(entry.expires_at)[:19]}Z  {state}\n"
        )
    return 0
