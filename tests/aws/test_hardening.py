"""Hardening: no token to a host it was not issued for, no silent lock-out, no unbounded wait.

Each test is named after the guarantee it proves (``docs/SECURITY.md`` maps guarantees to tests).
Where a guarantee is about file ownership or modes, the helper runs as uid 65534 (root bypasses
modes) through ``support.run_as_nobody``; "another user" owns planted files as uid 12345.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docker_credential_ecr_py import _cache, _identity
from docker_credential_ecr_py._cache import Entry, FileCache, open_cache
from docker_credential_ecr_py._lean import checksum
from docker_credential_ecr_py._log import Log, one_line, redact
from docker_credential_ecr_py._settings import Settings
from support import (
    ACCESS_KEY,
    CONSOLE_SCRIPT,
    HOST,
    NOBODY,
    OTHER_UID,
    LockWaits,
    Runner,
    cache_entry,
    closed_url,
    jwt,
    nobody_tree,
    require,
    run_as_nobody,
    timed_get,
    without_static_keys,
    write_cache_file,
)
from support.standin import StandIn

ACCOUNT, REGION = "123456789012", "eu-west-2"
KEY = f"{REGION}-{checksum(ACCESS_KEY)}-{ACCOUNT}"
NOT_FOUND = b"credentials not found in native keychain\n"
ALIAS = "evil.example.com"


def entry_json(password: str, expires_in: float = 3600, host: str = HOST) -> dict[str, str]:
    now = time.time()
    return cache_entry(password, now, now + expires_in, host)


def secret_of(proc: subprocess.CompletedProcess[bytes]) -> str:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    value: str = json.loads(proc.stdout)["Secret"]
    return value


def chown_tree(path: Path, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(path, uid, uid)


# ------------------------------------------------------------------ a home for uid 65534


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    """A directory under /tmp owned by uid 65534 (removed afterwards)."""
    path = nobody_tree(tmp_path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def nobody_env(env: dict[str, str], tree: Path) -> dict[str, str]:
    """``env`` with a home, a temporary directory and Docker/AWS config paths uid 65534 owns."""
    home = tree / "home"
    tmp = tree / "tmp"
    for path in (home, tmp):
        path.mkdir(mode=0o700)
        os.chown(path, NOBODY, NOBODY)
    values = dict(env)
    values.update(
        {
            "HOME": str(home),
            "TMPDIR": str(tmp),
            "DOCKER_CONFIG": str(home / ".docker"),
            "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        }
    )
    return values


def nobody_cache_dir(env: dict[str, str]) -> Path:
    path = Path(env["HOME"]) / ".ecr"
    path.mkdir(mode=0o700, exist_ok=True)
    os.chown(path, NOBODY, NOBODY)
    return path


def alias_config(path: Path, mode: int = 0o600, owner: int = NOBODY) -> Path:
    path.write_text(f'[aliases]\n"{ALIAS}" = "{HOST}"\n"registry-1.docker.io" = "{HOST}"\n')
    os.chmod(path, mode)
    os.chown(path, owner, owner)
    return path


# ------------------------------------------------------------------ 1. config file trust


def test_config_file_of_the_user_gives_its_aliases(nobody_env: dict[str, str]) -> None:
    """The control case: the same alias, in a file only the user can write, is used."""
    alias_config(nobody_cache_dir(nobody_env) / "config.toml")
    proc = run_as_nobody(["get"], ALIAS.encode(), nobody_env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ServerURL"] == ALIAS
    assert b"ignoring" not in proc.stderr


def _plant(case: str, env: dict[str, str], tree: Path) -> Path:
    """Set up one untrusted config file; returns its path."""
    if case == "file-writable-by-others":
        return alias_config(nobody_cache_dir(env) / "config.toml", mode=0o666)
    if case == "directory-writable-by-others":
        shared = tree / "shared"
        shared.mkdir()
        os.chmod(shared, 0o777)  # not sticky: anyone may replace what is in it
        os.chown(shared, NOBODY, NOBODY)
        env["AWS_ECR_CONFIG_FILE"] = str(shared / "config.toml")
        return alias_config(shared / "config.toml")
    if case == "file-of-another-user":
        other = tree / "other"
        other.mkdir(mode=0o755)
        os.chown(other, OTHER_UID, OTHER_UID)
        env["AWS_ECR_CONFIG_FILE"] = str(other / "config.toml")
        return alias_config(other / "config.toml", mode=0o644, owner=OTHER_UID)
    if case == "symlink-of-another-user":
        mine = alias_config(tree / "mine.toml")
        link = nobody_cache_dir(env) / "config.toml"
        link.symlink_to(mine)
        os.lchown(link, OTHER_UID, OTHER_UID)
        return link
    if case == "cache-dir-of-another-user":
        # The review's case: AWS_ECR_CACHE_DIR names a directory someone else controls.
        shared = tree / "shared-cache"
        shared.mkdir(mode=0o755)
        alias_config(shared / "config.toml", mode=0o644, owner=OTHER_UID)
        os.chown(shared, OTHER_UID, OTHER_UID)
        env["AWS_ECR_CACHE_DIR"] = str(shared)
        return shared / "config.toml"
    raise AssertionError(case)


UNTRUSTED = [
    "file-writable-by-others",
    "directory-writable-by-others",
    "file-of-another-user",
    "symlink-of-another-user",
    "cache-dir-of-another-user",
]


@pytest.mark.parametrize("case", UNTRUSTED)
def test_untrusted_config_file_gives_no_alias(
    case: str, nobody_env: dict[str, str], tree: Path, standin: StandIn
) -> None:
    path = _plant(case, nobody_env, tree)
    for host in (ALIAS, "https://registry-1.docker.io"):  # credHelpers and credsStore shapes
        proc = run_as_nobody(["get"], host.encode(), nobody_env)
        assert proc.stdout == NOT_FOUND, proc.stderr
        assert proc.returncode == 1
        lines = [line for line in proc.stderr.decode().splitlines() if str(path) in line]
        assert len(lines) == 1, proc.stderr  # one line names the file and why
        assert "ignoring" in lines[0] and "Traceback" not in proc.stderr.decode()
    assert standin.count() == 0  # the victim's registry was never asked for a token
    # The registry itself still works: only the file is ignored.
    assert run_as_nobody(["get"], HOST.encode(), nobody_env).returncode == 0


@pytest.mark.parametrize("case", ["file-writable-by-others", "cache-dir-of-another-user"])
def test_doctor_fails_the_config_check_of_an_untrusted_file(
    case: str, nobody_env: dict[str, str], tree: Path
) -> None:
    path = _plant(case, nobody_env, tree)
    proc = run_as_nobody(["doctor", HOST], None, nobody_env)
    out = proc.stdout.decode()
    assert proc.returncode == 1, out
    config_lines = [line for line in out.splitlines() if " config " in line]
    assert config_lines and config_lines[0].split()[0] == "FAIL", out
    assert str(path) in config_lines[0]
    assert "chmod go-w" in out and "AWS_ECR_CONFIG_FILE" in out


def test_parsed_config_copy_is_never_read_from_a_refused_directory(
    nobody_env: dict[str, str], tree: Path, standin: StandIn
) -> None:
    """A planted ``.config.parsed.json`` that matches a trusted config file's stamp, in a cache
    directory the cache refused, gives no alias."""
    trusted = tree / "config.toml"
    trusted.write_text("# no aliases\n")
    os.chmod(trusted, 0o600)
    os.chown(trusted, NOBODY, NOBODY)
    st = trusted.stat()
    shared = tree / "shared-cache"
    shared.mkdir(mode=0o755)
    planted = {
        "source": str(trusted),
        "stamp": f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}",
        "aliases": {ALIAS: HOST},
        "profiles": {},
        "registries": [],
        "problems": [],
    }
    # The control: the same copy in the caller's own private cache directory is used (so the
    # planted document is one the helper would read, and only the directory refuses it).
    own = tree / "own-cache"
    own.mkdir(mode=0o700)
    (own / ".config.parsed.json").write_text(json.dumps(planted))
    chown_tree(own, NOBODY)
    nobody_env.update({"AWS_ECR_CACHE_DIR": str(own), "AWS_ECR_CONFIG_FILE": str(trusted)})
    served = run_as_nobody(["get"], ALIAS.encode(), nobody_env)
    assert served.returncode == 0, served.stderr
    assert standin.count() == 1
    (shared / ".config.parsed.json").write_text(json.dumps(planted))
    chown_tree(shared, OTHER_UID)
    nobody_env["AWS_ECR_CACHE_DIR"] = str(shared)
    proc = run_as_nobody(["get"], ALIAS.encode(), nobody_env)
    assert proc.stdout == NOT_FOUND, proc.stderr
    assert standin.count() == 1


def test_config_trust_follows_dotdot_from_where_the_link_really_is(tmp_path: Path) -> None:
    """``a/link -> b/dir`` and ``a/link/cfg.toml -> ../x/config.toml``: the kernel reads
    ``b/x/config.toml`` (here in a directory anyone may write), not ``a/x/config.toml``."""
    from docker_credential_ecr_py._config_file import untrusted

    for directory in ("a/x", "b/dir", "b/x"):
        (tmp_path / directory).mkdir(parents=True, mode=0o755)
    for directory in ("", "a", "b"):
        os.chmod(tmp_path / directory, 0o755)
    (tmp_path / "a" / "x" / "config.toml").write_text("# a decoy nobody reads\n")
    (tmp_path / "b" / "x" / "config.toml").write_text("# what is read\n")
    os.chmod(tmp_path / "b" / "x", 0o777)
    (tmp_path / "a" / "link").symlink_to(tmp_path / "b" / "dir")
    (tmp_path / "b" / "dir" / "cfg.toml").symlink_to("../x/config.toml")
    path = tmp_path / "a" / "link" / "cfg.toml"
    assert path.read_text() == "# what is read\n"
    assert str(tmp_path / "b" / "x") in untrusted(str(path))
    os.chmod(tmp_path / "b" / "x", 0o755)
    probe = tmp_path / "probe.toml"  # untrusted() judges a file and every directory above it
    probe.write_text("")
    why = untrusted(str(probe))
    require("a tmp_path below directories only root can write", not why, why)
    assert untrusted(str(path)) == ""


def test_config_trust_rules() -> None:
    """The rule itself, on paths root can make: sticky shared directories are fine, a
    group-writable directory on the way is not."""
    from docker_credential_ecr_py._config_file import untrusted

    assert untrusted("/etc/hostname") == ""  # root's file in root's directories
    assert "not a regular file" in untrusted("/dev/null")
    assert "not a regular file" in untrusted("/etc")


# ------------------------------------------------------------------ 2. symlink swap


def test_cache_works_in_the_directory_it_checked_even_after_a_swap(tmp_path: Path) -> None:
    """After the check, the path is replaced by a symlink to another directory: reads and
    writes still go to the checked one (every operation is relative to its descriptor)."""
    checked, elsewhere = tmp_path / "ecr", tmp_path / "elsewhere"
    elsewhere.mkdir()
    planted = write_cache_file(elsewhere, {KEY: entry_json("planted")}).read_bytes()
    settings = Settings({"HOME": str(tmp_path), "AWS_ECR_CACHE_DIR": str(checked)})
    cache, reasons = open_cache(settings, Log(""))
    assert isinstance(cache, FileCache) and not reasons
    try:
        os.rename(checked, tmp_path / "moved")
        os.symlink(elsewhere, checked)
        assert cache.lookup([KEY]) is None  # not the planted entry
        entry = Entry.from_json(entry_json("mine"))
        assert entry is not None
        cache.store(KEY, entry)
        with cache.fetch_lock(KEY, 1.0):
            pass
        cache.mark_failure("other", "boom")
    finally:
        cache.close()
    moved = json.loads((tmp_path / "moved" / "cache.json").read_text())
    assert KEY in moved["Registries"]
    assert (elsewhere / "cache.json").read_bytes() == planted  # untouched
    assert sorted(p.name for p in elsewhere.iterdir()) == ["cache.json"]  # nothing written there


def test_symlink_swap_race_never_serves_a_planted_token(
    nobody_env: dict[str, str], tree: Path, standin: StandIn
) -> None:
    """A symlink flipped between the victim's cache directory and another user's, as fast as
    it can be, while the victim runs 150 gets: the planted token is never printed (before the
    directory was held open, about one get in ten printed it)."""
    real = tree / "real"
    real.mkdir(mode=0o700)
    os.chown(real, NOBODY, NOBODY)
    attacker = tree / "attacker"
    write_cache_file(attacker, {KEY: entry_json("planted-by-another-user")})
    os.chmod(attacker, 0o755)
    os.chmod(attacker / "cache.json", 0o644)
    chown_tree(attacker, OTHER_UID)
    link = tree / "cache"
    link.symlink_to(real)
    # A get that misses (a fallback directory) fetches under load: a bound it cannot miss.
    nobody_env.update(AWS_ECR_CACHE_DIR=str(link), AWS_ECR_TIMEOUT="30")
    assert run_as_nobody(["get"], HOST.encode(), nobody_env).returncode == 0  # cached in real
    # The attacker flips the link in a process of its own, as fast as rename(2) goes.
    flipper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys\n"
            "os.nice(19)\n"  # the victims' gets come first on a loaded machine
            "link, a, b = sys.argv[1:]\n"
            "n = 0\n"
            "while True:\n"
            "    tmp = link + '.tmp'\n"
            "    os.symlink(a if n % 2 else b, tmp)\n"
            "    os.replace(tmp, link)\n"
            "    n += 1\n",
            str(link),
            str(attacker),
            str(real),
        ]
    )
    secrets: list[str] = []
    try:

        def victim(n: int) -> None:
            secrets.extend(
                secret_of(run_as_nobody(["get"], HOST.encode(), nobody_env)) for _ in range(n)
            )

        workers = [threading.Thread(target=victim, args=(75,)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(300)
        assert flipper.poll() is None  # it flipped all along
    finally:
        flipper.kill()
        flipper.wait()
    assert len(secrets) == 150
    assert "planted-by-another-user" not in secrets


# ------------------------------------------------------------------ 3. failure markers


def marker_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f".fetch-{_cache._key_hash(key)}.failed"


def test_failure_marker_from_the_future_does_not_block_fetches(
    run: Runner, home: Path, standin: StandIn
) -> None:
    """The clock was stepped back after a failure: a marker dated an hour ahead is ignored."""
    marker = marker_path(home / ".ecr", KEY)
    marker.parent.mkdir(mode=0o700)
    marker.write_text("ThrottlingException: slow down")
    future = time.time() + 3600
    os.utime(marker, (future, future))
    proc = run(["get"], HOST.encode())
    assert proc.returncode == 0, proc.stderr
    assert standin.count() == 1


def test_recent_failure_marker_says_why_it_answers_not_found(
    run: Runner, home: Path, standin: StandIn
) -> None:
    marker = marker_path(home / ".ecr", KEY)
    marker.parent.mkdir(mode=0o700)
    marker.write_text("ThrottlingException: slow down")
    proc = run(["get"], HOST.encode())
    assert proc.stdout == NOT_FOUND
    assert standin.count() == 0
    err = proc.stderr.decode()
    assert "ThrottlingException: slow down" in err and "cached failure, retrying in" in err
    assert len(err.splitlines()) == 1


def test_list_marker_from_the_future_does_not_stop_priming(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    env["AWS_REGION"] = REGION
    identity = _identity.resolve(env, str(home))
    marker = marker_path(home / ".ecr", _cache.default_registry_key(identity, REGION))
    marker.parent.mkdir(mode=0o700)
    marker.write_text("EndpointConnectionError")
    future = time.time() + 3600
    os.utime(marker, (future, future))
    proc = run(["list"], env_=env)
    assert proc.returncode == 0
    assert f"https://{HOST}" in json.loads(proc.stdout)
    # A current marker is honoured, and said.
    marker.write_text("EndpointConnectionError")
    other = dict(env, AWS_REGION="eu-west-1")
    identity = _identity.resolve(other, str(home))
    fresh = marker_path(home / ".ecr", _cache.default_registry_key(identity, "eu-west-1"))
    fresh.write_text("EndpointConnectionError: offline")
    calls = standin.count()
    proc = run(["list"], env_=other)
    assert standin.count() == calls
    assert "cached failure, retrying in" in proc.stderr.decode()


# ------------------------------------------------------------------ 17. pruning side files


def test_lock_and_marker_files_without_a_live_entry_are_pruned(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path), Log(""))
    try:
        names = {k: f".fetch-{_cache._key_hash(k)}" for k in ("live", "dead", "busy", "recent")}
        for key in ("dead", "busy"):
            (tmp_path / f"{names[key]}.lock").touch()
        old, ahead = time.time() - 3600, time.time() + 3600
        for key, when in (("dead", old), ("busy", ahead), ("recent", time.time())):
            path = tmp_path / f"{names[key]}.failed"
            path.write_text("boom")
            os.utime(path, (when, when))
        entry = Entry.from_json(entry_json("live"))
        assert entry is not None
        with cache.fetch_lock("live", 1.0), cache.fetch_lock("busy", 1.0):
            cache.store("live", entry)
        left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".fetch-"))
    finally:
        cache.close()
    assert left == sorted(
        [
            f"{names['live']}.lock",  # its entry is live
            f"{names['busy']}.lock",  # held by a fetch in progress
            f"{names['recent']}.failed",  # still counts
        ]
    )


def test_a_lock_pruned_while_waited_for_is_taken_again_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter that gets the flock of a file pruned meanwhile opens the new file, so two
    processes never hold "the" lock on two different files."""
    cache = FileCache(str(tmp_path), Log(""))
    try:
        held = cache.fetch_lock("k", 1.0)
        waits = LockWaits().watch(monkeypatch)
        got: list[Any] = []
        waiter = threading.Thread(target=lambda: got.append(cache.fetch_lock("k", 30.0)))
        waiter.start()
        waits.wait()  # the waiter has opened the file and is polling for the flock
        lock_path = tmp_path / f".fetch-{_cache._key_hash('k')}.lock"
        lock_path.unlink()  # what pruning does to a lock nobody holds
        held.release()
        waiter.join(10)
        assert got and got[0].acquired
        assert os.fstat(got[0].fd).st_ino == lock_path.stat().st_ino
        got[0].release()
    finally:
        cache.close()


# ------------------------------------------------------------------ 5. non-regular files


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("variable", "kind"),
    [
        ("AWS_CONFIG_FILE", "fifo"),
        ("AWS_CONFIG_FILE", "/dev/zero"),
        ("AWS_SHARED_CREDENTIALS_FILE", "fifo"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/zero"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "fifo"),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/dev/zero"),
    ],
)
def test_aws_file_that_is_not_a_regular_file_fails_fast(
    variable: str, kind: str, env: dict[str, str], fifo: Path, standin: StandIn
) -> None:
    # A bound far above what failing fast takes: an answer well below it was not a wait.
    env = dict(env, AWS_ECR_TIMEOUT="20")
    env[variable] = str(fifo) if kind == "fifo" else kind
    if variable == "AWS_WEB_IDENTITY_TOKEN_FILE":
        env = without_static_keys(env) | {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r"}
    if variable == "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE":
        env = without_static_keys(env) | {"AWS_CONTAINER_CREDENTIALS_FULL_URI": closed_url()}
    proc, elapsed = timed_get(env)
    assert proc.stdout == NOT_FOUND
    assert elapsed < 10
    err = proc.stderr.decode()
    assert f"{variable}=" in err and "not a regular file" in err and "Traceback" not in err
    assert standin.count() == 0


@pytest.mark.parametrize("what", ["AWS_ECR_CONFIG_FILE", "AWS_ECR_LOG_FILE", "cache.json"])
def test_helper_file_that_is_not_a_regular_file_is_ignored(
    what: str, env: dict[str, str], home: Path, fifo: Path, standin: StandIn
) -> None:
    env = dict(env, AWS_ECR_TIMEOUT="20", AWS_ECR_LOG_LEVEL="debug")
    if what == "cache.json":
        (home / ".ecr").mkdir(mode=0o700)
        os.mkfifo(home / ".ecr" / "cache.json")
    else:
        env[what] = str(fifo)
    for _ in range(2):
        proc, elapsed = timed_get(env)
        assert proc.returncode == 0, proc.stderr
        assert elapsed < 10
        assert b"Traceback" not in proc.stderr
    if what == "cache.json":  # replaced by a real file on the first write
        assert (home / ".ecr" / "cache.json").is_file() and standin.count() == 1


# ------------------------------------------------------------------ 6. huge timeouts


@pytest.mark.parametrize("value", ["1e12", "1e400"])  # 1e400 is finite, if not as a float
def test_huge_finite_timeout_means_very_long(value: str, run: Runner, env: dict[str, str]) -> None:
    proc = run(["get"], HOST.encode(), env_=dict(env, AWS_ECR_TIMEOUT=value))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    assert Settings({"AWS_ECR_TIMEOUT": value}).timeout >= 365 * 86400
    assert Settings({"AWS_ECR_TIMEOUT": value}).invalid == []


@pytest.mark.parametrize("value", ["abc", "inf", "+Infinity", "nan", "-1", "0"])
def test_unusable_timeout_falls_back_to_the_default_with_a_line(
    value: str, run: Runner, env: dict[str, str]
) -> None:
    assert Settings({"AWS_ECR_TIMEOUT": value}).timeout == 3.0
    proc = run(["get"], HOST.encode(), env_=dict(env, AWS_ECR_TIMEOUT=value))
    assert proc.returncode == 0
    assert f"AWS_ECR_TIMEOUT={value!r} is not a positive number" in proc.stderr.decode()


# ------------------------------------------------------------------ 7 and 8. what AWS says


class _ErrorEndpoint(http.server.BaseHTTPRequestHandler):
    message = ""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"__type": "AccessDeniedException", "message": self.message}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def error_endpoint() -> Iterator[tuple[str, type[_ErrorEndpoint]]]:
    """An ECR endpoint whose every answer is AccessDenied with the message the test sets."""
    handler = type("Handler", (_ErrorEndpoint,), {"message": ""})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


HOSTILE = "denied\r\n\x1b[2K\x1b[32mgot a token\x1b[0m\u2028fake\x85line\x7f\u202eevil\x07"


def test_control_characters_from_aws_are_escaped_on_stderr_and_in_the_log(
    env: dict[str, str], home: Path, error_endpoint: tuple[str, type[_ErrorEndpoint]]
) -> None:
    url, handler = error_endpoint
    handler.message = HOSTILE
    proc, _ = timed_get(dict(env, AWS_ENDPOINT_URL_ECR=url))
    assert proc.stdout == NOT_FOUND
    err = proc.stderr.decode()
    log = (home / ".ecr" / "log" / "ecr-login.log").read_text()
    for text in (err, log):
        assert "denied" in text and "\\x1b[2K" in text and "\\u2028" in text
        for raw in ("\r", "\x1b", "\u2028", "\x85", "\x7f", "\u202e", "\x07"):
            assert raw not in text
    assert err.count("\n") == 1 and err.endswith("\n")  # one line, however many AWS sent
    assert all(line.startswith('time="') for line in log.splitlines())


def test_one_line_escapes_every_control() -> None:
    controls = [*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), "\u2028", "\u2029"]
    text = one_line("".join(controls), " ")
    assert text.isprintable() and "\\x1b" in text and "\\r" in text and "\\x85" in text


def test_the_callers_own_aws_secrets_are_redacted(
    env: dict[str, str], home: Path, error_endpoint: tuple[str, type[_ErrorEndpoint]]
) -> None:
    """The caller's AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN values are known secrets from
    the start, even where no pattern would recognise them."""
    session = "plainsessionvalue"  # lower case only: no heuristic would catch it
    secret = "plainsecretvalue"
    url, handler = error_endpoint
    handler.message = f"echo {session} and {secret}"
    env = dict(env, AWS_ENDPOINT_URL_ECR=url, AWS_SESSION_TOKEN=session)
    env["AWS_SECRET_ACCESS_KEY"] = secret
    proc, _ = timed_get(env)
    log = (home / ".ecr" / "log" / "ecr-login.log").read_text()
    for text in (proc.stderr.decode(), log):
        assert "echo [REDACTED] and [REDACTED]" in text
        assert session not in text and secret not in text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("GET http://:hunter2pw@proxy.internal:3128/x", "GET http://:xxxxx@proxy.internal:3128/x"),
        ("GET http://hunter2token@proxy.internal/x", "GET http://xxxxx@proxy.internal/x"),
        ("GET https://user:hunter2pw@proxy.internal/x", "GET https://user:xxxxx@proxy.internal/x"),
        ("GET https://user:hun@er2@proxy.internal/x", "GET https://user:xxxxx@proxy.internal/x"),
        ("dsn pass=hunter2pw host=db", "dsn pass=[REDACTED] host=db"),
        ("dsn passwd=hunter2pw", "dsn passwd=[REDACTED]"),
        ("dsn PASSWORD: hunter2pw", "dsn PASSWORD: [REDACTED]"),
        ("sessionToken=hunter2pw", "sessionToken=[REDACTED]"),
        ("x-amz-security-token: hunter2pw", "x-amz-security-token: [REDACTED]"),
    ],
)
def test_redaction_covers_every_userinfo_and_password_shape(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_redaction_hides_an_authorization_header_whatever_its_scheme() -> None:
    for scheme in ("Basic", "Bearer", "AWS4-HMAC-SHA256"):
        out = redact(f"Authorization: {scheme} hunter2pw, other=1")
        assert "hunter2pw" not in out and out.startswith("Authorization: ")


def test_redaction_keeps_what_is_not_a_secret() -> None:
    text = "bypass=on host=123456789012.dkr.ecr.eu-west-2.amazonaws.com user@example.com"
    assert redact(text) == text


# ------------------------------------------------------------------ 13. signals and stdout


def get_inside_aws_call(
    env: dict[str, str], standin: StandIn, ignore_sigint: bool = False
) -> subprocess.Popen[bytes]:
    """A ``get`` started and waiting inside its AWS call (the stand-in holds the answer until
    ``standin.release()``)."""
    standin.default_fault = "hold"
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "get"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env, AWS_ECR_TIMEOUT="60"),
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if ignore_sigint
        else None,
    )
    assert proc.stdin is not None
    proc.stdin.write(HOST.encode())
    proc.stdin.close()
    proc.stdin = None
    deadline = time.monotonic() + 30
    while standin.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert standin.count() == 1, "the helper never reached its AWS call"
    return proc


def test_sigint_during_get_is_one_line_and_the_failure_status(
    env: dict[str, str], standin: StandIn
) -> None:
    proc = get_inside_aws_call(env, standin)
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        standin.release()
        if proc.poll() is None:
            proc.kill()
    assert out == b""
    assert err == b"docker-credential-ecr-login: interrupted\n"
    assert proc.returncode == 1


def test_an_ignored_sigint_stays_ignored(env: dict[str, str], standin: StandIn) -> None:
    """Under nohup (or as a background job of a script) SIGINT is ignored: still so."""
    proc = get_inside_aws_call(env, standin, ignore_sigint=True)
    try:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert proc.poll() is None  # still waiting for AWS
    finally:
        standin.release()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert json.loads(out)["Username"] == "AWS"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["get"], "cannot write the answer to stdout: No space left on device"),
        (["version"], "cannot write the answer to stdout: No space left on device"),
        (["list"], "cannot write the answer to stdout: No space left on device"),
        (["doctor", "example.com"], "doctor: error: No space left on device"),
        (["cache", "show"], "cache: error: No space left on device"),
        (["cache", "path"], "cache: error: No space left on device"),
    ],
)
def test_stdout_on_dev_full_is_one_line_and_the_failure_status(
    args: list[str], says: str, env: dict[str, str]
) -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [str(CONSOLE_SCRIPT), *args],
            input=b"example.com",
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert err.count("\n") == 1 and err.rstrip("\n").endswith(says), err


@pytest.mark.parametrize("args", ["get", "version", "doctor example.com", "cache path"])
def test_closed_stdout_is_one_line_and_the_failure_status(args: str, env: dict[str, str]) -> None:
    proc = subprocess.run(
        ["sh", "-c", f'exec "$0" {args} >&-', str(CONSOLE_SCRIPT)],
        input=b"example.com",
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert err.count("\n") == 1 and "standard output is closed" in err, err


# ------------------------------------------------------------------ 14. cache directory values


@pytest.mark.parametrize("value", ["relative/cache", "./cache", "~nobody/cache", "~root"])
def test_cache_dir_that_is_not_absolute_is_never_created_in_the_current_directory(
    value: str, env: dict[str, str], tmp_path: Path, standin: StandIn
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    fallback = tmp_path / "t"
    fallback.mkdir(mode=0o700)
    env = dict(env, AWS_ECR_CACHE_DIR=value, TMPDIR=str(fallback))
    proc, _ = timed_get(env, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert list(cwd.iterdir()) == []
    cache_file = fallback / f"docker-credential-ecr-login-{os.geteuid()}" / "cache.json"
    assert KEY in json.loads(cache_file.read_text())["Registries"]
    assert Settings({"AWS_ECR_CACHE_DIR": value, "HOME": "/h"}).cache_dir == ""


def test_relative_tmpdir_is_never_a_fallback_place() -> None:
    uid = os.geteuid()
    for tmpdir in ("reltmp", "./t", "~/t"):
        dirs = Settings({"TMPDIR": tmpdir, "XDG_RUNTIME_DIR": "run/user"}).fallback_dirs()
        assert dirs == [f"/tmp/docker-credential-ecr-login-{uid}"]


# ------------------------------------------------------------------ 15. HOME unset


def test_doctor_and_configure_docker_mean_the_same_config_json_without_home(
    nobody_env: dict[str, str], tree: Path
) -> None:
    """With HOME unset, both use the password database's home (uid 65534's is /nonexistent),
    whatever the current directory, and name the file."""
    env = {k: v for k, v in nobody_env.items() if k not in ("HOME", "DOCKER_CONFIG")}
    expected = "/nonexistent/.docker/config.json"
    for cwd in (tree, tree / "tmp"):
        doctor = run_as_nobody(["doctor", HOST], None, env, cwd=cwd)
        assert expected in doctor.stdout.decode(), doctor.stdout
        configure = run_as_nobody(["configure-docker", HOST], None, env, cwd=cwd)
        assert configure.returncode == 1  # uid 65534 may not create /nonexistent/.docker
        assert "/nonexistent/.docker" in configure.stderr.decode(), configure.stderr
        assert not (Path(cwd) / ".docker").exists()


# ------------------------------------------------------------------ 16. EKS Pod Identity


def pod_identity_env(env: dict[str, str], token_file: Path, sub: str) -> dict[str, str]:
    token_file.write_text(jwt({"iss": "https://oidc.eks.eu-west-2.amazonaws.com/id/X", "sub": sub}))
    return without_static_keys(env) | {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
    }


def test_pod_identity_service_accounts_do_not_share_cache_entries(
    env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    token = tmp_path / "token"  # the same projected path on every pod
    a = pod_identity_env(env, token, "system:serviceaccount:ci:job-a")
    key_a = _identity.resolve(a, str(home)).key_part
    b = pod_identity_env(env, token, "system:serviceaccount:ci:job-b")
    assert _identity.resolve(b, str(home)).key_part != key_a
    # The kubelet rotates the token; the service account (and so the entry) stays the same.
    token.write_text(
        jwt(
            {
                "iss": "https://oidc.eks.eu-west-2.amazonaws.com/id/X",
                "sub": "system:serviceaccount:ci:job-a",
                "exp": 2,
            },
            b"other",
        )
    )
    assert _identity.resolve(a, str(home)).key_part == key_a


def test_pod_identity_cache_hit_reads_no_credential_endpoint(
    run: Runner, env: dict[str, str], home: Path, tmp_path: Path, standin: StandIn
) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    try:
        pod = pod_identity_env(env, tmp_path / "token", "system:serviceaccount:ci:job-a")
        port = listener.getsockname()[1]
        pod["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"http://127.0.0.1:{port}/v1/credentials"
        part = _identity.resolve(pod, str(home)).key_part
        write_cache_file(
            home / ".ecr", {f"{REGION}-{part}-{ACCOUNT}": entry_json("from-the-cache")}
        )
        proc = run(["get"], HOST.encode(), env_=pod)
        assert secret_of(proc) == "from-the-cache"
        with pytest.raises(TimeoutError):  # nobody ever connected to the credential endpoint
            listener.accept()
    finally:
        listener.close()
    assert standin.count() == 0


def test_doctor_does_not_wait_on_a_fifo_config_json(env: dict[str, str], home: Path) -> None:
    docker = home / ".docker"
    docker.mkdir()
    os.mkfifo(docker / "config.json")
    started = time.monotonic()
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "doctor", HOST],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=dict(env, AWS_ECR_TIMEOUT="2"),
        timeout=60,
        check=False,
    )
    assert time.monotonic() - started < 2 + 5
    assert "not a regular file" in proc.stdout.decode(), proc.stdout


def test_tool_commands_escape_what_they_repeat_on_stderr(env: dict[str, str], home: Path) -> None:
    """configure-docker repeats the helper a config.json named before: a terminal escape in it
    reaches stderr escaped."""
    docker = home / ".docker"
    docker.mkdir()
    hostile = "evil\x1b]0;pwned\x07\r\x1b[2K"
    (docker / "config.json").write_text(json.dumps({"credHelpers": {HOST: hostile}}))
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "configure-docker", HOST],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "\\x1b]0;pwned\\x07\\r" in err
    assert "\x1b" not in err and "\r" not in err and "\x07" not in err
