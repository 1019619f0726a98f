"""configure-docker and gitlab-auth-config, in process with an isolated HOME / DOCKER_CONFIG."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from docker_credential_ecr_py import _settings
from docker_credential_ecr_py._commands import common
from docker_credential_ecr_py._commands import configure as _configure
from docker_credential_ecr_py._commands.configure import (
    configure_docker_main,
    gitlab_auth_config_main,
)
from docker_credential_ecr_py._lean import files
from support import CONSOLE_SCRIPT, LockWaits, base_env, require, run_command

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import TextIO

    from docker_credential_ecr_py._context import Context

    Main = Callable[[list[str], Context, TextIO, TextIO], int]

HOST = "111122223333.dkr.ecr.eu-west-2.amazonaws.com"
HOST2 = "444455556666.dkr.ecr.us-east-1.amazonaws.com"
ACCOUNT = "111122223333"
OURS = "#!/bin/sh\n# docker_credential_ecr_py console script stand-in\nexit 0\n"
GO = "#!/bin/sh\n# github.com/awslabs/amazon-ecr-credential-helper stand-in\nexit 0\n"


def _fake_program(directory: Path, content: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "docker-credential-ecr-login"
    path.write_text(content)
    path.chmod(0o755)
    return path


@pytest.fixture(autouse=True)
def _umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture(autouse=True)
def _not_a_console_script(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under pytest, sys.argv[0] is pytest: "which program is running" is decided per test.
    monkeypatch.setattr(_configure, "running_program", lambda: None)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    bindir = tmp_path / "bin"
    _fake_program(bindir, OURS)
    return {"HOME": str(home), "PATH": str(bindir)}


def run(main: Main, argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    return run_command(main, argv, env)


def configure(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    return run(configure_docker_main, argv, env)


def config_file(env: dict[str, str]) -> Path:
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"]) / "config.json"
    return Path(env["HOME"]) / ".docker" / "config.json"


def expected_text(helpers: dict[str, str]) -> str:
    return json.dumps({"credHelpers": helpers}, indent="\t") + "\n"


ERROR = "docker-credential-ecr-login configure-docker: error: "


def assert_one_line_error(err: str, *parts: str) -> None:
    """``err`` is exactly one ``configure-docker: error:`` line (no traceback) holding ``parts``."""
    assert err.startswith(ERROR), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for part in parts:
        assert part in err, (part, err)


# --- writing config.json ------------------------------------------------------------------------


def test_new_file_in_home(env: dict[str, str]) -> None:
    code, out, err = configure([HOST], env)
    path = config_file(env)
    assert (code, err) == (0, "")
    assert out == f"Updated {path}: credHelpers for {HOST}\n"
    assert path.read_bytes() == (
        b'{\n\t"credHelpers": {\n\t\t"111122223333.dkr.ecr.eu-west-2.amazonaws.com": '
        b'"ecr-login"\n\t}\n}\n'
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(os.listdir(path.parent)) == ["config.json"]  # no temp file left behind


def test_docker_config_wins_over_home(env: dict[str, str], tmp_path: Path) -> None:
    env["DOCKER_CONFIG"] = str(tmp_path / "dc" / "nested")
    code, out, _ = configure([HOST], env)
    assert code == 0
    assert json.loads((tmp_path / "dc" / "nested" / "config.json").read_text()) == {
        "credHelpers": {HOST: "ecr-login"}
    }
    assert not (Path(env["HOME"]) / ".docker").exists()
    assert str(tmp_path / "dc" / "nested" / "config.json") in out


def test_existing_keys_values_order_and_mode_kept(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    original = {
        "auths": {
            "registry.gitlab.com": {"auth": "dXNlcjpwYXNz"},
            "https://index.docker.io/v1/": {},
        },
        "credHelpers": {"gcr.io": "gcloud"},
        "proxies": {"default": {"httpProxy": "http://proxy:3128", "noProxy": "localhost,.local"}},
        "currentContext": "desktop-linux",
        "x-unknown": [1, 2.5, None, True, "ünïcödé <&>"],
        "psFormat": "table {{.ID}}",
    }
    path.write_text(json.dumps(original, indent=2))
    path.chmod(0o644)
    code, _, _ = configure([HOST], env)
    assert code == 0
    data = json.loads(path.read_text())
    assert list(data) == list(original)
    assert list(data["credHelpers"].items()) == [("gcr.io", "gcloud"), (HOST, "ecr-login")]
    assert {k: v for k, v in data.items() if k != "credHelpers"} == {
        k: v for k, v in original.items() if k != "credHelpers"
    }
    assert "ünïcödé <&>" in path.read_text(encoding="utf-8")  # not \u-escaped
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_tab_indentation_like_docker(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text('{"auths":{},"credHelpers":{}}')
    configure([HOST], env)
    assert path.read_text() == (
        '{\n\t"auths": {},\n\t"credHelpers": {\n\t\t"' + HOST + '": "ecr-login"\n\t}\n}\n'
    )


def test_several_hosts_deduplicated_in_order(env: dict[str, str]) -> None:
    code, out, _ = configure([HOST2, HOST, f"https://{HOST2}/v2/", "public.ecr.aws"], env)
    assert code == 0
    helpers = json.loads(config_file(env).read_text())["credHelpers"]
    assert list(helpers) == [HOST2, HOST, "public.ecr.aws"]
    assert out.endswith(f"credHelpers for {HOST2}, {HOST}, public.ecr.aws\n")


@pytest.mark.parametrize(
    ("given", "host"),
    [
        (f"https://{HOST.upper()}/v2/team/app", HOST),
        (f"{HOST}:443", HOST),
        ("public.ecr.aws", "public.ecr.aws"),
        ("https://ecr-public.aws.com/", "ecr-public.aws.com"),
        ("111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com", None),
        ("111122223333.dkr-ecr.eu-west-2.on.aws", None),
    ],
    ids=["scheme-path-case", "port", "public", "public-dualstack", "fips", "dualstack"],
)
def test_host_normalised(env: dict[str, str], given: str, host: str | None) -> None:
    code, _, _ = configure([given], env)
    assert code == 0
    assert list(json.loads(config_file(env).read_text())["credHelpers"]) == [host or given]


@pytest.mark.parametrize(
    "bad",
    [
        "docker.io",
        "registry.gitlab.com",
        "111122223333.dkr.ecr.eu-west-2.amazonaws.com.evil.example",
        "12345.dkr.ecr.eu-west-2.amazonaws.com",
        "",
    ],
)
def test_non_ecr_host_is_a_usage_error(env: dict[str, str], bad: str) -> None:
    code, out, err = configure([HOST, bad], env)
    assert code == 2
    assert out == ""
    assert "is not an Amazon ECR registry" in err
    assert err.startswith("usage: docker-credential-ecr-login configure-docker")
    assert not config_file(env).exists()


def test_dry_run_writes_nothing(env: dict[str, str]) -> None:
    code, out, _ = configure(["--dry-run", HOST], env)
    assert code == 0
    assert out == expected_text({HOST: "ecr-login"})
    assert not config_file(env).parent.exists()


def test_dry_run_output_equals_what_is_written(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text('{"auths": {"x": {}}, "currentContext": "default"}')
    before = path.stat()
    code, out, _ = configure(["--dry-run", HOST], env)
    assert code == 0
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    configure([HOST], env)
    assert path.read_text() == out


def test_already_configured_is_not_rewritten(env: dict[str, str]) -> None:
    configure([HOST], env)
    path = config_file(env)
    before = path.stat()
    code, out, _ = configure([f"https://{HOST}"], env)
    assert code == 0
    assert out == f"{path} already has credHelpers for {HOST}; not rewritten\n"
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_other_helper_for_the_host_is_replaced_with_a_note(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text(json.dumps({"credHelpers": {HOST: "ecr-login-go"}}))
    code, _, err = configure([HOST], env)
    assert code == 0
    assert f'note: credHelpers["{HOST}"] was "ecr-login-go"; now "ecr-login"' in err
    assert json.loads(path.read_text()) == {"credHelpers": {HOST: "ecr-login"}}


@pytest.mark.parametrize("content", ["", "  \n", "null"], ids=["empty", "blank", "null"])
def test_empty_or_null_file_counts_as_empty_object(env: dict[str, str], content: str) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text(content)
    assert configure([HOST], env)[0] == 0
    assert json.loads(path.read_text()) == {"credHelpers": {HOST: "ecr-login"}}


def test_null_cred_helpers_is_replaced(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text('{"credHelpers": null, "auths": {}}')
    assert configure([HOST], env)[0] == 0
    assert json.loads(path.read_text()) == {"credHelpers": {HOST: "ecr-login"}, "auths": {}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"auths": {', "is not valid JSON"),
        (b'{"auths": {}} trailing', "is not valid JSON"),
        (b'{"x": NaN}', "is not valid JSON"),
        (b"\xef\xbb\xbf{}", "is not valid JSON"),
        (b'{"a": "\xff"}', "is not valid JSON"),
        (b"[]", "holds a JSON list, not an object"),
        (b'"credHelpers"', "holds a JSON str, not an object"),
    ],
    ids=["truncated", "trailing", "nan", "bom", "bad-utf8", "array", "string"],
)
def test_malformed_config_is_left_untouched(
    env: dict[str, str], content: bytes, message: str
) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_bytes(content)
    for argv in ([HOST], ["--dry-run", HOST], ["--creds-store"]):
        code, out, err = configure(argv, env)
        assert code == 1
        assert out == ""
        assert err.startswith("docker-credential-ecr-login configure-docker: error: ")
        assert message in err
        assert path.read_bytes() == content
    assert sorted(os.listdir(path.parent)) == ["config.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"credHelpers": "ecr-login"}', '"credHelpers" is a string'),
        ('{"credHelpers": ["ecr-login"]}', '"credHelpers" is an array'),
        ('{"credHelpers": {"gcr.io": 1}}', "\"credHelpers\" entry 'gcr.io' is a number"),
    ],
    ids=["string-gitlab-320", "array", "non-string-value"],
)
def test_bad_cred_helpers_shape_is_an_error(
    env: dict[str, str], content: str, message: str
) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text(content)
    code, out, err = configure([HOST], env)
    assert (code, out) == (1, "")
    assert message in err
    assert '{"credHelpers": {"<host>": "ecr-login"}}' in err or "entry" in err
    assert path.read_text() == content


def test_symlinked_config_rewrites_the_target(env: dict[str, str], tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "docker.json"
    real.write_text('{"auths": {}}')
    real.chmod(0o640)
    path = config_file(env)
    path.parent.mkdir()
    path.symlink_to(real)
    code, out, _ = configure([HOST], env)
    assert code == 0
    assert path.is_symlink()
    assert os.readlink(path) == str(real)
    assert json.loads(real.read_text()) == {"auths": {}, "credHelpers": {HOST: "ecr-login"}}
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert out == f"Updated {path} (-> {real}): credHelpers for {HOST}\n"
    assert sorted(os.listdir(dotfiles)) == ["docker.json"]


def test_dangling_symlink_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.symlink_to(tmp_path / "missing" / "config.json")
    code, out, err = configure([HOST], env)
    assert (code, out) == (1, "")
    assert "is a symlink to" in err
    assert "which does not exist" in err
    assert not (tmp_path / "missing").exists()


def test_config_json_that_is_a_directory_is_refused(env: dict[str, str]) -> None:
    config_file(env).mkdir(parents=True)
    code, _, err = configure([HOST], env)
    assert code == 1
    assert "is not a regular file" in err


def test_no_home_and_no_docker_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_settings, "home_dir", lambda env: "")
    code, _, err = configure([HOST], {"PATH": ""})
    assert code == 1
    assert "set HOME or DOCKER_CONFIG" in err


# --- numbers, encodings and nesting that cannot be kept ------------------------------------------


def _assert_refused_untouched(env: dict[str, str], content: bytes, *parts: str) -> None:
    path = config_file(env)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    for argv in ([HOST], ["--dry-run", HOST], ["--creds-store"]):
        code, out, err = configure(argv, env)
        assert (code, out) == (1, ""), err
        assert_one_line_error(err, *parts)
        assert path.read_bytes() == content
    assert sorted(os.listdir(path.parent)) == ["config.json"]  # no temp or lock file left


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("1e400", "too large for a 64-bit float"),
        ("-1e400", "too large for a 64-bit float"),
        ("1.5E+309", "too large for a 64-bit float"),
        ("1e-400", "too small for a 64-bit float"),
        ("-2.5e-999", "too small for a 64-bit float"),
        ("9" * 5000, "has more digits than can be converted"),
    ],
    ids=["1e400", "-1e400", "1.5E+309", "1e-400", "-2.5e-999", "5000-digit-int"],
)
@pytest.mark.parametrize(
    "where",
    ['{"x-number": %s}', '{"auths": {"h": {"n": [1, {"deep": %s}]}}, "credHelpers": {}}'],
    ids=["top", "nested"],
)
def test_number_that_does_not_round_trip_is_refused(
    env: dict[str, str], number: str, why: str, where: str
) -> None:
    shown = number if len(number) <= 40 else number[:20]
    _assert_refused_untouched(env, (where % number).encode(), str(config_file(env)), shown, why)


def test_ordinary_numbers_keep_working(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    big = "123456789012345678901234567890123456789" * 10  # 390 digits: beyond any float
    path.write_text(
        '{"n": [0, -0, 1.5, -0.0, 0e0, 1e300, -1.7976931348623157e308, 5e-324, 2.5e-10, '
        f"{big}, -{big}]}}"
    )
    code, _, err = configure([HOST], env)
    assert (code, err) == (0, "")
    text = path.read_text()
    assert f"\t\t{big},\n\t\t-{big}\n" in text  # integers are kept digit for digit
    assert json.loads(text)["n"] == [
        0, 0, 1.5, -0.0, 0.0, 1e300, -1.7976931348623157e308, 5e-324, 2.5e-10, int(big), -int(big)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "content",
    [
        b'{"a": "\xff"}',
        b'{"a": "\xc0\xaf"}',  # overlong "/"
        b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 (CESU-8)
        b'{"a": "\xe2\x82"}',  # truncated sequence
        b'{"a": "\xf4\x90\x80\x80"}',  # beyond U+10FFFF
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"a":' * 10_000 + b"}" * 10_000,  # deep and truncated
        b'{"a":' + b"[" * (_configure.MAX_DEPTH + 1) + b"]" * (_configure.MAX_DEPTH + 1) + b"}",
    ],
    ids=[
        "utf8-ff",
        "utf8-overlong",
        "utf8-surrogate",
        "utf8-truncated",
        "utf8-beyond-max",
        "deep-arrays",
        "deep-objects",
        "deep-truncated",
        "just-too-deep",
    ],
)
def test_unreadable_config_is_one_line_error(env: dict[str, str], content: bytes) -> None:
    _assert_refused_untouched(env, content, str(config_file(env)))


def test_nesting_up_to_the_limit_is_kept(env: dict[str, str]) -> None:
    depth = _configure.MAX_DEPTH - 1  # plus the top-level object
    path = config_file(env)
    path.parent.mkdir()
    path.write_text('{"x": ' + "[" * depth + "]" * depth + "}")
    assert configure([HOST], env)[:1] == (0,)
    value = json.loads(path.read_text())["x"]
    for _ in range(depth - 1):
        (value,) = value
    assert value == []


def test_lone_surrogate_escape_is_kept_as_the_same_escape(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    # JSON escape text (not encoded surrogates): Python decodes it to lone surrogates, which no
    # UTF-8 can hold. They are written back as the same escapes, nothing replaced or dropped.
    path.write_bytes(b'{"a": "\\ud800", "x\\udfffy": ["\\udbff\\ud83d\\ude00", "\\u00e9"]}')
    code, dry, err = configure(["--dry-run", HOST], env)
    assert (code, err) == (0, "")
    code, _, err = configure([HOST], env)
    assert (code, err) == (0, "")
    raw = path.read_bytes()
    assert raw.decode("utf-8") == dry  # valid UTF-8, and what --dry-run showed
    assert b'"a": "\\ud800"' in raw
    assert b'"x\\udfffy"' in raw
    assert "\\udbff😀".encode() in raw and "é".encode() in raw  # the rest is written as text
    assert json.loads(raw) == {
        "a": "\ud800",
        "x\udfffy": ["\udbff\U0001f600", "é"],
        "credHelpers": {HOST: "ecr-login"},
    }
    before = path.stat()
    assert configure([HOST], env)[1].endswith("not rewritten\n")  # a stable round trip
    assert path.stat().st_mtime_ns == before.st_mtime_ns


# --- --dry-run masks the secrets of auths entries ----------------------------------------------

SECRETS = {
    "auths": {
        "registry.gitlab.com": {"auth": "dXNlcjpwYXNz", "email": "me@example.com"},
        "https://index.docker.io/v1/": {
            "username": "me",
            "Password": "hunter2-password",
            "IdentityToken": "identity-token-value",
        },
        "ghcr.io": {"registrytoken": "registry-token-value", "AUTH": "QVVUSDpVUFBFUg=="},
        "empty.example": {"auth": "", "password": None},
        "odd.example": "not an object",
    },
    "Auths": {"quay.io": {"paſſword": "long-s-password"}},  # Go folds ſ to s, as casefold does
    "credHelpers": {"gcr.io": "gcloud"},
    "HttpHeaders": {"User-Agent": "me"},
}
SECRET_VALUES = [
    "dXNlcjpwYXNz",
    "hunter2-password",
    "identity-token-value",
    "registry-token-value",
    "QVVUSDpVUFBFUg==",
    "long-s-password",
]


def test_dry_run_masks_auths_secrets(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text(json.dumps(SECRETS))
    code, out, err = configure(["--dry-run", HOST], env)
    assert code == 0
    for secret in SECRET_VALUES:
        assert secret not in out
    shown = json.loads(out)
    auths = shown["auths"]
    assert auths["registry.gitlab.com"] == {"auth": "[REDACTED]", "email": "me@example.com"}
    assert auths["https://index.docker.io/v1/"] == {
        "username": "me",
        "Password": "[REDACTED]",
        "IdentityToken": "[REDACTED]",
    }
    assert auths["ghcr.io"] == {"registrytoken": "[REDACTED]", "AUTH": "[REDACTED]"}
    assert auths["empty.example"] == {"auth": "", "password": None}  # nothing to hide
    assert auths["odd.example"] == "not an object"
    assert shown["Auths"] == {"quay.io": {"paſſword": "[REDACTED]"}}
    assert {k: v for k, v in shown.items() if k not in ("auths", "Auths", "credHelpers")} == {
        "HttpHeaders": {"User-Agent": "me"}
    }
    assert shown["credHelpers"] == {"gcr.io": "gcloud", HOST: "ecr-login"}
    assert err == (
        'note: --dry-run shows 6 secret value(s) of "auths" entries as "[REDACTED]"; '
        "the file keeps them\n"
    )
    assert json.loads(path.read_text()) == SECRETS  # --dry-run wrote nothing


def test_written_file_keeps_auths_secrets_exactly(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text(json.dumps(SECRETS))
    code, out, err = configure([HOST], env)
    assert (code, err) == (0, "")
    assert "REDACTED" not in path.read_text()
    expected = json.loads(json.dumps(SECRETS))
    expected["credHelpers"][HOST] = "ecr-login"
    assert json.loads(path.read_text()) == expected
    assert "REDACTED" not in out


def test_dry_run_without_secrets_says_nothing_about_masking(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text('{"auths": {"h": {"username": "me", "auth": ""}}, "password": "top-level"}')
    code, out, err = configure(["--dry-run", HOST], env)
    assert (code, err) == (0, "")
    assert json.loads(out)["auths"] == {"h": {"username": "me", "auth": ""}}
    assert json.loads(out)["password"] == "top-level"  # only auths entries hold Docker's secrets


# --- directories and the lock ------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022], ids=["umask-000", "umask-022"])
@pytest.mark.parametrize("where", ["docker-config", "home"])
def test_created_directories_are_private_whatever_the_umask(
    env: dict[str, str], tmp_path: Path, umask: int, where: str
) -> None:
    if where == "docker-config":
        env["DOCKER_CONFIG"] = str(tmp_path / "dc" / "nested" / "deeper")
        created = [
            tmp_path / "dc",
            tmp_path / "dc" / "nested",
            tmp_path / "dc" / "nested" / "deeper",
        ]
    else:
        created = [Path(env["HOME"]) / ".docker"]
    os.umask(umask)  # the autouse fixture restores the umask
    code, _, err = configure([HOST], env)
    os.umask(0o022)
    assert (code, err) == (0, "")
    assert {str(d): oct(stat.S_IMODE(d.stat().st_mode)) for d in created} == {
        str(d): "0o700" for d in created
    }
    assert stat.S_IMODE(config_file(env).stat().st_mode) == 0o600
    assert os.listdir(config_file(env).parent) == ["config.json"]


def _hold_lock(path: Path) -> int:
    """Take the lock configure-docker takes for ``path``, as another run would; the fd."""
    fd = os.open(common.lock_path(str(path)), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_edit_is_made_holding_a_private_lock_file(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_file(env)
    lock = path.parent / ".config.json.lock"
    seen: list[tuple[int, bool]] = []
    write_atomic = files.write_atomic

    def spy(target: str, data: bytes, mode: int, **kwargs: Any) -> None:
        fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = False
            except BlockingIOError:
                held = True
            seen.append((stat.S_IMODE(os.fstat(fd).st_mode), held))
        finally:
            os.close(fd)
        write_atomic(target, data, mode, **kwargs)

    monkeypatch.setattr(files, "write_atomic", spy)
    os.umask(0)  # the lock file is 0600 whatever the umask
    assert configure([HOST], env)[0] == 0
    os.umask(0o022)
    assert seen == [(0o600, True)]
    assert os.listdir(path.parent) == ["config.json"]  # the holder removed it


def test_dry_run_takes_no_lock(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text("{}")
    fd = _hold_lock(path)
    try:
        code, out, _ = configure(["--dry-run", HOST], env)
    finally:
        os.close(fd)
    assert (code, out) == (0, expected_text({HOST: "ecr-login"}))


def test_config_is_read_under_the_lock(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text(json.dumps({"credHelpers": {"gcr.io": "gcloud"}}))
    fd = _hold_lock(path)
    waits = LockWaits().watch(monkeypatch)
    results: list[tuple[int, str, str]] = []
    try:
        worker = threading.Thread(target=lambda: results.append(configure([HOST], env)))
        worker.start()
        waits.wait()  # it is waiting for the lock (had it read the file first, this edit is lost)
        # Another run, holding the lock, edits the file meanwhile.
        path.write_text(json.dumps({"credHelpers": {"gcr.io": "gcloud", HOST2: "ecr-login"}}))
        assert worker.is_alive()  # still waiting for the lock
    finally:
        os.close(fd)
    worker.join(10)
    assert [r[0] for r in results] == [0]
    assert json.loads(path.read_text())["credHelpers"] == {
        "gcr.io": "gcloud",
        HOST2: "ecr-login",
        HOST: "ecr-login",
    }


def test_lock_wait_is_bounded(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_configure, "LOCK_TIMEOUT", 0.2)
    path = config_file(env)
    path.parent.mkdir()
    path.write_text('{"auths": {}}')
    fd = _hold_lock(path)
    try:
        start = time.monotonic()
        code, out, err = configure([HOST], env)
        waited = time.monotonic() - start
    finally:
        os.close(fd)
    assert (code, out) == (1, "")
    assert_one_line_error(err, f"cannot lock {path.parent / '.config.json.lock'}", "0.2 s")
    assert 0.2 <= waited < 5
    assert path.read_text() == '{"auths": {}}'
    assert configure([HOST], env)[0] == 0  # once it is free


def test_stale_lock_file_is_taken_and_removed(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    (path.parent / ".config.json.lock").write_text("")  # left by a run that was killed
    assert configure([HOST], env)[0] == 0
    assert os.listdir(path.parent) == ["config.json"]


def test_symlink_at_the_lock_path_is_not_followed(env: dict[str, str], tmp_path: Path) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text("{}")
    victim = tmp_path / "victim"
    (path.parent / ".config.json.lock").symlink_to(victim)
    code, out, err = configure([HOST], env)
    assert (code, out) == (1, "")
    assert_one_line_error(err, "cannot lock")
    assert not victim.exists()
    assert path.read_text() == "{}"


def test_symlinked_config_is_locked_beside_its_target(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "docker.json"
    real.write_text("{}")
    path = config_file(env)
    path.parent.mkdir()
    path.symlink_to(real)
    fd = _hold_lock(real)
    waits = LockWaits().watch(monkeypatch)
    try:
        worker = threading.Thread(target=lambda: configure([HOST], env))
        worker.start()
        waits.wait()
        assert worker.is_alive()
        # waiting for the lock beside docker.json, not beside the link
        assert set(waits.paths) == {common.lock_path(str(real))}
    finally:
        os.close(fd)
    worker.join(10)
    assert json.loads(real.read_text()) == {"credHelpers": {HOST: "ecr-login"}}
    assert sorted(os.listdir(dotfiles)) == ["docker.json"]


# --- the caller's default registry: --region / --account ---------------------------------------


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("eu-west-2", "111122223333.dkr.ecr.eu-west-2.amazonaws.com"),
        ("us-gov-west-1", "111122223333.dkr.ecr.us-gov-west-1.amazonaws.com"),
        ("cn-north-1", "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "111122223333.dkr.ecr.cn-northwest-1.amazonaws.com.cn"),
        ("eusc-de-east-1", "111122223333.dkr.ecr.eusc-de-east-1.amazonaws.eu"),
        ("us-iso-east-1", "111122223333.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
        ("us-isob-east-1", "111122223333.dkr.ecr.us-isob-east-1.sc2s.sgov.gov"),
        ("eu-isoe-west-1", "111122223333.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk"),
        ("us-isof-south-1", "111122223333.dkr.ecr.us-isof-south-1.csp.hci.ic.gov"),
        ("EU-West-2", "111122223333.dkr.ecr.eu-west-2.amazonaws.com"),
    ],
)
def test_region_default_registry_per_partition(env: dict[str, str], region: str, host: str) -> None:
    code, out, _ = configure(["--dry-run", "--region", region, "--account", ACCOUNT], env)
    assert code == 0
    assert json.loads(out) == {"credHelpers": {host: "ecr-login"}}
    code, out, _ = run(gitlab_auth_config_main, ["--region", region, "--account", ACCOUNT], env)
    assert (code, out) == (0, '{"credHelpers":{"' + host + '":"ecr-login"}}\n')


def test_account_from_env_and_hosts_combined(env: dict[str, str]) -> None:
    env["AWS_ACCOUNT_ID"] = "444455556666"
    argv = ["--dry-run", HOST, "--region", "us-east-1", "--region", "eu-west-2"]
    code, out, _ = configure(argv, env)
    assert code == 0
    assert list(json.loads(out)["credHelpers"]) == [
        HOST,
        HOST2,
        "444455556666.dkr.ecr.eu-west-2.amazonaws.com",
    ]


def test_region_from_environment_when_nothing_given(env: dict[str, str]) -> None:
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCOUNT_ID="444455556666")
    assert json.loads(configure(["--dry-run"], env)[1]) == {"credHelpers": {HOST2: "ecr-login"}}
    env["AWS_REGION"] = "eu-west-2"  # wins over AWS_DEFAULT_REGION, as in the AWS SDKs
    assert list(json.loads(configure(["--dry-run"], env)[1])["credHelpers"]) == [
        "444455556666.dkr.ecr.eu-west-2.amazonaws.com"
    ]


def test_nothing_to_configure_is_a_usage_error(env: dict[str, str]) -> None:
    code, out, err = configure([], env)
    assert (code, out) == (2, "")
    assert "give one or more registry HOSTs, or --region REGION" in err


def test_account_looked_up_when_not_given(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []

    def fake(e: object) -> str:
        seen.append(e)
        return ACCOUNT

    monkeypatch.setattr(_configure, "_caller_account", fake)
    code, out, _ = configure(["--dry-run", "--region", "eu-west-2"], env)
    assert code == 0
    assert json.loads(out) == {"credHelpers": {HOST: "ecr-login"}}
    assert [s.env for s in seen] == [env]  # type: ignore[attr-defined]


def test_account_lookup_failure_says_how_to_avoid_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(e: object) -> str:
        raise RuntimeError("no credentials")

    monkeypatch.setattr(_configure, "_caller_account", fail)
    code, out, err = configure(["--region", "eu-west-2"], env)
    assert (code, out) == (1, "")
    assert "cannot find the AWS account id (RuntimeError: no credentials)" in err
    assert "pass --account ID or set AWS_ACCOUNT_ID" in err
    assert not config_file(env).exists()


@pytest.mark.parametrize(
    ("argv", "extra_env", "code", "message"),
    [
        (["--region", "eu-west-2", "--account", "1234"], {}, 2, "--account must be a 12-digit"),
        (["--region", "eu west", "--account", ACCOUNT], {}, 2, "is not an AWS region name"),
        (["--region", "eu-west-2"], {"AWS_ACCOUNT_ID": "12x"}, 1, "AWS_ACCOUNT_ID is not"),
        (["--creds-store", "--account", ACCOUNT], {}, 2, "--account goes with --region"),
        (["--creds-store", "docker.io"], {}, 2, "is not an Amazon ECR registry"),
        (["--bogus"], {}, 2, "unrecognized arguments: --bogus"),
    ],
    ids=[
        "short-account",
        "bad-region",
        "bad-env-account",
        "creds-store-account",
        "creds-store-non-ecr",
        "unknown-option",
    ],
)
def test_argument_errors(
    env: dict[str, str], argv: list[str], extra_env: dict[str, str], code: int, message: str
) -> None:
    env.update(extra_env)
    got, out, err = configure(argv, env)
    assert (got, out) == (code, "")
    assert message in err
    assert not config_file(env).exists()


def test_help_goes_to_stdout(env: dict[str, str]) -> None:
    code, out, err = configure(["--help"], env)
    assert (code, err) == (0, "")
    assert out.startswith("usage: docker-credential-ecr-login configure-docker")
    assert "--dry-run" in out


# --- credsStore ---------------------------------------------------------------------------------


def test_creds_store_new_file_and_warning(env: dict[str, str]) -> None:
    code, out, err = configure(["--creds-store"], env)
    assert code == 0
    assert config_file(env).read_text() == '{\n\t"credsStore": "ecr-login"\n}\n'
    assert out == f'Updated {config_file(env)}: credsStore "ecr-login"\n'
    assert "sends every registry to this helper" in err
    assert "docker login" in err


def test_creds_store_replaces_another_store_and_keeps_helpers(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text(json.dumps({"credsStore": "desktop", "credHelpers": {HOST: "ecr-login"}}))
    code, _, err = configure(["--creds-store"], env)
    assert code == 0
    assert 'note: credsStore was "desktop"; now "ecr-login"' in err
    assert json.loads(path.read_text()) == {
        "credsStore": "ecr-login",
        "credHelpers": {HOST: "ecr-login"},
    }


def test_creds_store_of_wrong_type_is_an_error(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text('{"credsStore": 5}')
    code, _, err = configure(["--creds-store"], env)
    assert code == 1
    assert '"credsStore" is a number' in err
    assert path.read_text() == '{"credsStore": 5}'


# --- PATH check ---------------------------------------------------------------------------------


def test_no_warning_when_this_helper_is_first_on_path(env: dict[str, str]) -> None:
    assert configure(["--dry-run", HOST], env)[2] == ""


def test_warning_when_helper_not_on_path(env: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env["PATH"] = str(empty)
    code, _, err = configure([HOST], env)
    assert code == 0
    assert "warning: docker-credential-ecr-login is not on PATH" in err
    assert config_file(env).exists()  # a warning, not a failure


def test_warning_when_path_is_unset(env: dict[str, str]) -> None:
    del env["PATH"]
    assert "is not on PATH" in configure(["--dry-run", HOST], env)[2]


def test_warning_names_the_go_helper_docker_will_run(env: dict[str, str], tmp_path: Path) -> None:
    go = _fake_program(tmp_path / "usr-bin", GO)
    env["PATH"] = f"{go.parent}{os.pathsep}{env['PATH']}"
    code, _, err = configure([HOST], env)
    assert code == 0
    assert f"warning: Docker will run {go}, the Go amazon-ecr-credential-helper" in err
    assert "first docker-credential-ecr-login on PATH" in err


def test_warning_for_an_unknown_program(env: dict[str, str], tmp_path: Path) -> None:
    other = _fake_program(tmp_path / "other", "#!/bin/sh\necho hi\n")
    env["PATH"] = f"{other.parent}{os.pathsep}{env['PATH']}"
    assert "a program that is not this helper" in configure(["--dry-run", HOST], env)[2]


def test_running_program_compared_by_resolved_path(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = Path(env["PATH"]) / "docker-credential-ecr-login"
    link_dir = tmp_path / "links"
    link_dir.mkdir()
    (link_dir / "docker-credential-ecr-login").symlink_to(ours)
    env["PATH"] = str(link_dir)
    monkeypatch.setattr(_configure, "running_program", lambda: os.path.realpath(ours))
    assert configure(["--dry-run", HOST], env)[2] == ""
    # Another installation of this project earlier on PATH: Docker runs that one.
    other = _fake_program(tmp_path / "venv2", OURS)
    env["PATH"] = f"{other.parent}{os.pathsep}{link_dir}"
    err = configure(["--dry-run", HOST], env)[2]
    assert (
        f"warning: Docker will run {other}, another installation of docker-credential-ecr-py" in err
    )
    assert f"not this program ({os.path.realpath(ours)})" in err


def test_running_program_detection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.undo()  # drop the autouse stub for this test
    script = _fake_program(tmp_path / "bin", OURS)
    monkeypatch.setattr(sys, "argv", [str(script), "configure-docker"])
    assert common.running_program() == os.path.realpath(script)
    monkeypatch.setattr(sys, "argv", ["/usr/lib/python3/site-packages/pytest/__main__.py"])
    assert common.running_program() is None
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(script))
    assert common.running_program() == os.path.realpath(script)


# --- gitlab-auth-config -------------------------------------------------------------------------


def gitlab(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    return run(gitlab_auth_config_main, argv, env)


def test_gitlab_auth_config_bytes(env: dict[str, str]) -> None:
    code, out, err = gitlab([HOST2, f"https://{HOST}/v2/", "public.ecr.aws", HOST2], env)
    assert (code, err) == (0, "")
    assert out == (
        '{"credHelpers":{"444455556666.dkr.ecr.us-east-1.amazonaws.com":"ecr-login",'
        '"111122223333.dkr.ecr.eu-west-2.amazonaws.com":"ecr-login",'
        '"public.ecr.aws":"ecr-login"}}\n'
    )


def test_gitlab_auth_config_creds_store(env: dict[str, str]) -> None:
    code, out, err = gitlab(["--creds-store"], env)
    assert (code, out) == (0, '{"credsStore":"ecr-login"}\n')
    assert "sends every registry to this helper" in err


def test_gitlab_auth_config_writes_no_file(env: dict[str, str]) -> None:
    assert gitlab([HOST], env)[0] == 0
    assert not config_file(env).parent.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["docker.io"], "is not an Amazon ECR registry"),
        ([], "give one or more registry HOSTs"),
        (["--creds-store", "quay.io"], "is not an Amazon ECR registry"),
    ],
    ids=["non-ecr", "nothing", "creds-store-non-ecr"],
)
def test_gitlab_auth_config_usage_errors(
    env: dict[str, str], argv: list[str], message: str
) -> None:
    code, out, err = gitlab(argv, env)
    assert (code, out) == (2, "")
    assert err.startswith("usage: docker-credential-ecr-login gitlab-auth-config")
    assert message in err


def test_gitlab_value_is_what_configure_docker_writes(env: dict[str, str]) -> None:
    hosts = [HOST, "public.ecr.aws"]
    value = json.loads(gitlab(hosts, env)[1])
    assert json.loads(configure(["--dry-run", *hosts], env)[1]) == value


# --- process-level checks -----------------------------------------------------------------------


def _src_env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = dict(os.environ)
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def test_module_does_not_import_boto3() -> None:
    code = (
        "import sys, io\n"
        "import docker_credential_ecr_py._commands.configure as c\n"
        "from docker_credential_ecr_py._context import Context\n"
        "from docker_credential_ecr_py._settings import Settings\n"
        "ctx = Context(Settings({}))\n"
        "c.gitlab_auth_config_main(['public.ecr.aws'], ctx, io.StringIO(), io.StringIO())\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'boto3 imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_src_env())


# LEAD-WIRING: needs `_cli.main` to dispatch "configure-docker" to configure_docker_main (and
# "gitlab-auth-config" to gitlab_auth_config_main). Fails until that dispatch exists.
def test_real_cli_dispatches_configure_docker(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "docker-credential-ecr-login"
    command = (
        [str(script)] if script.exists() else [sys.executable, "-m", "docker_credential_ecr_py"]
    )
    env = _src_env()
    env.update(HOME=str(tmp_path), DOCKER_CONFIG=str(tmp_path / "dc"))
    done = subprocess.run(
        [*command, "configure-docker", "--dry-run", HOST],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected_text({HOST: "ecr-login"})
    assert not (tmp_path / "dc").exists()
    done = subprocess.run(
        [*command, "gitlab-auth-config", HOST],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, '{"credHelpers":{"' + HOST + '":"ecr-login"}}\n')


def test_parallel_runs_lose_no_edit(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = base_env(home)
    path = Path(env["DOCKER_CONFIG"]) / "config.json"
    path.parent.mkdir(parents=True)
    # A config of some size: each run's read-edit-write takes long enough for runs to overlap.
    filler = {f"registry-{i}.example": {"auth": "x" * 200} for i in range(1000)}
    path.write_text(json.dumps({"auths": filler}))
    # Ten runs: on two loaded cores the last still gets the lock well inside LOCK_TIMEOUT.
    hosts = [f"{100000000000 + i}.dkr.ecr.eu-west-2.amazonaws.com" for i in range(10)]
    procs = [
        subprocess.Popen(
            [str(CONSOLE_SCRIPT), "configure-docker", host],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for host in hosts
    ]
    results = [(*proc.communicate(timeout=60), proc.returncode) for proc in procs]
    assert [code for *_, code in results] == [0] * len(hosts), [r for r in results if r[2]][:2]
    data = json.loads(path.read_text())
    assert sorted(data["credHelpers"]) == sorted(hosts)
    assert data["auths"] == filler
    assert os.listdir(path.parent) == ["config.json"]  # no lock or temp file left


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["configure-docker", HOST], "updated {config}, but cannot write to stdout: "),
        (["configure-docker", "--dry-run", HOST], "cannot write the result to stdout: "),
        (["gitlab-auth-config", HOST], "cannot write to stdout: "),
    ],
    ids=["write", "dry-run", "gitlab"],
)
def test_stdout_on_dev_full_is_one_error_line(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    require("/dev/full", os.path.exists("/dev/full"), "a Linux device")
    env = base_env(tmp_path / "home")
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"docker-credential-ecr-login {argv[0]}: error: "), err
    assert message.format(config=config) in err
    assert "No space left on device" in err
    if argv[1] == HOST and argv[0] == "configure-docker":  # the file was written all the same
        assert json.loads(config.read_text()) == {"credHelpers": {HOST: "ecr-login"}}


# --- --from-auth-config: GitLab's DOCKER_AUTH_CONFIG merged in (a runner's pre_build_script) ------


def test_from_auth_config_merges_into_an_existing_file(env: dict[str, str]) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text(
        json.dumps(
            {
                "auths": {"registry.gitlab.example": {"auth": "Z2l0bGFiLXNlY3JldA=="}},
                "credHelpers": {"gcr.io": "gcloud"},
                "psFormat": "table {{.ID}}",
            }
        )
    )
    path.chmod(0o600)
    env["DOCKER_AUTH_CONFIG"] = json.dumps(
        {
            "credHelpers": {HOST: "ecr-login"},
            "auths": {"quay.io": {"auth": "cXVheS1zZWNyZXQ="}},
        }
    )
    code, out, err = configure(["--from-auth-config"], env)
    assert (code, err) == (0, "")
    assert out == f"Updated {path}: credHelpers for {HOST}; auths for quay.io\n"
    assert json.loads(path.read_text()) == {
        "auths": {
            "registry.gitlab.example": {"auth": "Z2l0bGFiLXNlY3JldA=="},
            "quay.io": {"auth": "cXVheS1zZWNyZXQ="},
        },
        "credHelpers": {"gcr.io": "gcloud", HOST: "ecr-login"},
        "psFormat": "table {{.ID}}",
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # kept


def test_from_auth_config_creates_the_file_and_sets_creds_store(env: dict[str, str]) -> None:
    env["DOCKER_AUTH_CONFIG"] = '{"credsStore":"ecr-login"}'
    code, out, err = configure(["--from-auth-config"], env)
    assert (code, err) == (0, "")
    assert json.loads(config_file(env).read_text()) == {"credsStore": "ecr-login"}
    assert 'credsStore "ecr-login"' in out


def test_from_auth_config_with_hosts_adds_both(env: dict[str, str]) -> None:
    env["DOCKER_AUTH_CONFIG"] = json.dumps({"credHelpers": {HOST: "ecr-login"}})
    code, _, err = configure(["--from-auth-config", HOST2], env)
    assert (code, err) == (0, "")
    assert json.loads(config_file(env).read_text()) == {
        "credHelpers": {HOST: "ecr-login", HOST2: "ecr-login"}
    }


def test_from_auth_config_unset_changes_nothing(env: dict[str, str]) -> None:
    code, out, err = configure(["--from-auth-config"], env)
    assert (code, out) == (0, "")
    assert err == "$DOCKER_AUTH_CONFIG is not set; nothing to merge\n"
    assert not config_file(env).exists()


@pytest.mark.parametrize(
    ("value", "part"),
    [
        pytest.param('{"credHelpers":"ecr-login"}', '"credHelpers" must map', id="helpers-string"),
        pytest.param('{"auths":{"x.io":"c2VjcmV0"}}', '"auths" must map', id="auths-string"),
        pytest.param('{"credsStore":1}', '"credsStore" is a number', id="store-number"),
        pytest.param('["ecr-login"]', "holds a JSON list", id="array"),
        pytest.param('{"auths":{"x.io":{"auth":"c2VjcmV0"', "is not valid JSON", id="truncated"),
    ],
)
def test_from_auth_config_malformed_is_refused_without_secrets(
    env: dict[str, str], value: str, part: str
) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text('{"auths":{"a.io":{"auth":"a2VlcA=="}}}')
    before = path.read_bytes()
    env["DOCKER_AUTH_CONFIG"] = value
    code, out, err = configure(["--from-auth-config"], env)
    assert code != 0
    assert out == ""
    assert_one_line_error(err, "$DOCKER_AUTH_CONFIG", part)
    assert "c2VjcmV0" not in err  # the variable's secret is never echoed
    assert path.read_bytes() == before


def test_from_auth_config_ignores_other_keys_with_a_note(env: dict[str, str]) -> None:
    env["DOCKER_AUTH_CONFIG"] = json.dumps({"credHelpers": {HOST: "ecr-login"}, "proxies": {}})
    code, _, err = configure(["--from-auth-config"], env)
    assert code == 0
    assert (
        err
        == "note: $DOCKER_AUTH_CONFIG: 'proxies' ignored (only credHelpers, auths, credsStore)\n"
    )
    assert json.loads(config_file(env).read_text()) == {"credHelpers": {HOST: "ecr-login"}}


def test_from_auth_config_takes_no_creds_store_flag(env: dict[str, str]) -> None:
    env["DOCKER_AUTH_CONFIG"] = json.dumps({"credHelpers": {HOST: "ecr-login"}})
    code, _, err = configure(["--from-auth-config", "--creds-store"], env)
    assert code == 2
    assert "--from-auth-config takes no --creds-store" in err


def test_from_auth_config_makes_a_readable_file_private_when_it_adds_auths(
    env: dict[str, str],
) -> None:
    path = config_file(env)
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)
    env["DOCKER_AUTH_CONFIG"] = json.dumps({"auths": {"quay.io": {"auth": "cXVheS1zZWNyZXQ="}}})
    code, _, err = configure(["--from-auth-config"], env)
    assert code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert err == (
        f"note: {path} was mode 0644; now 0600, since it holds the auths of $DOCKER_AUTH_CONFIG\n"
    )
