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
        description="Inspect or clear the token cache (show is the default).",
        exit_codes=EXIT_CODES,
    )
    sub = parser.add_subparsers(dest="action", parser_class=parser.child)  # type: ignore[call-overload]
    show = sub.add_parser("show", help="list cached registries (no tokens)")
    show.add_argument("--json", action="store_true", help="one JSON object, for scripts")
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
    rows = []
    for key, entry in sorted(_cache.iter_entries(registries), key=lambda item: item[1].expires_at):
        if entry.expired(now):
            state = "expired"
        elif entry.fresh(now):
            state = "fresh"
        else:
            state = "refresh due"
        rows.append(
            {
                "registry": entry.proxy_endpoint.split("://", 1)[-1] or "?",
                "whose": "you" if mine in key else ("fingerprint" if "idfp:" in key else "other"),
                "requested": format_time(entry.requested_at)[:19] + "Z",
                "expires": format_time(entry.expires_at)[:19] + "Z",
                "state": state,
                "seconds_left": max(int(entry.expires_at - now), 0),
            }
        )
    if getattr(args, "json", False):
        import json

        doc = {"path": cache.path, "entries": rows}
        stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return 0
    stdout.write(f"{cache.path}\n")
    if not rows:
        stdout.write("  no cached tokens (the first get of a registry fetches one)\n")
    for row in rows:
        stdout.write(
            f"  {row['registry']:<56} {row['whose']:<11} requested {row['requested']} "
            f"expires {row['expires']}  {row['state']}\n"
        )
    return 0


EXIT_CODES = (
    ("0", "done (show: also when the cache is empty)"),
    (
        "1",
        "no file cache is in use (AWS_ECR_DISABLE_CACHE, no usable directory), or the cache "
        "could not be changed",
    ),
    ("2", "bad arguments"),
)
