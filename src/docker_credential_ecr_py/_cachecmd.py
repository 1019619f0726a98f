"""``docker-credential-ecr-login cache [show|path|clear]``: look at or empty the token cache.

``show`` lists entries (registry, whose, requested, expires, state) and never a token; ``clear``
removes every entry, or with ``--expired`` only the expired ones, keeping the file valid.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import TextIO

from docker_credential_ecr_py import _cache
from docker_credential_ecr_py._config import Settings
from docker_credential_ecr_py._helper import EcrHelper


def cache_main(argv: list[str], stdout: TextIO, stderr: TextIO, env: Mapping[str, str]) -> int:
    """Run a cache subcommand."""
    parser = argparse.ArgumentParser(
        prog="docker-credential-ecr-login cache", description="Inspect or clear the token cache."
    )
    sub = parser.add_subparsers(dest="action")
    sub.add_parser("show", help="list cached registries (no tokens)")
    sub.add_parser("path", help="print the cache file in use")
    clear = sub.add_parser("clear", help="remove cached tokens")
    clear.add_argument("--expired", action="store_true", help="only the expired ones")
    args = parser.parse_args(argv)
    helper = EcrHelper(Settings(env))
    cache = helper.cache()
    if isinstance(cache, _cache.NullCache):
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
        except _cache.CacheError as err:
            stderr.write(f"docker-credential-ecr-login: {err}\n")
            return 1
        remaining = len(cache.registries())
        stdout.write(f"{cache.path}: {len(registries) - remaining} removed, {remaining} kept\n")
        return 0
    mine = helper.identity().key_part
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
            f"  {host:<56} {whose:<11} requested {_cache.format_time(entry.requested_at)[:19]}Z "
            f"expires {_cache.format_time(entry.expires_at)[:19]}Z  {state}\n"
        )
    return 0
