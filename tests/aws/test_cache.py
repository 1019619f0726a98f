"""The token cache: Go-compatible file format and keys, validity, hygiene, permissions, fallbacks.

Facts checked here come from the Go helper (anchor study section 4, feasibility section 5): the
``cache.json`` layout written by ``json.MarshalIndent``, the key shapes including the legacy
MD5-quirk keys, the half-life validity rule, and that a bad cache is never fatal.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from docker_credential_ecr_py import _cache, _identity, _registry, _settings, _token
from docker_credential_ecr_py import _lean as _hashing
from docker_credential_ecr_py._cache import Entry
from docker_credential_ecr_py._context import Context
from docker_credential_ecr_py._helper import EcrHelper
from docker_credential_ecr_py._lean import format_time
from docker_credential_ecr_py._settings import Settings
from support import ACCESS_KEY, CONSOLE_SCRIPT, HOST, Runner, require, require_tool
from support.standin import StandIn

TOKEN = base64.b64encode(b"AWS:password").decode()  # entries decode their token

ACCOUNT = "123456789012"
REGION = "eu-west-2"
KEY_PART = "Gl1EotyhlmnXLt9MTxwnxMHKS0QI+7F/bOStRS143bM="  # checksum(ACCESS_KEY)
LEGACY_PART = _hashing.legacy_checksum(ACCESS_KEY)
OUR_KEY = f"{REGION}-{KEY_PART}-{ACCOUNT}"
FIELDS = ["AuthorizationToken", "RequestedAt", "ExpiresAt", "ProxyEndpoint", "Service"]
# Go's time.Time JSON: RFC 3339, fraction with trailing zeros trimmed (RFC3339Nano), Z or offset.
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,8}[1-9])?(Z|[+-]\d{2}:\d{2})")
HOUR = 3600.0


# ---------------------------------------------------------------------------------------------
# helpers


def host_for(account: str, region: str = REGION) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def private_key(account: str, part: str = KEY_PART, region: str = REGION) -> str:
    return f"{region}-{part}-{account}"


def token(password: str, user: str = "AWS") -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def go_time(epoch: float, offset_hours: int = 0, digits: int = 9) -> str:
    """A timestamp as Go's time.Time marshals it (RFC3339Nano), in a fixed offset."""
    nanos = round(epoch * 1e9)
    seconds, frac = divmod(nanos, 1_000_000_000)
    zone = dt.timezone(dt.timedelta(hours=offset_hours))
    moment = dt.datetime.fromtimestamp(seconds, zone)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{frac:09d}"[:digits].rstrip("0")
    if fraction:
        text += "." + fraction
    return text + ("Z" if offset_hours == 0 else moment.isoformat()[-6:])


def go_entry(
    password: str,
    requested: float,
    expires: float,
    proxy: str,
    service: str | None = "ecr",
    requested_offset: int = 0,
) -> dict[str, str]:
    entry = {
        "AuthorizationToken": token(password),
        "RequestedAt": go_time(requested, requested_offset, 9),
        "ExpiresAt": go_time(expires, 0, 3),
        "ProxyEndpoint": proxy,
    }
    if service is not None:
        entry["Service"] = service
    return entry


def go_file(registries: dict[str, Any]) -> str:
    """``json.MarshalIndent(cache, "", "  ")``: struct order, sorted map keys, no newline."""
    doc = {"Registries": dict(sorted(registries.items())), "Version": "1.0"}
    return json.dumps(doc, indent=2)


def fresh_entry(password: str, account: str = ACCOUNT, **kw: Any) -> dict[str, str]:
    now = time.time()
    return go_entry(password, now - HOUR, now + 11 * HOUR, "https://" + host_for(account), **kw)


def validate_go_file(path: Path) -> dict[str, Any]:
    """Parse ``path`` under the Go helper's rules and return its ``Registries``."""
    text = path.read_text()
    doc = json.loads(text)
    assert list(doc) == ["Registries", "Version"]
    assert doc["Version"] == "1.0"
    registries = doc["Registries"]
    assert isinstance(registries, dict)
    assert list(registries) == sorted(registries)  # Go sorts map keys
    assert text == json.dumps(doc, indent=2)  # MarshalIndent("", "  ") layout exactly
    for key, entry in registries.items():
        assert isinstance(entry, dict), key
        fields = list(entry)
        assert fields == [f for f in FIELDS if f in fields], f"{key}: field order {fields}"
        assert {"AuthorizationToken", "RequestedAt", "ExpiresAt"} <= set(fields), key
        assert all(isinstance(v, str) for v in entry.values()), key
        for name in ("RequestedAt", "ExpiresAt"):
            assert TIME_RE.fullmatch(entry[name]), f"{key}: {name}={entry[name]!r}"
        assert entry.get("Service", "ecr") in ("ecr", "ecr-public")
    return registries


def log_text(directory: Path) -> str:
    path = directory / "log" / "ecr-login.log"
    return path.read_text() if path.exists() else ""


def creds(proc: subprocess.CompletedProcess[bytes]) -> dict[str, str]:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    result: dict[str, str] = json.loads(proc.stdout)
    return result


def secret(serial: int, account: str = ACCOUNT, region: str = REGION) -> str:
    """The stand-in's password for its ``serial``-th call."""
    return f"{account}-{region}-{serial}"


def run_get(
    env: dict[str, str],
    host: str = HOST,
    prefix: list[str] | None = None,
    preexec: Callable[[], Any] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``get`` with extra control (a wrapper command, a umask) that the ``run`` fixture lacks."""
    return subprocess.run(
        [*(prefix or []), str(CONSOLE_SCRIPT), "get"],
        input=host.encode(),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
        preexec_fn=preexec,
    )


@pytest.fixture
def cenv(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The test environment with TMPDIR and XDG_RUNTIME_DIR in tmp_path (fallbacks stay there)."""
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env["TMPDIR"] = str(tmpdir)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


def ecr_dir(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".ecr"


def xdg_dir(env: dict[str, str]) -> Path:
    return Path(env["XDG_RUNTIME_DIR"]) / "docker-credential-ecr-login"


def tmp_fallback(env: dict[str, str], uid: int | None = None) -> Path:
    return (
        Path(env["TMPDIR"]) / f"docker-credential-ecr-login-{os.geteuid() if uid is None else uid}"
    )


# ---------------------------------------------------------------------------------------------
# time


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2015-01-01T00:00:00Z", 1420070400.0),
        ("2026-11-26T01:23:33.163064078Z", 1795656213.163064078),
        ("2021-03-01T15:31:17.625780278+01:00", 1614609077.625780278),
        ("2021-03-02T02:31:17.608Z", 1614652277.608),
        ("2021-03-01T10:31:17-05:00", 1614612677.0),
        ("1970-01-01T00:00:00Z", 0.0),
        ("2024-02-29T23:59:59.5Z", 1709251199.5),
    ],
)
def test_parse_time_go_forms(text: str, epoch: float) -> None:
    assert _hashing.parse_time(text) == pytest.approx(epoch, abs=1e-6)
    assert _hashing.parse_time(text.replace("T", "t").replace("Z", "z")) == pytest.approx(
        epoch, abs=1e-6
    )


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        ("2015-01-01T00:00:00Z", "2015-01-01T00:00:00Z"),
        # float seconds carry microseconds: the nanosecond digits round away
        ("2026-11-26T01:23:33.163064078Z", "2026-11-26T01:23:33.163064Z"),
        # offsets are normalised to UTC; trailing zeros trimmed as RFC3339Nano does
        ("2021-03-01T15:31:17.625780278+01:00", "2021-03-01T14:31:17.62578Z"),
        ("2021-03-02T02:31:17.608Z", "2021-03-02T02:31:17.608Z"),
        ("2021-03-02T02:31:17.600Z", "2021-03-02T02:31:17.6Z"),
        ("2021-03-02T02:31:17.000Z", "2021-03-02T02:31:17Z"),
        ("2099-12-31T23:59:59.999999Z", "2099-12-31T23:59:59.999999Z"),
    ],
)
def test_format_time_is_go_rfc3339nano(text: str, formatted: str) -> None:
    out = _hashing.format_time(_hashing.parse_time(text))
    assert out == formatted
    assert TIME_RE.fullmatch(out)
    assert _hashing.format_time(_hashing.parse_time(out)) == out  # stable round trip


def test_format_parse_round_trip_many() -> None:
    base = 1614612677.0
    for micros in (0, 1, 10, 100_000, 123_456, 500_000, 999_999):
        for day in (0, 1, 59, 365, 366, 10_000):
            epoch = base + day * 86400 + micros / 1e6
            text = _hashing.format_time(epoch)
            assert TIME_RE.fullmatch(text), text
            assert not re.search(r"\.\d*0Z$", text), text  # no trailing zeros
            assert _hashing.parse_time(text) == pytest.approx(epoch, abs=1e-6)
            expected = dt.datetime.fromtimestamp(epoch, dt.UTC)
            assert dt.datetime.fromisoformat(text) == expected.replace(microsecond=micros)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-11-26",
        "2026-11-26T01:23:33",  # no zone
        "2026-11-26 01:23:33Z",  # space, not T
        "2026-11-26T01:23:33.Z",  # empty fraction
        "2026-11-26T01:23:33+0100",  # offset without colon
        "2026-11-26T01:23:33+01",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-32T00:00:00Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T01:60:00Z",
        "2026-11-26T01:23:33ZZ",
        "abcd-11-26T01:23:33Z",
        "2026/11/26T01:23:33Z",
        "2026-11-26T01:23:33.12xZ",
        "not a time at all, honestly",
    ],
)
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        _hashing.parse_time(text)


@pytest.mark.parametrize("text", ["2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z"])
def test_parse_time_rejects_impossible_dates(text: str) -> None:
    # RFC 3339 (and Go's time.Parse: "day out of range") reject a day the month does not have.
    with pytest.raises(ValueError):
        _hashing.parse_time(text)


# ---------------------------------------------------------------------------------------------
# keys


def test_checksum_vectors() -> None:
    assert _hashing.checksum("accessKey") == "xOV45/s/9aT8cbO8tDicjEV1KKkfpLdKrQs0ipPGgGc="
    assert _hashing.legacy_checksum("accessKey") == "YWNjZXNzS2V51B2M2Y8AsgTpgAmY7PhCfg=="
    assert _hashing.checksum(ACCESS_KEY) == KEY_PART
    # the legacy key is the raw key id followed by MD5("") (Go's md5.New().Sum(text))
    raw = base64.b64decode(LEGACY_PART)
    assert raw == ACCESS_KEY.encode() + bytes.fromhex("d41d8cd98f00b204e9800998ecf8427e")
    # the feasibility study's real Go-written key
    assert _hashing.legacy_checksum("AKIAEXAMPLE") == "QUtJQUVYQU1QTEXUHYzZjwCyBOmACZjs+EJ+"


def static_identity(access_key: str = "accessKey", region: str = "test-region") -> Any:
    return _identity.Identity(
        _identity.STATIC, _hashing.checksum(access_key), None, region, access_key
    )


def test_keys_for_private_registry() -> None:
    ident = static_identity()
    registry = _registry.parse(HOST)
    assert registry is not None
    assert _cache.keys_for(ident, registry) == [
        f"{REGION}-xOV45/s/9aT8cbO8tDicjEV1KKkfpLdKrQs0ipPGgGc=-{ACCOUNT}",
        f"{REGION}-YWNjZXNzS2V51B2M2Y8AsgTpgAmY7PhCfg==-{ACCOUNT}",
    ]
    assert _cache.keys_for(ident, registry, legacy=False) == [
        f"{REGION}-xOV45/s/9aT8cbO8tDicjEV1KKkfpLdKrQs0ipPGgGc=-{ACCOUNT}"
    ]


@pytest.mark.parametrize("host", ["public.ecr.aws", "ecr-public.aws.com"])
def test_keys_for_public_registry(host: str) -> None:
    ident = static_identity()
    registry = _registry.parse(host)
    assert registry is not None and registry.is_public
    # no region in it: both public hosts share the key, as in the Go helper
    assert _cache.keys_for(ident, registry) == [
        "ecr-public-xOV45/s/9aT8cbO8tDicjEV1KKkfpLdKrQs0ipPGgGc=",
        "ecr-public-YWNjZXNzS2V51B2M2Y8AsgTpgAmY7PhCfg==",
    ]


def test_keys_for_fingerprint_identity_has_no_legacy_key() -> None:
    ident = _identity.Identity("assume-role", "idfp:abc", "p", "eu-west-2")
    registry = _registry.parse(HOST)
    assert registry is not None
    assert _cache.keys_for(ident, registry) == [f"{REGION}-idfp:abc-{ACCOUNT}"]


@pytest.mark.parametrize(
    ("godebug", "fips"),
    [
        ("fips140=on", True),
        ("fips140=only", True),
        ("foo=bar,fips140=on,baz=qux", True),
        ("foo=bar, fips140=only ", True),
        ("", False),
        ("foo=bar", False),
        ("fips140=off", False),
        ("fips140=onx", False),
    ],
)
def test_fips_mode(godebug: str, fips: bool) -> None:
    assert _settings.fips_mode(godebug) is fips


@pytest.mark.parametrize("godebug", ["fips140=on", "fips140=only", "x=1,fips140=on"])
def test_no_legacy_keys_in_fips_mode(home: Path, godebug: str) -> None:
    settings = Settings({"HOME": str(home), "GODEBUG": godebug})
    assert settings.legacy_keys is False
    registry = _registry.parse(HOST)
    assert registry is not None
    keys = _cache.keys_for(static_identity(), registry, settings.legacy_keys)
    assert keys == [f"{REGION}-xOV45/s/9aT8cbO8tDicjEV1KKkfpLdKrQs0ipPGgGc=-{ACCOUNT}"]
    assert Settings({"HOME": str(home)}).legacy_keys is True


# ---------------------------------------------------------------------------------------------
# entry validity


def test_entry_fresh_boundaries() -> None:
    requested = 1_700_000_000.0
    entry = _cache.Entry(TOKEN, requested, requested + 12 * HOUR, "https://x", "ecr")
    half = requested + 6 * HOUR
    assert entry.fresh(requested)
    assert entry.fresh(half - 1)
    assert not entry.fresh(half)
    assert not entry.fresh(half + 1)
    # the Go tests: a +-6 h entry around "now"
    now = 1_800_000_000.0
    around = _cache.Entry(TOKEN, now - 6 * HOUR, now + 6 * HOUR, "", "ecr")
    assert around.fresh(now - 1)
    assert not around.fresh(now)
    assert not around.fresh(now + 1)
    # requested 12 h ago and expiring now
    assert not _cache.Entry(TOKEN, now - 12 * HOUR, now, "", "ecr").fresh(now)


def test_entry_usable_fallback_and_expired() -> None:
    expires = 1_800_000_000.0
    entry = _cache.Entry(TOKEN, expires - 12 * HOUR, expires, "", "ecr")
    assert _cache.FALLBACK_MIN_REMAINING == 300.0
    assert entry.usable_fallback(expires - 301)
    assert entry.usable_fallback(expires - 300)
    assert not entry.usable_fallback(expires - 299.999)
    assert not entry.usable_fallback(expires)
    assert not entry.expired(expires - 0.001)
    assert entry.expired(expires)
    assert entry.expired(expires + 1)


def test_entry_json_round_trip_and_malformed() -> None:
    now = time.time()
    go = fresh_entry("pw")
    entry = _cache.Entry.from_json(go)
    assert entry is not None
    assert entry.token == token("pw")
    assert entry.service == "ecr"
    assert entry.fresh(now)
    out = entry.to_json()
    assert list(out) == FIELDS
    assert out["AuthorizationToken"] == go["AuthorizationToken"]
    assert out["ExpiresAt"] == go["ExpiresAt"]
    no_service = dict(go)
    del no_service["Service"]
    migrated = _cache.Entry.from_json(no_service)
    assert migrated is not None and migrated.service == "ecr"
    assert _cache.Entry.from_json({**go, "Service": ""}).service == "ecr"  # type: ignore[union-attr]
    bad: object
    for bad in (
        None,
        [],
        "x",
        {k: v for k, v in go.items() if k != "ExpiresAt"},
        {k: v for k, v in go.items() if k != "AuthorizationToken"},
        {**go, "RequestedAt": "yesterday"},
        {**go, "ExpiresAt": 12},
        {**go, "AuthorizationToken": None},
    ):
        assert _cache.Entry.from_json(bad) is None, bad


def test_decode_token() -> None:
    assert _token.decode(token("p:w")) == ("AWS", "p:w")
    for bad in ("not*base64", base64.b64encode(b"nocolon").decode(), "é"):
        with pytest.raises(ValueError):
            _token.decode(bad)


# ---------------------------------------------------------------------------------------------
# Go compatibility


def test_go_written_cache_is_hit_and_preserved(
    cenv: dict[str, str], run: Runner, standin: StandIn
) -> None:
    now = time.time()
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    go_entries = {
        # the feasibility study's shape, with future times
        OUR_KEY: go_entry(
            "from-go-new-key",
            now - HOUR,
            now + 11 * HOUR,
            f"https://{HOST}",
        ),
        # a pre-0.12 legacy (MD5-quirk) key, RequestedAt in a local offset
        private_key("210987654321", LEGACY_PART): go_entry(
            "from-go-legacy",
            now - HOUR,
            now + 11 * HOUR,
            "https://" + host_for("210987654321"),
            requested_offset=1,
        ),
        # an entry from before Service existed
        private_key("111122223333"): go_entry(
            "from-go-no-service",
            now - 2 * HOUR,
            now + 10 * HOUR,
            "https://" + host_for("111122223333"),
            service=None,
        ),
        f"ecr-public-{KEY_PART}": go_entry(
            "from-go-public",
            now - HOUR,
            now + 11 * HOUR,
            "https://public.ecr.aws",
            service="ecr-public",
        ),
        # someone else's entry (another access key, another region)
        private_key("999999999999", _hashing.checksum("AKIAOTHER"), "us-east-1"): go_entry(
            "from-go-other-identity",
            now - HOUR,
            now + 11 * HOUR,
            "https://" + host_for("999999999999", "us-east-1"),
        ),
    }
    original = go_file(go_entries)
    (cache_dir / "cache.json").write_text(original)

    expected = {
        HOST: "from-go-new-key",
        host_for("210987654321"): "from-go-legacy",
        f"https://{host_for('111122223333')}/v2/": "from-go-no-service",
        "public.ecr.aws": "from-go-public",
        "ecr-public.aws.com": "from-go-public",
    }
    for server_url, password in expected.items():
        out = creds(run(["get"], server_url.encode()))
        assert out == {"ServerURL": server_url, "Username": "AWS", "Secret": password}
    assert standin.count() == 0
    # reading never rewrites (no migration of the legacy entry)
    assert (cache_dir / "cache.json").read_text() == original

    new_host = host_for("444455556666")
    out = creds(run(["get"], new_host.encode()))
    assert out["Secret"] == secret(1, "444455556666")
    assert standin.count() == 1

    registries = validate_go_file(cache_dir / "cache.json")
    ours = private_key("444455556666")
    assert ours == f"eu-west-2-{_hashing.checksum(ACCESS_KEY)}-444455556666"
    assert set(registries) == {*go_entries, ours}
    for key, value in go_entries.items():
        assert registries[key] == value  # exactly as Go wrote it, field order included
        assert list(registries[key]) == list(value)
    written = registries[ours]
    assert list(written) == FIELDS
    assert base64.b64decode(written["AuthorizationToken"]) == f"AWS:{out['Secret']}".encode()
    assert written["ProxyEndpoint"] == f"https://{new_host}"
    assert written["Service"] == "ecr"
    assert written["RequestedAt"].endswith("Z") and written["ExpiresAt"].endswith("Z")
    requested = _hashing.parse_time(written["RequestedAt"])
    expires = _hashing.parse_time(written["ExpiresAt"])
    assert abs(requested - time.time()) < 60
    assert expires - requested == pytest.approx(12 * HOUR, abs=60)

    # and the new entry is served from the cache next time
    assert creds(run(["get"], new_host.encode()))["Secret"] == secret(1, "444455556666")
    assert standin.count() == 1


def test_legacy_hit_then_new_key_preferred(
    cenv: dict[str, str], run: Runner, standin: StandIn
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    path = cache_dir / "cache.json"
    path.write_text(go_file({private_key(ACCOUNT, LEGACY_PART): fresh_entry("legacy")}))
    assert creds(run(["get"], HOST.encode()))["Secret"] == "legacy"
    path.write_text(
        go_file(
            {
                private_key(ACCOUNT, LEGACY_PART): fresh_entry("legacy"),
                OUR_KEY: fresh_entry("new"),
            }
        )
    )
    assert creds(run(["get"], HOST.encode()))["Secret"] == "new"
    assert standin.count() == 0


@pytest.mark.parametrize("godebug", ["fips140=only", "fips140=on"])
def test_fips_mode_skips_legacy_entry(
    cenv: dict[str, str], run: Runner, standin: StandIn, godebug: str
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    legacy_key = private_key(ACCOUNT, LEGACY_PART)
    (cache_dir / "cache.json").write_text(go_file({legacy_key: fresh_entry("legacy")}))
    out = creds(run(["get"], HOST.encode(), {**cenv, "GODEBUG": godebug}))
    assert out["Secret"] == secret(1)
    assert standin.count() == 1
    registries = validate_go_file(cache_dir / "cache.json")
    assert set(registries) == {legacy_key, OUR_KEY}  # legacy kept, not migrated


def test_stale_entry_is_refreshed(cenv: dict[str, str], run: Runner, standin: StandIn) -> None:
    now = time.time()
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    # 7 h into a 12 h window: past the half-life, so refreshed
    old = go_entry("old", now - 7 * HOUR, now + 5 * HOUR, f"https://{HOST}")
    (cache_dir / "cache.json").write_text(go_file({OUR_KEY: old}))
    assert creds(run(["get"], HOST.encode()))["Secret"] == secret(1)
    assert standin.count() == 1
    assert validate_go_file(cache_dir / "cache.json")[OUR_KEY] != old


# ---------------------------------------------------------------------------------------------
# hygiene


def test_expired_entries_pruned_on_write(
    cenv: dict[str, str], run: Runner, standin: StandIn
) -> None:
    now = time.time()
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    other = _hashing.checksum("ASIAROTATED1")
    entries = {
        private_key("111111111111"): go_entry(
            "expired", now - 13 * HOUR, now - HOUR, "https://" + host_for("111111111111")
        ),
        private_key("222222222222", other): go_entry(
            "expired-other", now - 12 * HOUR, now - 1, "https://" + host_for("222222222222")
        ),
        # Go's moto-written example: ExpiresAt in 2015
        private_key("123456789012", "QUtJQUVYQU1QTEXUHYzZjwCyBOmACZjs+EJ+", "us-east-1"): {
            "AuthorizationToken": "QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu",
            "RequestedAt": "2026-11-26T01:23:33.163064078Z",
            "ExpiresAt": "2015-01-01T00:00:00Z",
            "ProxyEndpoint": "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "Service": "ecr",
        },
        # stale but not expired: kept (a fallback candidate)
        private_key("333333333333"): go_entry(
            "stale", now - 10 * HOUR, now + 2 * HOUR, "https://" + host_for("333333333333")
        ),
        private_key("444444444444", other): fresh_entry("fresh-other", "444444444444"),
    }
    (cache_dir / "cache.json").write_text(go_file(entries))
    assert creds(run(["get"], HOST.encode()))["Secret"] == secret(1)
    registries = validate_go_file(cache_dir / "cache.json")
    assert set(registries) == {
        OUR_KEY,
        private_key("333333333333"),
        private_key("444444444444", other),
    }


CORRUPT: dict[str, bytes | Callable[[], bytes]] = {
    "garbage": b"{nope not good json at all.",
    "truncated": go_file({OUR_KEY: fresh_entry("x")}).encode()[:-40],
    "empty": b"",
    "whitespace": b"  \n",
    "null-document": b"null",
    "list-document": b"[]",
    "old-version": json.dumps({"Registries": {}, "Version": "0.1"}).encode(),
    "no-version": json.dumps({"Registries": {}}).encode(),
    "registries-list": json.dumps({"Registries": [], "Version": "1.0"}).encode(),
    "registries-string": json.dumps({"Registries": "x", "Version": "1.0"}).encode(),
    "not-utf8": b'{"Registries": {"\xff\xfe": 1}, "Version": "1.0"}',
    "trailing-garbage": go_file({}).encode() + b"}garbage",
    "too-big": lambda: (
        b'{"Registries": {}, "Version": "1.0", "Pad": "'
        + b"x" * (_cache.MAX_CACHE_BYTES + 1)
        + b'"}'
    ),
}


@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_corrupt_cache_is_logged_and_replaced(
    cenv: dict[str, str], run: Runner, standin: StandIn, kind: str
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    path = cache_dir / "cache.json"
    content = CORRUPT[kind]
    path.write_bytes(content() if callable(content) else content)
    proc = run(["get"], HOST.encode())
    assert creds(proc)["Secret"] == secret(1)
    assert proc.stderr == b""
    assert standin.count() == 1
    log = log_text(cache_dir)
    assert f"cache: {path}" in log or f"cache: cannot read {path}" in log, log
    assert "replacing it" in log, log
    registries = validate_go_file(path)
    assert list(registries) == [OUR_KEY]
    assert path.stat().st_size < 4096
    # and the replacement is a working cache
    assert creds(run(["get"], HOST.encode()))["Secret"] == secret(1)
    assert standin.count() == 1


@pytest.mark.parametrize(
    "registries",
    [
        {OUR_KEY: None},
        {OUR_KEY: None, private_key("111111111111"): None},
        {OUR_KEY: {"AuthorizationToken": "x"}},
        {OUR_KEY: {**fresh_entry("x"), "ExpiresAt": "soon"}},
        {OUR_KEY: []},
        None,
    ],
    ids=["null-entry", "null-entries", "missing-times", "bad-time", "list-entry", "null-map"],
)
def test_malformed_entries_are_misses_and_pruned(
    cenv: dict[str, str], run: Runner, standin: StandIn, registries: Any
) -> None:
    # The Go helper would panic on a null entry; we treat it as a miss and drop it on write.
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    path = cache_dir / "cache.json"
    path.write_text(json.dumps({"Registries": registries, "Version": "1.0"}, indent=2))
    proc = run(["get"], HOST.encode())
    assert creds(proc)["Secret"] == secret(1)
    assert proc.stderr == b""
    assert list(validate_go_file(path)) == [OUR_KEY]


def test_stale_temp_files_do_not_matter(
    cenv: dict[str, str], run: Runner, standin: StandIn
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    leftovers = {
        ".config.json.tmp123456789": b'{"Registries": {',  # Go's CreateTemp name, torn
        ".cache.json.4242.1.tmp": b"garbage",
        f".cache.json.{os.getpid()}.99.tmp": b"",
    }
    for name, data in leftovers.items():
        (cache_dir / name).write_bytes(data)
    assert creds(run(["get"], HOST.encode()))["Secret"] == secret(1)
    assert creds(run(["get"], HOST.encode()))["Secret"] == secret(1)
    assert standin.count() == 1
    assert list(validate_go_file(cache_dir / "cache.json")) == [OUR_KEY]
    for name, data in leftovers.items():
        assert (cache_dir / name).read_bytes() == data
    # our own temp files do not linger
    ours = {p.name for p in cache_dir.iterdir() if ".tmp" in p.name}
    assert ours == set(leftovers)


# ---------------------------------------------------------------------------------------------
# permissions


def umask0() -> None:
    os.umask(0)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_modes_under_umask_000(cenv: dict[str, str], standin: StandIn) -> None:
    proc = run_get(cenv, preexec=umask0)
    assert creds(proc)["Secret"] == secret(1)
    cache_dir = ecr_dir(cenv)
    assert mode(cache_dir) == 0o700
    assert mode(cache_dir / "cache.json") == 0o600
    assert mode(cache_dir / "log") == 0o700
    assert mode(cache_dir / "log" / "ecr-login.log") == 0o600
    for path in cache_dir.iterdir():
        if path.is_file():
            assert mode(path) == 0o600, path
    assert not tmp_fallback(cenv).exists()
    assert not xdg_dir(cenv).exists()


def test_fallback_dir_modes_under_umask_000(cenv: dict[str, str], standin: StandIn) -> None:
    ecr_dir(cenv).write_text("not a directory")
    del cenv["XDG_RUNTIME_DIR"]
    proc = run_get(cenv, preexec=umask0)
    assert creds(proc)["Secret"] == secret(1)
    fallback = tmp_fallback(cenv)
    assert mode(fallback) == 0o700
    assert mode(fallback / "cache.json") == 0o600
    assert mode(fallback / "log") == 0o700
    assert mode(fallback / "log" / "ecr-login.log") == 0o600


@pytest.mark.parametrize("first", ["non-ecr-host", "invalid-setting"])
def test_cache_dir_private_when_log_is_written_first_under_umask_000(
    cenv: dict[str, str], standin: StandIn, first: str
) -> None:
    # Something logged before the cache directory is opened (a get for a non-ECR host, which
    # docker sends a credsStore for every registry; a warning about a bad AWS_ECR_* setting)
    # must not create ~/.ecr, the log's parent, with the umask's mode.
    if first == "non-ecr-host":
        proc = run_get(cenv, host="registry.example.com", preexec=umask0)
        assert proc.returncode == 1
    else:
        proc = run_get({**cenv, "AWS_ECR_TIMEOUT": "soon"}, preexec=umask0)
        assert creds(proc)["Secret"] == secret(1)
        standin.reset()
    cache_dir = ecr_dir(cenv)
    if cache_dir.exists():
        assert mode(cache_dir) == 0o700
    proc = run_get(cenv, preexec=umask0)
    assert creds(proc)["Secret"] == secret(1)
    assert mode(cache_dir) == 0o700
    assert (cache_dir / "cache.json").exists()  # the configured directory, not a fallback
    assert not tmp_fallback(cenv).exists()


def test_existing_cache_dir_mode_is_left_alone(
    cenv: dict[str, str], run: Runner, standin: StandIn
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir()
    cache_dir.chmod(0o750)  # group-readable is the user's choice (not writable by others)
    assert creds(run(["get"], HOST.encode()))["Secret"] == secret(1)
    assert mode(cache_dir) == 0o750
    assert mode(cache_dir / "cache.json") == 0o600


# ---------------------------------------------------------------------------------------------
# fallback directories


def assert_fallback(
    proc: subprocess.CompletedProcess[bytes], where: Path, reason: str, serial: int = 1
) -> None:
    assert creds(proc)["Secret"] == secret(serial)
    assert proc.stderr == b""
    assert list(validate_go_file(where / "cache.json")) == [OUR_KEY]
    log = log_text(where)
    assert reason in log, log
    assert f"cache: using {where}" in log, log


def test_cache_dir_is_a_file_falls_back_to_runtime_dir(
    cenv: dict[str, str], run: Runner, standin: StandIn
) -> None:
    ecr_dir(cenv).write_text("a file")
    proc = run(["get"], HOST.encode())
    assert_fallback(proc, xdg_dir(cenv), f"{ecr_dir(cenv)} is not a directory")
    assert mode(xdg_dir(cenv)) == 0o700
    # the fallback is a working cache
    assert creds(run(["get"], HOST.encode()))["Secret"] == secret(1)
    assert standin.count() == 1
    assert ecr_dir(cenv).read_text() == "a file"


def test_runtime_dir_unusable_falls_back_to_tmpdir(
    cenv: dict[str, str], run: Runner, standin: StandIn
) -> None:
    ecr_dir(cenv).write_text("a file")
    xdg_dir(cenv).write_text("also a file")
    proc = run(["get"], HOST.encode())
    assert_fallback(proc, tmp_fallback(cenv), f"{xdg_dir(cenv)} is not a directory")
    assert f"{ecr_dir(cenv)} is not a directory" in log_text(tmp_fallback(cenv))
    assert mode(tmp_fallback(cenv)) == 0o700


@pytest.mark.parametrize("runtime", ["", "relative/dir"])
def test_runtime_dir_unset_or_relative_is_skipped(
    cenv: dict[str, str], run: Runner, standin: StandIn, runtime: str
) -> None:
    ecr_dir(cenv).write_text("a file")
    cenv["XDG_RUNTIME_DIR"] = runtime
    proc = run(["get"], HOST.encode())
    assert_fallback(proc, tmp_fallback(cenv), f"{ecr_dir(cenv)} is not a directory")


def test_cache_dir_owned_by_another_user_falls_back(
    cenv: dict[str, str], run: Runner, standin: StandIn
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    # a planted cache that must not be trusted
    (cache_dir / "cache.json").write_text(go_file({OUR_KEY: fresh_entry("planted")}))
    os.chown(cache_dir, 65534, 65534)
    proc = run(["get"], HOST.encode())
    assert_fallback(proc, xdg_dir(cenv), f"{cache_dir} is owned by uid 65534")
    assert standin.count() == 1


@pytest.mark.parametrize("bad_mode", [0o777, 0o775, 0o722, 0o1777])
def test_cache_dir_writable_by_others_falls_back(
    cenv: dict[str, str], run: Runner, standin: StandIn, bad_mode: int
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir()
    (cache_dir / "cache.json").write_text(go_file({OUR_KEY: fresh_entry("planted")}))
    cache_dir.chmod(bad_mode)
    proc = run(["get"], HOST.encode())
    assert_fallback(proc, xdg_dir(cenv), f"{cache_dir} is accessible to other users")
    assert mode(cache_dir) == bad_mode  # not "fixed" behind the user's back


@pytest.mark.parametrize("plant", ["symlink", "group-readable", "other-owner"])
def test_insecure_fallback_dir_is_refused(
    cenv: dict[str, str], run: Runner, standin: StandIn, tmp_path: Path, plant: str
) -> None:
    ecr_dir(cenv).write_text("a file")
    del cenv["XDG_RUNTIME_DIR"]
    fallback = tmp_fallback(cenv)
    attacker = tmp_path / "attacker"
    attacker.mkdir(mode=0o700)
    if plant == "symlink":
        fallback.symlink_to(attacker)
    else:
        fallback.mkdir(mode=0o700)
        if plant == "group-readable":
            fallback.chmod(0o750)
        else:
            os.chown(fallback, 65534, 65534)
        (fallback / "cache.json").write_text(go_file({OUR_KEY: fresh_entry("planted")}))
    for serial in (1, 2):  # no cache anywhere: every get calls AWS
        proc = run(["get"], HOST.encode())
        assert creds(proc)["Secret"] == secret(serial)
        assert proc.stderr == b""
    assert list(attacker.iterdir()) == []
    if plant != "symlink":
        assert (
            "planted"
            in base64.b64decode(
                json.loads((fallback / "cache.json").read_text())["Registries"][OUR_KEY][
                    "AuthorizationToken"
                ]
            ).decode()
        )


def test_no_usable_dir_still_answers(cenv: dict[str, str], run: Runner, standin: StandIn) -> None:
    ecr_dir(cenv).write_text("a file")
    xdg_dir(cenv).write_text("a file")
    tmp_fallback(cenv).write_text("a file")
    for serial in (1, 2):
        proc = run(["get"], HOST.encode())
        assert creds(proc)["Secret"] == secret(serial)
        assert proc.stderr == b""
    assert standin.count() == 2


def _can_bind_read_only(unshare: str, probe: Path) -> str:
    """``""`` when ``unshare -m`` plus a read-only bind mount works here, else why not."""
    probe.mkdir()
    proc = subprocess.run(
        [
            unshare,
            "-m",
            "sh",
            "-c",
            'mount --bind -o ro "$0" "$0" && ! touch "$0/x" 2>/dev/null',
            str(probe),
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if proc.returncode == 0 and not (probe / "x").exists():
        return ""
    return proc.stderr.decode(errors="replace").strip() or f"rc={proc.returncode}"


def test_read_only_cache_dir_falls_back(
    cenv: dict[str, str], standin: StandIn, tmp_path: Path
) -> None:
    unshare = require_tool("unshare")
    why = _can_bind_read_only(unshare, tmp_path / "probe")
    require("unshare -m with a read-only bind mount", not why, why)
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    wrapper = [
        unshare,
        "-m",
        "sh",
        "-c",
        'mount --bind -o ro "$0" "$0" && exec "$@"',
        str(cache_dir),
    ]
    proc = run_get(cenv, prefix=wrapper)
    assert_fallback(proc, xdg_dir(cenv), f"{cache_dir} is not writable")
    assert list(cache_dir.iterdir()) == []
    # the fallback is a working cache for the next read-only run
    assert creds(run_get(cenv, prefix=wrapper))["Secret"] == secret(1)
    assert standin.count() == 1


def test_other_user_with_unwritable_home_cache(standin: StandIn) -> None:
    setpriv = require_tool("setpriv")
    from support import SECRET_KEY, base_env

    probe = subprocess.run(
        [setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", str(CONSOLE_SCRIPT)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if probe.returncode in (126, 127) or b"Permission denied" in probe.stderr:
        why = probe.stderr.decode(errors="replace").strip()
        require("uid 65534 running the venv's interpreter", False, why)
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="ecr-setpriv-"))
    try:
        top.chmod(0o755)
        home = top / "home"
        home.mkdir()
        cache_dir = home / ".ecr"
        cache_dir.mkdir(mode=0o500)
        runtime = top / "runtime"
        runtime.mkdir(mode=0o700)
        for path in (home, cache_dir, runtime):
            os.chown(path, 65534, 65534)
        env = base_env(home)
        env.update(
            {
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_ENDPOINT_URL_ECR": standin.url,
                "XDG_RUNTIME_DIR": str(runtime),
                "TMPDIR": str(top),
            }
        )
        wrapper = [setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        proc = run_get(env, prefix=wrapper)
        fallback = runtime / "docker-credential-ecr-login"
        assert_fallback(proc, fallback, f"{cache_dir} is not writable")
        assert fallback.stat().st_uid == 65534
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.parametrize("value", ["false", "0", "1", "true"])
def test_disable_cache_any_non_empty_value(
    cenv: dict[str, str], run: Runner, standin: StandIn, value: str
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    (cache_dir / "cache.json").write_text(go_file({OUR_KEY: fresh_entry("cached")}))
    before = (cache_dir / "cache.json").read_bytes()
    cenv["AWS_ECR_DISABLE_CACHE"] = value
    for serial in (1, 2):
        assert creds(run(["get"], HOST.encode()))["Secret"] == secret(serial)
    assert standin.count() == 2
    assert (cache_dir / "cache.json").read_bytes() == before


def test_empty_disable_cache_keeps_cache(
    cenv: dict[str, str], run: Runner, standin: StandIn
) -> None:
    cenv["AWS_ECR_DISABLE_CACHE"] = ""
    for _ in range(2):
        assert creds(run(["get"], HOST.encode()))["Secret"] == secret(1)
    assert standin.count() == 1


# ---------------------------------------------------------------------------------------------
# symlinks


def test_symlinked_cache_file_is_not_followed(
    cenv: dict[str, str], run: Runner, standin: StandIn, tmp_path: Path
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    target = tmp_path / "elsewhere.json"
    planted = go_file({OUR_KEY: fresh_entry("planted")}).encode()
    target.write_bytes(planted)
    (cache_dir / "cache.json").symlink_to(target)
    proc = run(["get"], HOST.encode())
    assert creds(proc)["Secret"] == secret(1)  # not "planted"
    assert proc.stderr == b""
    assert standin.count() == 1
    assert target.read_bytes() == planted
    assert not (cache_dir / "cache.json").is_symlink()
    assert list(validate_go_file(cache_dir / "cache.json")) == [OUR_KEY]
    assert f"cannot read {cache_dir / 'cache.json'}" in log_text(cache_dir)


def test_symlinked_fetch_lock_is_not_followed(
    cenv: dict[str, str], run: Runner, standin: StandIn, tmp_path: Path
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    target = tmp_path / "victim"
    target.write_bytes(b"keep me")
    target.chmod(0o644)
    lock = cache_dir / f".fetch-{_cache._key_hash(OUR_KEY)}.lock"
    lock.symlink_to(target)
    proc = run(["get"], HOST.encode())
    assert target.read_bytes() == b"keep me"
    assert mode(target) == 0o644
    assert lock.is_symlink()
    # a cache problem is never fatal: the get still answers
    assert creds(proc)["Secret"] == secret(1)
    assert proc.stderr == b""


def test_symlinked_write_lock_is_not_followed(
    cenv: dict[str, str], run: Runner, standin: StandIn, tmp_path: Path
) -> None:
    cache_dir = ecr_dir(cenv)
    cache_dir.mkdir(mode=0o700)
    target = tmp_path / "victim"
    target.write_bytes(b"keep me")
    (cache_dir / ".cache.json.lock").symlink_to(target)
    proc = run(["get"], HOST.encode())
    assert creds(proc)["Secret"] == secret(1)
    assert proc.stderr == b""
    assert target.read_bytes() == b"keep me"
    assert "could not save the token" in log_text(cache_dir)


def test_symlinked_log_file_is_not_followed(
    cenv: dict[str, str], run: Runner, standin: StandIn, tmp_path: Path
) -> None:
    log_dir = ecr_dir(cenv) / "log"
    log_dir.mkdir(parents=True, mode=0o700)
    ecr_dir(cenv).chmod(0o700)
    target = tmp_path / "victim"
    target.write_bytes(b"keep me")
    (log_dir / "ecr-login.log").symlink_to(target)
    proc = run(["get"], HOST.encode())  # a miss: logs "fetching"
    assert creds(proc)["Secret"] == secret(1)
    assert proc.stderr == b""
    assert target.read_bytes() == b"keep me"
    assert (log_dir / "ecr-login.log").is_symlink()


# ---------------------------------------------------------------------------------------------
# in-process library layer


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def in_process_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """botocore reads os.environ: make it match the test environment."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    env["AWS_ECR_TIMEOUT"] = "30"
    monkeypatch.setenv("AWS_ECR_TIMEOUT", "30")
    return env


def test_memory_layer_reads_file_once_and_expires_at_half_life(
    in_process_env: dict[str, str], standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = in_process_env
    now = time.time()
    requested, expires = now - 60, now - 60 + 12 * HOUR
    cache_dir = ecr_dir(env)
    cache_dir.mkdir(mode=0o700)
    entry = go_entry("from-file", requested, expires, f"https://{HOST}")
    (cache_dir / "cache.json").write_text(go_file({OUR_KEY: entry}))

    reads = []
    original = _cache.FileCache.registries

    def counting(self: _cache.FileCache, strict: bool = False) -> dict[str, Any]:
        reads.append(self.path)
        return original(self, strict)

    monkeypatch.setattr(_cache.FileCache, "registries", counting)
    clock = FakeClock(now)
    helper = EcrHelper(Context(Settings(env), clock=clock), memory=True)
    assert helper.get(HOST) == ("AWS", "from-file")
    assert helper.get(HOST) == ("AWS", "from-file")
    assert reads == [str(cache_dir / "cache.json")]

    half = _hashing.parse_time(entry["ExpiresAt"])
    half -= (half - _hashing.parse_time(entry["RequestedAt"])) / 2
    clock.now = half - 1
    assert helper.get(HOST) == ("AWS", "from-file")
    assert len(reads) == 1
    assert standin.count() == 0

    clock.now = half  # the memory entry's TTL ends here, as the file entry's validity does
    assert helper.get(HOST) == ("AWS", secret(1))
    assert len(reads) > 1
    assert standin.count() == 1
    reads.clear()
    assert helper.get(HOST) == ("AWS", secret(1))
    assert reads == []
    assert standin.count() == 1


def test_without_memory_every_get_reads_the_file(
    in_process_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = in_process_env
    cache_dir = ecr_dir(env)
    cache_dir.mkdir(mode=0o700)
    (cache_dir / "cache.json").write_text(go_file({OUR_KEY: fresh_entry("from-file")}))
    reads = []
    original = _cache.FileCache.registries

    def counting(self: _cache.FileCache, strict: bool = False) -> dict[str, Any]:
        reads.append(1)
        return original(self, strict)

    monkeypatch.setattr(_cache.FileCache, "registries", counting)
    helper = EcrHelper(Context(Settings(env)))
    for _ in range(3):
        assert helper.get(HOST) == ("AWS", "from-file")
    assert len(reads) == 3


def test_open_cache_in_process(tmp_path: Path) -> None:
    from docker_credential_ecr_py._log import Log

    log = Log("")
    cache, reasons = _cache.open_cache(Settings({"AWS_ECR_CACHE_DIR": str(tmp_path / "c")}), log)
    assert isinstance(cache, _cache.FileCache) and reasons == []
    assert mode(tmp_path / "c") == 0o700
    disabled = Settings({"AWS_ECR_CACHE_DIR": str(tmp_path / "c"), "AWS_ECR_DISABLE_CACHE": "1"})
    cache, reasons = _cache.open_cache(disabled, log)
    assert isinstance(cache, _cache.NullCache)
    assert cache.lookup(["k"]) is None and cache.registries() == {}
    cache.store("k", _cache.Entry(TOKEN, 0, 1, "", "ecr"))
    assert cache.registries() == {}


# ---- review findings ---------------------------------------------------------------------------


def test_fresh_never_extends_past_expiry() -> None:
    token = base64.b64encode(b"AWS:pw").decode()
    odd = Entry(token, requested_at=1000.0, expires_at=900.0, proxy_endpoint="", service="ecr")
    assert not odd.fresh(920.0)
    assert odd.fresh_until == 900.0


def test_entry_with_undecodable_token_is_no_entry() -> None:
    value = {
        "AuthorizationToken": "not*base64",
        "RequestedAt": "2026-11-26T00:00:00Z",
        "ExpiresAt": "2099-11-26T00:00:00Z",
        "ProxyEndpoint": "https://x",
        "Service": "ecr",
    }
    assert Entry.from_json(value) is None


def test_fresh_undecodable_cached_token_is_refetched(
    run: Runner, home: Path, standin: StandIn
) -> None:
    key = f"eu-west-2-{_hashing.checksum(ACCESS_KEY)}-123456789012"
    path = home / ".ecr" / "cache.json"
    path.parent.mkdir(mode=0o700)
    now = time.time()
    bad = {
        "AuthorizationToken": "bm90LWEtdG9rZW4",  # unpadded: Go's StdEncoding refuses it too
        "RequestedAt": format_time(now),
        "ExpiresAt": format_time(now + 3600),
        "ProxyEndpoint": f"https://{HOST}",
        "Service": "ecr",
    }
    path.write_text(json.dumps({"Registries": {key: bad}, "Version": "1.0"}))
    result = run(["get"], HOST.encode())
    assert result.returncode == 0, result
    assert json.loads(result.stdout)["Secret"] == "123456789012-eu-west-2-1"
    assert b"internal error" not in result.stderr
    assert standin.count() == 1


def test_unreadable_cache_is_not_overwritten_by_a_writer(tmp_path: Path) -> None:
    from docker_credential_ecr_py._cache import FileCache
    from docker_credential_ecr_py._errors import CacheError
    from docker_credential_ecr_py._log import Log

    directory = tmp_path / "c"
    directory.mkdir(mode=0o700)
    cache = FileCache(str(directory), Log(""))
    (directory / "cache.json").mkdir()  # EISDIR on read: an I/O error, not corruption
    token = base64.b64encode(b"AWS:pw").decode()
    entry = Entry(token, time.time(), time.time() + 3600, "https://x", "ecr")
    with pytest.raises(CacheError):
        cache.store("k", entry)
