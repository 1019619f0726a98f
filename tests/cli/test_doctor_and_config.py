"""``doctor`` against the stand-in and moto's STS; the config file's aliases and profiles."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from support import ACCESS_KEY, HOST, SECRET_KEY, Runner, closed_url
from support.standin import StandIn

ALIAS = "registry.example.com"


@pytest.fixture
def denv(env: dict[str, str], moto_server: str) -> dict[str, str]:
    """The test environment with STS at moto."""
    env = dict(env)
    env["AWS_ENDPOINT_URL_STS"] = moto_server
    return env


def lines(out: bytes) -> dict[str, str]:
    """check name -> status of each doctor line."""
    found: dict[str, str] = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("ok", "warn", "FAIL", "info"):
            found.setdefault(parts[1], parts[0])
    return found


def test_doctor_working_setup_exits_0(run: Runner, denv: dict[str, str], home: Path) -> None:
    docker = home / ".docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"credHelpers": {HOST: "ecr-login"}}))
    started = time.monotonic()
    result = run(["doctor", HOST], env_=denv)
    elapsed = time.monotonic() - started
    text = result.stdout.decode()
    assert result.returncode == 0, text
    checks = lines(result.stdout)
    for name in ("helper", "PATH", "identity", "region", "endpoint", "cache", "log", "routing"):
        assert checks[name] == "ok", (name, text)
    assert checks["token"] == "ok"
    assert "arn:aws:sts::123456789012:user/moto" in text
    assert "eu-west-2" in text
    assert denv["AWS_ENDPOINT_URL_ECR"] in text  # the endpoint is always named
    assert "result: 0 failed" in text
    assert elapsed < 3.0 + 3.0


def test_doctor_without_region_names_cause_and_fix(run: Runner, denv: dict[str, str]) -> None:
    result = run(["doctor"], env_=denv)
    assert result.returncode == 1
    text = result.stdout.decode()
    assert lines(result.stdout)["region"] == "FAIL"
    assert "fix: set AWS_REGION" in text


def test_doctor_default_registry_in_configured_region(
    run: Runner, denv: dict[str, str], standin: StandIn
) -> None:
    denv["AWS_REGION"] = "us-east-1"
    result = run(["doctor"], env_=denv)
    text = result.stdout.decode()
    assert "123456789012.dkr.ecr.us-east-1.amazonaws.com" in text
    assert lines(result.stdout)["token"] == "ok", text
    assert lines(result.stdout)["routing"] == "warn"  # routing is a warning, not a failure
    assert result.returncode == 0


def test_doctor_denied_names_the_permission(
    run: Runner, denv: dict[str, str], standin: StandIn
) -> None:
    standin.default_fault = "denied"
    result = run(["doctor", HOST], env_=denv)
    text = result.stdout.decode()
    assert result.returncode == 1
    assert lines(result.stdout)["token"] == "FAIL"
    assert "AccessDeniedException" in text
    assert "allow ecr:GetAuthorizationToken" in text


def test_doctor_aws_refusing_fails_within_the_bound(run: Runner, denv: dict[str, str]) -> None:
    dead = closed_url()
    denv.update({"AWS_ENDPOINT_URL_ECR": dead, "AWS_ENDPOINT_URL_STS": dead})
    started = time.monotonic()
    result = run(["doctor", HOST], env_=denv)
    assert time.monotonic() - started < 3.0 + 3.0
    text = result.stdout.decode()
    assert result.returncode == 1
    assert lines(result.stdout)["identity"] == "FAIL"
    assert lines(result.stdout)["token"] == "FAIL"
    assert "unreachable" in text


def test_doctor_no_credentials(run: Runner, denv: dict[str, str]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        denv.pop(name)
    result = run(["doctor", HOST], env_=denv)
    assert result.returncode == 1
    assert "NoCredentials" in result.stdout.decode()
    assert "IRSA" in result.stdout.decode()


def test_doctor_never_prints_a_secret(run: Runner, denv: dict[str, str], standin: StandIn) -> None:
    standin.password_template = "very-secret-password-{serial}"
    result = run(["doctor", HOST], env_=denv)
    out = result.stdout + result.stderr
    assert b"very-secret-password" not in out
    assert SECRET_KEY.encode() not in out
    assert b"QVdT" not in out  # base64 of "AWS:" starts every token


def test_doctor_warns_when_another_helper_is_first_on_path(
    run: Runner, denv: dict[str, str], tmp_path: Path
) -> None:
    other = tmp_path / "otherbin"
    other.mkdir()
    fake = other / "docker-credential-ecr-login"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    denv["PATH"] = f"{other}{os.pathsep}{denv['PATH']}"
    result = run(["doctor", HOST], env_=denv)
    assert lines(result.stdout)["PATH"] == "warn"
    assert str(fake) in result.stdout.decode()


# ----------------------------------------------------------------------------- config file


def write_config(home: Path, text: str) -> Path:
    path = home / ".ecr" / "config.toml"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(text)
    return path


def test_alias_answers_with_the_target_token_and_echoes_the_alias(
    run: Runner, home: Path, standin: StandIn
) -> None:
    write_config(home, f'[aliases]\n"{ALIAS}" = "{HOST}"\n')
    result = run(["get"], ALIAS.encode())
    assert result.returncode == 0, result
    answer = json.loads(result.stdout)
    assert answer == {"ServerURL": ALIAS, "Username": "AWS", "Secret": "123456789012-eu-west-2-1"}
    assert standin.calls[0].registry_ids == ["123456789012"]
    # The alias and the registry itself share one cache entry.
    assert run(["get"], HOST.encode()).returncode == 0
    assert standin.count() == 1


def test_profile_selects_credentials_and_enters_the_cache_key(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    aws = home / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[pull]\naws_access_key_id = AKIDPULLPROFILE\naws_secret_access_key = pullsecret\n"
    )
    other = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
    write_config(home, f'[profiles]\n"{other}" = "pull"\n')
    assert run(["get"], other.encode()).returncode == 0
    assert run(["get"], HOST.encode()).returncode == 0
    by_account = {c.registry_ids[0]: c.access_key_id for c in standin.calls}
    assert by_account == {"210987654321": "AKIDPULLPROFILE", "123456789012": ACCESS_KEY}
    keys = json.loads((home / ".ecr" / "cache.json").read_text())["Registries"]
    assert len({key.split("-")[-2] for key in keys}) == 2  # two identities, two key parts


def test_broken_config_is_reported_and_other_hosts_keep_working(
    run: Runner, home: Path, standin: StandIn
) -> None:
    write_config(home, "[aliases\nthis is not toml")
    result = run(["get"], HOST.encode())
    assert result.returncode == 0
    assert json.loads(result.stdout)["Username"] == "AWS"
    assert b"config:" in result.stderr and b"not valid TOML" in result.stderr
    doctor = run(["doctor", HOST])
    assert lines(doctor.stdout)["config"] == "FAIL"
    assert doctor.returncode == 1


def test_invalid_alias_target_is_reported(run: Runner, home: Path) -> None:
    write_config(home, f'[aliases]\n"{ALIAS}" = "example.org"\n"good.example" = "{HOST}"\n')
    result = run(["get"], b"good.example")
    assert result.returncode == 0
    assert b"the target is not an ECR registry host" in result.stderr


def test_config_is_parsed_once_then_read_from_its_parsed_copy(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    path = write_config(home, f'[aliases]\n"{ALIAS}" = "{HOST}"\n')
    assert run(["get"], ALIAS.encode()).returncode == 0
    parsed = home / ".ecr" / ".config.parsed.json"
    assert json.loads(parsed.read_text())["aliases"] == {ALIAS: HOST}
    assert oct(parsed.stat().st_mode & 0o777) == "0o600"
    # Editing the file is seen at once (the copy is keyed by inode, size and mtime).
    other = "210987654321.dkr.ecr.eu-west-2.amazonaws.com"
    path.write_text(f'[aliases]\n"{ALIAS}" = "{other}"\n')
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1000))
    result = run(["get"], ALIAS.encode())
    assert json.loads(result.stdout)["Secret"].startswith("210987654321-")


def test_alias_hit_path_imports_no_tomllib(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    import subprocess
    import sys

    write_config(home, f'[aliases]\n"{ALIAS}" = "{HOST}"\n')
    assert run(["get"], ALIAS.encode()).returncode == 0
    probe = (
        "import os, sys\nfrom docker_credential_ecr_py import _cli\n"
        "code=_cli.run(['get'], sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer,"
        " os.environ)\n"
        "sys.stdout.flush()\n"
        "print(sorted(m for m in ('tomllib','re','json','botocore') if m in sys.modules), code, "
        "file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        input=ALIAS.encode(),
        capture_output=True,
        env=env,
        check=False,
    )
    assert result.stderr.decode().strip() == "[] 0"


def test_config_file_location_is_settable(
    run: Runner, env: dict[str, str], tmp_path: Path, standin: StandIn
) -> None:
    path = tmp_path / "ecr.toml"
    path.write_text(f'[aliases]\n"{ALIAS}" = "{HOST}"\n')
    env["AWS_ECR_CONFIG_FILE"] = str(path)
    assert run(["get"], ALIAS.encode(), env_=env).returncode == 0


def test_log_level_and_file_controls(
    run: Runner, env: dict[str, str], tmp_path: Path, home: Path, standin: StandIn
) -> None:
    log = tmp_path / "custom.log"
    env.update({"AWS_ECR_LOG_FILE": str(log), "AWS_ECR_LOG_LEVEL": "debug"})
    assert run(["get"], HOST.encode(), env_=env).returncode == 0
    assert run(["get"], HOST.encode(), env_=env).returncode == 0
    text = log.read_text()
    assert "level=info" in text and "level=debug" in text and "cached token" in text
    assert oct(log.stat().st_mode & 0o777) == "0o600"
    assert not (home / ".ecr" / "log").exists()
    env["AWS_ECR_LOG_FILE"] = "off"
    before = log.read_text()
    run(["get"], b"not-ecr.example.com", env_=env)
    assert log.read_text() == before


def test_log_rotation_by_size_with_many_writers(
    env: dict[str, str], tmp_path: Path, standin: StandIn
) -> None:
    import subprocess

    from support import CONSOLE_SCRIPT

    log = tmp_path / "rot.log"
    env.update(
        {
            "AWS_ECR_LOG_FILE": str(log),
            "AWS_ECR_LOG_LEVEL": "debug",
            "AWS_ECR_LOG_MAX_BYTES": "2000",
        }
    )
    procs = [
        subprocess.Popen(
            [str(CONSOLE_SCRIPT), "get"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        for _ in range(20)
    ]
    for proc in procs:
        proc.communicate(f"not-ecr-{id(proc)}.example.com".encode(), timeout=60)
    assert log.exists() and Path(f"{log}.1").exists()
    assert log.stat().st_size <= 2000 + 400
    for path in (log, Path(f"{log}.1")):
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        for line in path.read_text().splitlines():
            assert line.startswith('time="') and line.endswith('"'), line  # no torn lines


def test_settings_problems_do_not_break_get(
    run: Runner, env: dict[str, str], standin: StandIn
) -> None:
    env.update({"AWS_ECR_TIMEOUT": "soon", "AWS_ECR_LOG_LEVEL": "loud"})
    result = run(["get"], HOST.encode(), env_=env)
    assert result.returncode == 0
    assert ACCESS_KEY.encode() not in result.stderr


def test_cache_command_shows_without_tokens_and_clears(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    standin.password_template = "shown-never-{serial}"
    assert run(["get"], HOST.encode()).returncode == 0
    shown = run(["cache", "show"])
    assert shown.returncode == 0
    text = shown.stdout.decode()
    assert HOST in text and "you" in text and "fresh" in text
    assert "shown-never" not in text and "QVdT" not in text
    assert run(["cache", "path"]).stdout.decode().strip() == str(home / ".ecr" / "cache.json")
    cleared = run(["cache", "clear"])
    assert cleared.stdout.decode().endswith("1 removed, 0 kept\n")
    assert json.loads((home / ".ecr" / "cache.json").read_text())["Registries"] == {}
    assert run(["get"], HOST.encode()).returncode == 0
    assert standin.count() == 2
