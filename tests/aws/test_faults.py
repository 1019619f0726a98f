"""The fault matrix: every fault gets a correct answer or a clean "not found", within its bound.

Each case asserts the answer, the time it took (generous slack) and the cache file afterwards, and
records a row; ``make faults`` runs this file alone and prints the rows as one table (see
``pytest_terminal_summary`` in conftest.py). Invariants checked everywhere: no wrong or expired
credential is ever printed, ``cache.json`` always parses, no entry written by one process is lost
by another, every ``get`` answers within its bound.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docker_credential_ecr_py._lean import checksum
from support import (
    ACCESS_KEY,
    CONSOLE_SCRIPT,
    HOST,
    SECRET_KEY,
    cache_entry,
    closed_url,
    peak_rss_command,
    require,
    require_tool,
    spawn_get,
    timed_get,
    write_cache_file,
)
from support.standin import StandIn

pytestmark = pytest.mark.faults

ACCOUNT, REGION = "123456789012", "eu-west-2"
KEY = f"{REGION}-{checksum(ACCESS_KEY)}-{ACCOUNT}"
NOT_FOUND = b"credentials not found in native keychain\n"
BOUND = 3.0  # AWS_ECR_TIMEOUT's default
# Over the bound, for a fresh process timed from pytest: interpreter start and exit on a loaded
# 2-core machine (a get that waited for a hung endpoint would take its 60 s instead).
SLACK = 3.0
FAULT_ROWS: list[dict[str, Any]] = []
STDERR_SEEN: list[bytes] = []


# ------------------------------------------------------------------------------ harness


class Outcome:
    """One ``get``: what it printed, how long it took."""

    def __init__(self, proc: subprocess.CompletedProcess[bytes], elapsed: float) -> None:
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.code = proc.returncode
        self.elapsed = elapsed

    @property
    def secret(self) -> str | None:
        if self.code != 0:
            return None
        value: str = json.loads(self.stdout)["Secret"]
        return value


def get(env: dict[str, str], host: str = HOST, timeout: float = 60) -> Outcome:
    proc, elapsed = timed_get(env, host, timeout=timeout)
    STDERR_SEEN.append(proc.stderr)
    return Outcome(proc, elapsed)


def cache_path(home: Path) -> Path:
    return home / ".ecr" / "cache.json"


def cache_state(path: Path) -> tuple[str, dict[str, Any] | None]:
    """(label, registries) of a cache file; the label says if it is torn."""
    if not path.exists():
        return "absent", None
    try:
        doc = json.loads(path.read_text())
    except ValueError:
        return "TORN", None
    registries = doc.get("Registries") or {}
    return f"valid, {len(registries)} entr{'y' if len(registries) == 1 else 'ies'}", registries


def issued(standin: StandIn) -> dict[str, tuple[str, str | None, float]]:
    """password -> (account, region, expires_at) for every token the stand-in handed out."""
    out: dict[str, tuple[str, str | None, float]] = {}
    for call in standin.snapshot():
        if call.status != 200 or call.service != "ecr":
            continue
        lifetime = standin.lifetime
        if call.fault.startswith("expire-early:"):
            lifetime = float(call.fault.split(":", 1)[1])
        for account in call.registry_ids or [standin.default_account]:
            password = standin.password_template.format(
                account=account, region=call.region, serial=call.serial, service=call.service
            )
            out[password] = (account, call.region, call.time + lifetime)
    return out


def assert_credential_ok(
    outcome: Outcome, host: str, known: dict[str, tuple[str, str | None, float]]
) -> None:
    """A printed secret is one issued for this host's account and region, and not expired."""
    secret = outcome.secret
    if secret is None:
        assert outcome.stdout == NOT_FOUND, outcome.stdout
        return
    assert secret in known, f"{secret!r} was never issued"
    account, region, expires = known[secret]
    assert (account, region) == (host.split(".")[0], host.split(".")[3]), "wrong credential"
    assert expires > time.time(), "expired credential"


@pytest.fixture(autouse=True)
def secrets_stay_out_of_logs(tmp_path: Path, standin: StandIn) -> Iterator[None]:
    """After every fault case: no issued password, token or secret key in any log or stderr."""
    STDERR_SEEN.clear()
    yield
    secrets = {SECRET_KEY}
    for password in issued(standin):
        secrets.add(password)
        secrets.add(base64.b64encode(f"AWS:{password}".encode()).decode())
    logs = [p for p in tmp_path.rglob("*.log*") if p.is_file() and not p.is_symlink()]
    texts = [p.read_text(errors="replace") for p in logs]
    texts += [err.decode(errors="replace") for err in STDERR_SEEN]
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret reached a log or stderr: {secret[:6]}..."


@pytest.fixture
def row(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The table row of this case, filled in by the test, passed/failed set at teardown."""
    data: dict[str, Any] = {"case": request.node.name.removeprefix("test_"), "answer": "?"}
    data.update({"time": 0.0, "cache": "?", "bound": BOUND})
    yield data
    outcome = getattr(request.node, "rep_call", None)
    data["result"] = "pass" if outcome is not None and outcome.passed else "FAIL"
    FAULT_ROWS.append(data)


def record(row: dict[str, Any], outcome: Outcome, home: Path, answer: str | None = None) -> None:
    row["answer"] = answer or ("token" if outcome.code == 0 else "not found")
    row["time"] = outcome.elapsed
    row["cache"] = cache_state(cache_path(home))[0]


def write_cache(home: Path, entries: dict[str, Any]) -> None:
    write_cache_file(home / ".ecr", entries)


entry = cache_entry


def unshare_sh(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run a shell script as root in a private mount namespace (mounts vanish afterwards)."""
    require_tool("unshare")
    proc = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, "sh", *args],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    if proc.returncode == 125 or b"unshare failed" in proc.stderr:
        require("unshare --mount", False, repr(proc.stderr))
    return proc


# ------------------------------------------------------------------------------ AWS faults


@pytest.mark.parametrize(
    ("fault", "answer"),
    [
        ("refused", NOT_FOUND),
        ("hang", NOT_FOUND),
        ("latency:6", NOT_FOUND),  # slow beyond the timeout
        ("latency:1", None),  # slow within it
        ("denied", NOT_FOUND),
        ("invalid-token-creds", NOT_FOUND),
        ("bad-token", NOT_FOUND),
        ("no-colon-token", NOT_FOUND),
        ("malformed", NOT_FOUND),
        ("empty", NOT_FOUND),
        ("reset", NOT_FOUND),
    ],
)
def test_aws_fault(
    fault: str,
    answer: bytes | None,
    env: dict[str, str],
    home: Path,
    standin: StandIn,
    row: dict[str, Any],
) -> None:
    if fault == "refused":
        env["AWS_ENDPOINT_URL_ECR"] = closed_url()
    else:
        standin.default_fault = fault
    outcome = get(env)
    record(row, outcome, home)
    row["case"] = f"aws {fault}"
    assert outcome.elapsed < BOUND + SLACK
    if answer is None:
        assert_credential_ok(outcome, HOST, issued(standin))
        assert outcome.code == 0
        assert KEY in (cache_state(cache_path(home))[1] or {})
    else:
        assert outcome.stdout == answer
        assert outcome.code == 1
        assert b"Traceback" not in outcome.stderr
        state, registries = cache_state(cache_path(home))
        assert state != "TORN" and not registries  # nothing cached from a failure


@pytest.mark.parametrize("fault", ["throttle", "http429", "5xx", "503"])
def test_transient_then_recovering(
    fault: str, env: dict[str, str], home: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    standin.faults = [fault, fault]
    outcome = get(env)
    record(row, outcome, home)
    row["case"] = f"aws {fault} twice, then ok"
    assert outcome.code == 0
    assert standin.count() == 3
    assert_credential_ok(outcome, HOST, issued(standin))
    assert outcome.elapsed < BOUND + SLACK


def test_throttled_forever(
    env: dict[str, str], home: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    standin.default_fault = "throttle"
    outcome = get(env)
    record(row, outcome, home)
    assert outcome.stdout == NOT_FOUND
    assert outcome.elapsed < BOUND + SLACK


# ------------------------------------------------------------------------------ cached tokens


@pytest.mark.parametrize(
    ("name", "age", "left", "fault", "expect"),
    [
        # age: seconds since RequestedAt; left: seconds until ExpiresAt
        ("fresh", 3600, 11 * 3600, "ok", "cached"),
        ("past half-life, refresh ok", 7 * 3600, 5 * 3600, "ok", "new"),
        ("past half-life, refresh fails, 5 h left", 7 * 3600, 5 * 3600, "denied", "cached"),
        ("refresh fails, 6 min left", 12 * 3600 - 360, 360, "hang", "cached"),
        ("refresh fails, 4 min left", 12 * 3600 - 240, 240, "denied", "not found"),
        ("expired, refresh fails", 13 * 3600, -3600, "5xx", "not found"),
        ("expired, refresh ok", 13 * 3600, -3600, "ok", "new"),
    ],
)
def test_cached_token(
    name: str,
    age: float,
    left: float,
    fault: str,
    expect: str,
    env: dict[str, str],
    home: Path,
    standin: StandIn,
    row: dict[str, Any],
) -> None:
    now = time.time()
    write_cache(home, {KEY: entry("cached-password", now - age, now + left)})
    standin.default_fault = fault
    outcome = get(env)
    record(row, outcome, home, {"cached": "cached token", "new": "new token"}.get(expect))
    row["case"] = f"cache {name}"
    assert outcome.elapsed < BOUND + SLACK
    if expect == "cached":
        assert outcome.secret == "cached-password"
    elif expect == "new":
        assert_credential_ok(outcome, HOST, issued(standin))
        assert outcome.secret != "cached-password"
    else:
        assert outcome.stdout == NOT_FOUND
    if name == "fresh":
        assert standin.count() == 0
    else:
        assert standin.count() >= 1
    assert cache_state(cache_path(home))[0] != "TORN"


def test_token_expiring_early_is_never_served_expired(
    env: dict[str, str], home: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    standin.faults = ["expire-early:2"]
    first = get(env)
    assert first.code == 0
    time.sleep(2.2)
    standin.default_fault = "denied"
    outcome = get(env)
    record(row, outcome, home)
    assert outcome.stdout == NOT_FOUND  # the cached one has expired: never printed


# ------------------------------------------------------------------------------ cache files


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("corrupt", b"{nope not good json at all."),
        ("truncated", b'{"Registries": {"a": {"AuthorizationToken": "QVdT'),
        ("empty", b""),
        ("wrong version", b'{"Registries": {}, "Version": "0.1"}'),
        ("null entry", b'{"Registries": {"x": null}, "Version": "1.0"}'),
        ("null document", b"null"),
        ("registries not a map", b'{"Registries": [1, 2], "Version": "1.0"}'),
        ("huge", b'{"Registries": {}, "Version": "1.0", "pad": "' + b"x" * (17 << 20) + b'"}'),
    ],
)
def test_bad_cache_file(
    name: str,
    content: bytes,
    env: dict[str, str],
    home: Path,
    standin: StandIn,
    row: dict[str, Any],
) -> None:
    path = cache_path(home)
    path.parent.mkdir(mode=0o700)
    path.write_bytes(content)
    outcome = get(env)
    record(row, outcome, home)
    row["case"] = f"cache file {name}"
    assert outcome.code == 0
    assert_credential_ok(outcome, HOST, issued(standin))
    state, registries = cache_state(path)
    assert registries is not None and KEY in registries, state  # replaced by a valid file
    assert outcome.elapsed < BOUND + SLACK


def test_cache_dir_missing(
    env: dict[str, str], home: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    env["AWS_ECR_CACHE_DIR"] = str(home / "deep" / "new" / "dir")
    outcome = get(env)
    record(row, outcome, home)
    assert outcome.code == 0
    assert (home / "deep" / "new" / "dir" / "cache.json").exists()
    assert oct((home / "deep" / "new" / "dir").stat().st_mode & 0o777) == "0o700"


def test_cache_dir_is_a_file(
    env: dict[str, str], home: Path, tmp_path: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    (home / ".ecr").write_text("not a directory")
    env["TMPDIR"] = str(tmp_path)
    outcome = get(env)
    record(row, outcome, home)
    row["cache"] = (
        "fallback: "
        + cache_state(tmp_path / f"docker-credential-ecr-login-{os.geteuid()}" / "cache.json")[0]
    )
    assert outcome.code == 0
    assert (home / ".ecr").read_text() == "not a directory"
    assert (tmp_path / f"docker-credential-ecr-login-{os.geteuid()}" / "cache.json").exists()


def test_cache_dir_owned_by_another_user(
    env: dict[str, str], home: Path, tmp_path: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    planted = home / ".ecr"
    planted.mkdir()
    write_cache(home, {KEY: entry("planted-by-someone-else", time.time(), time.time() + 3600)})
    os.chown(planted, 65534, 65534)
    env["TMPDIR"] = str(tmp_path)
    outcome = get(env)
    record(row, outcome, home)
    assert outcome.code == 0
    assert outcome.secret != "planted-by-someone-else"  # never trust another user's cache
    assert_credential_ok(outcome, HOST, issued(standin))


def test_cache_dir_read_only(
    env: dict[str, str], home: Path, tmp_path: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    cache_dir = home / ".ecr"
    write_cache(home, {})
    env["TMPDIR"] = str(tmp_path)
    script = 'mount --bind -o ro "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" get'
    started = time.monotonic()
    proc = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, "sh", str(cache_dir), str(CONSOLE_SCRIPT)],
        input=HOST.encode(),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    outcome = Outcome(proc, time.monotonic() - started)
    if proc.returncode != 0 and b"mount" in proc.stderr:
        require("read-only bind mounts", False, repr(proc.stderr))
    record(row, outcome, home)
    assert outcome.code == 0, outcome.stderr
    assert_credential_ok(outcome, HOST, issued(standin))
    assert cache_state(cache_path(home))[1] == {}  # untouched
    fallback = tmp_path / f"docker-credential-ecr-login-{os.geteuid()}"
    assert KEY in (cache_state(fallback / "cache.json")[1] or {})
    assert "not writable" in (fallback / "log" / "ecr-login.log").read_text()


def test_disk_full_during_write(
    env: dict[str, str], home: Path, tmp_path: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    other = HOST.replace("eu-west-2", "eu-west-1")
    before = {
        KEY.replace("eu-west-2", "eu-west-1"): entry(
            "other", time.time(), time.time() + 9000, other
        )
    }
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"Registries": before, "Version": "1.0"}, indent=2))
    copy = tmp_path / "after.json"
    cache_dir = home / ".ecr"
    cache_dir.mkdir(mode=0o700)
    script = (
        'mount -t tmpfs -o size=12k,mode=0700 tmpfs "$1" && cp "$2" "$1/cache.json" && '
        '(dd if=/dev/zero of="$1/filler" bs=1k count=64 2>/dev/null; true) && '
        'printf %s "$4" | "$3" get > "$5.out"; rc=$?; cp "$1/cache.json" "$5"; exit $rc'
    )
    started = time.monotonic()
    proc = unshare_sh(script, env, str(cache_dir), str(seed), str(CONSOLE_SCRIPT), HOST, str(copy))
    elapsed = time.monotonic() - started
    out = Path(f"{copy}.out").read_bytes()
    outcome = Outcome(subprocess.CompletedProcess([], proc.returncode, out, proc.stderr), elapsed)
    record(row, outcome, home)
    row["cache"] = "kept: " + cache_state(copy)[0]
    assert outcome.code == 0, proc.stderr
    assert_credential_ok(outcome, HOST, issued(standin))
    assert json.loads(copy.read_text())["Registries"] == before  # the old file, intact


# ------------------------------------------------------------------------------ killed processes


def test_sigkill_mid_fetch(
    env: dict[str, str], home: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    standin.faults = ["latency:5"]
    proc = subprocess.Popen([str(CONSOLE_SCRIPT), "get"], stdin=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    proc.stdin.write(HOST.encode())
    proc.stdin.close()
    assert standin.wait_for_calls(1, timeout=10)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    outcome = get(env)  # the dead process's lock is gone with it: no wait
    record(row, outcome, home)
    assert outcome.code == 0
    assert outcome.elapsed < BOUND
    assert_credential_ok(outcome, HOST, issued(standin))


def test_sigkill_mid_write(
    env: dict[str, str], home: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    now = time.time()
    many = {
        f"eu-west-2-{checksum(f'AKID{n}')}-{n:012d}": entry(f"pw{n}", now, now + 9000)
        for n in range(20000)
    }
    write_cache(home, many)
    rng = random.Random(7)
    states = []
    for attempt in range(8):
        env["AWS_ECR_CACHE_DIR"] = str(home / ".ecr")
        host = f"{attempt + 1:012d}.dkr.ecr.eu-west-2.amazonaws.com"
        proc = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "get"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env
        )
        assert proc.stdin is not None
        proc.stdin.write(host.encode())
        proc.stdin.close()
        time.sleep(rng.uniform(0.3, 0.9))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state, registries = cache_state(cache_path(home))
        states.append(state)
        assert state != "TORN"
        assert registries is not None and len(registries) >= 20000  # nothing lost
    outcome = get(env)
    record(row, outcome, home)
    row["answer"] += f" ({len(set(states))} states seen)"
    assert outcome.code == 0


# ------------------------------------------------------------------------------ races


def test_fifty_processes_five_registries_with_faults(
    env: dict[str, str], home: Path, standin: StandIn, row: dict[str, Any]
) -> None:
    hosts = [f"{n}23456789012.dkr.ecr.eu-west-{n}.amazonaws.com" for n in range(1, 6)]
    standin.faults = [
        "throttle",
        "5xx",
        "denied",
        "latency:0.5",
        "http429",
        "malformed",
        "throttle",
    ]
    started = time.monotonic()
    procs = []
    for index in range(50):
        host = hosts[index % 5]
        procs.append((host, spawn_get(CONSOLE_SCRIPT, host, env), time.monotonic()))
    outcomes = []
    for host, proc, t0 in procs:
        out, err = proc.communicate(timeout=60)
        outcomes.append(
            (
                host,
                Outcome(
                    subprocess.CompletedProcess([], proc.returncode, out, err),
                    time.monotonic() - t0,
                ),
            )
        )
    known = issued(standin)
    for host, outcome in outcomes:
        assert b"Traceback" not in outcome.stderr
        assert_credential_ok(outcome, host, known)
        # A get may wait once for another process's fetch, then fetch itself. Each is timed
        # from its spawn to its collection, in order, with 50 interpreters sharing two cores:
        # generous slack (each process's own deadline runs from its own start).
        assert outcome.elapsed < 2 * BOUND + 10
    state, registries = cache_state(cache_path(home))
    # Every process that printed a token had it in the cache (it read it there, or stored it
    # before answering). A token the stand-in sent to a process that had already given up (its
    # deadline passed first: 50 interpreters starting on 2 cores) was never stored by anyone,
    # so it is not counted: only what was printed.
    printed = {known[o.secret][0] for _, o in outcomes if o.secret is not None}
    stored = {key.rsplit("-", 1)[1] for key in registries or {}}
    assert printed <= stored, "an entry written by one process was lost by another"
    ok = sum(1 for _, o in outcomes if o.code == 0)
    row.update(
        {
            "answer": f"{ok}/50 tokens, {50 - ok} not found",
            "time": max(o.elapsed for _, o in outcomes),
            "cache": state,
            "bound": 2 * BOUND,
        }
    )
    assert time.monotonic() - started < 60


# ------------------------------------------------------------------------------ answers not asked


def get_measured(env: dict[str, str], report: Path, host: str = HOST) -> tuple[Outcome, float]:
    """``get`` as above, and the peak RSS of its process in MiB."""
    started = time.monotonic()
    proc = subprocess.run(
        peak_rss_command(report, [str(CONSOLE_SCRIPT), "get"]),
        input=host.encode(),
        capture_output=True,
        env=env,
        timeout=60,
    )
    outcome = Outcome(proc, time.monotonic() - started)
    STDERR_SEEN.append(proc.stderr)
    return outcome, int(report.read_text()) / 1024  # KiB on Linux


@pytest.mark.parametrize("fault", ["huge", "huge-chunked"])
def test_huge_answer_is_not_found_within_the_bound_in_bounded_memory(
    fault: str,
    env: dict[str, str],
    home: Path,
    tmp_path: Path,
    standin: StandIn,
    row: dict[str, Any],
) -> None:
    # 200 MB of authorizationData (with its Content-Length, or chunked without one): at most
    # 1 MiB of it is read, so neither the time bound nor the memory goes with it.
    baseline_env = dict(env, AWS_ECR_CACHE_DIR=str(home / "baseline"))
    baseline, baseline_rss = get_measured(baseline_env, tmp_path / "baseline.rss")
    assert baseline.code == 0
    standin.default_fault = fault
    outcome, rss = get_measured(env, tmp_path / "huge.rss")
    record(row, outcome, home)
    row["case"] = f"aws {fault} (200 MB answer)"
    row["answer"] += f", {rss:.0f} MiB peak"
    assert outcome.stdout == NOT_FOUND
    assert b"response larger than 1 MiB" in outcome.stderr
    assert outcome.elapsed < BOUND + SLACK
    assert rss < baseline_rss + 64, (rss, baseline_rss)
    state, registries = cache_state(cache_path(home))
    assert state != "TORN" and not registries


@pytest.mark.parametrize(
    ("fault", "host", "cause"),
    [
        ("expired", HOST, b"ExpiredToken: AWS returned a token that expired at "),
        (
            "other-account",
            HOST,
            b"InvalidResponse: AWS returned a token for account 999999999999, not 123456789012",
        ),
        ("expired", "public.ecr.aws", b"ExpiredToken: AWS returned a token that expired at "),
        ("other-account", "public.ecr.aws", None),  # ECR Public tokens name no account
    ],
)
def test_token_not_for_what_was_asked_is_not_found_and_not_cached(
    fault: str,
    host: str,
    cause: bytes | None,
    env: dict[str, str],
    home: Path,
    standin: StandIn,
    row: dict[str, Any],
) -> None:
    standin.default_fault = fault
    outcome = get(env, host)
    record(row, outcome, home)
    row["case"] = f"aws {fault}" + (" (ecr-public)" if host == "public.ecr.aws" else "")
    assert outcome.elapsed < BOUND + SLACK
    assert b"Traceback" not in outcome.stderr
    state, registries = cache_state(cache_path(home))
    assert state != "TORN"
    if cause is None:
        assert outcome.code == 0
        assert registries and len(registries) == 1
        return
    assert outcome.stdout == NOT_FOUND
    assert outcome.code == 1
    assert cause in outcome.stderr
    assert outcome.stderr.count(b"\n") == 1
    assert not registries  # nothing cached from a token not for what was asked
    assert standin.count() == 1  # not retried: AWS would only say it again
    other = standin.password_template.format(
        account="999999999999", region=REGION, serial=1, service="ecr"
    )
    assert other.encode() not in outcome.stdout + outcome.stderr
