"""The declared registries: what ``list`` always names, so GitLab Runner's ``credsStore`` path
(``list``, then ``get`` for each listed registry) reaches a cross-account central registry.

Declared by ``AWS_ECR_REGISTRIES`` (spaces and/or commas) or ``registries = [...]`` in the config
file; ``configure-docker --creds-store HOST...`` writes the latter.
"""

from __future__ import annotations

import json
import os
import time
import tomllib
from pathlib import Path

import docker.credentials
import pytest

from docker_credential_ecr_py import _cache
from docker_credential_ecr_py._commands.configure import (
    configure_docker_main,
    gitlab_auth_config_main,
)
from support import CONSOLE_SCRIPT, HOST, Runner, cache_key, closed_url, run_command
from support.standin import StandIn

CENTRAL = "111122223333.dkr.ecr.eu-west-2.amazonaws.com"
OTHER = "444455556666.dkr.ecr.us-east-1.amazonaws.com"


def listed(run: Runner, env: dict[str, str]) -> tuple[dict[str, str], str]:
    proc = run(["list"], env_=env)
    assert proc.returncode == 0, proc
    return json.loads(proc.stdout), proc.stderr.decode()


def test_list_names_and_primes_the_declared_registries(
    run: Runner, env: dict[str, str], standin: StandIn
) -> None:
    env["AWS_ECR_REGISTRIES"] = f"{CENTRAL}, {OTHER}"
    found, err = listed(run, env)
    assert found == {f"https://{CENTRAL}": "AWS", f"https://{OTHER}": "AWS"}
    assert err == ""
    assert standin.count() == 2  # primed: the runner's get after list is a cache hit
    for host in (CENTRAL, OTHER):
        assert run(["get"], f"https://{host}".encode(), env_=env).returncode == 0
    assert listed(run, env)[0] == found
    assert standin.count() == 2  # warm: list and get make no call


def test_declared_in_the_config_file(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    (home / ".ecr").mkdir(mode=0o700)
    (home / ".ecr" / "config.toml").write_text(
        f'registries = ["{CENTRAL}", "https://{OTHER}/"]\n\n[aliases]\n'
        f'"registry.example.com" = "{HOST}"\n'
    )
    found, err = listed(run, env)
    assert set(found) == {f"https://{CENTRAL}", f"https://{OTHER}"}
    assert err == ""


def test_an_alias_may_be_declared(run: Runner, env: dict[str, str], home: Path) -> None:
    (home / ".ecr").mkdir(mode=0o700)
    (home / ".ecr" / "config.toml").write_text(
        f'registries = ["registry.example.com"]\n[aliases]\n"registry.example.com" = "{HOST}"\n'
    )
    assert listed(run, env)[0] == {"https://registry.example.com": "AWS"}


def test_a_name_that_is_not_ecr_is_said_and_left_out(run: Runner, env: dict[str, str]) -> None:
    env["AWS_ECR_REGISTRIES"] = f"docker.io {CENTRAL}"
    found, err = listed(run, env)
    assert found == {f"https://{CENTRAL}": "AWS"}
    assert "AWS_ECR_REGISTRIES: 'docker.io' is not an Amazon ECR registry; not listed" in err


def test_a_bad_registries_value_is_a_config_problem(
    run: Runner, env: dict[str, str], home: Path
) -> None:
    (home / ".ecr").mkdir(mode=0o700)
    (home / ".ecr" / "config.toml").write_text('registries = "not-a-list"\n')
    proc = run(["list"], env_=env)
    assert (proc.returncode, proc.stdout) == (0, b"{}\n")
    assert "registries must be a list of registry hosts" in proc.stderr.decode()


def test_failing_registries_stay_listed_and_list_answers_in_its_bound(
    run_process: Runner, env: dict[str, str]
) -> None:
    # An unreachable endpoint: list still names every declared registry (the runner's get for
    # each then answers not-found, which drops nothing), exits 0, within the time bound.
    env.update(
        AWS_ECR_REGISTRIES=f"{CENTRAL} {OTHER}",
        AWS_ENDPOINT_URL_ECR=closed_url(),
        AWS_ECR_TIMEOUT="2",
    )
    started = time.monotonic()
    proc = run_process(["list"], env_=env)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {f"https://{CENTRAL}": "AWS", f"https://{OTHER}": "AWS"}
    assert f"list: {CENTRAL}: " in proc.stderr.decode()
    assert elapsed < 2 + 10  # the 2 s bound, with slack for a loaded machine's start-up


def test_list_keeps_its_bound_when_other_processes_hold_the_fetch_locks(
    run_process: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    # Parallel runner jobs: another process holds each declared registry's fetch lock, lets go
    # of the first just before list's bound, and AWS then hangs. list still answers within its
    # one bound: the lock wait and the fetch share it (a fetch given its own full bound after
    # the wait would answer at about 3.5 + 4 s).
    import fcntl
    import threading

    third = "210987654321.dkr.ecr.us-west-2.amazonaws.com"
    env.update(AWS_ECR_REGISTRIES=f"{CENTRAL} {OTHER} {third}", AWS_ECR_TIMEOUT="4")
    standin.default_fault = "hang"
    directory = home / ".ecr"
    directory.mkdir(mode=0o700)
    held = []
    for host in (CENTRAL, OTHER, third):
        name = f".fetch-{_cache._key_hash(cache_key(env, home, host))}.lock"
        fd = os.open(directory / name, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.append(fd)
    release = threading.Timer(3.5, fcntl.flock, (held[0], fcntl.LOCK_UN))
    try:
        started = time.monotonic()
        release.start()
        proc = run_process(["list"], env_=env)
        elapsed = time.monotonic() - started
    finally:
        release.cancel()
        for fd in held:
            os.close(fd)
    assert proc.returncode == 0
    assert set(json.loads(proc.stdout)) == {f"https://{h}" for h in (CENTRAL, OTHER, third)}
    err = proc.stderr.decode()
    assert f"list: {CENTRAL}: Timeout" in err  # it got the lock, then AWS hung
    # One bound of 4 s for everything (the regression answers at 7.5 s or later); 2.5 s slack.
    assert elapsed < 4 + 2.5, elapsed


def test_the_docker_sdk_gets_every_listed_registry(
    env: dict[str, str], standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What GitLab Runner does with credsStore (docker/cli's nativeStore.GetAll): list, then get
    # each listed key. The Docker SDK's Store does the same through the real executable.
    env["AWS_ECR_REGISTRIES"] = CENTRAL
    env["PATH"] = f"{CONSOLE_SCRIPT.parent}:{env['PATH']}"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    store = docker.credentials.Store("ecr-login", environment=env)
    listing = store.list()
    assert f"https://{CENTRAL}" in listing
    answer = store.get(f"https://{CENTRAL}")
    assert answer["Username"] == "AWS" and answer["Secret"]
    assert answer["ServerURL"] == f"https://{CENTRAL}"


# --- configure-docker --creds-store HOST... writes them ------------------------------------------


def _config_toml(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".ecr" / "config.toml"


def test_configure_docker_creds_store_declares_hosts(env: dict[str, str]) -> None:
    code, out, err = run_command(configure_docker_main, ["--creds-store", CENTRAL, OTHER], env)
    assert code == 0, err
    docker_config = json.loads((Path(env["HOME"]) / ".docker" / "config.json").read_text())
    assert docker_config == {"credsStore": "ecr-login"}
    path = _config_toml(env)
    assert tomllib.loads(path.read_text()) == {"registries": [CENTRAL, OTHER]}
    assert path.stat().st_mode & 0o777 == 0o600
    assert f"Updated {path}: registries {CENTRAL}, {OTHER}" in out
    again = run_command(configure_docker_main, ["--creds-store", CENTRAL], env)
    assert again[0] == 0 and f"Unchanged {path}" in again[1]


def test_declaring_keeps_the_rest_of_the_config_file(env: dict[str, str]) -> None:
    path = _config_toml(env)
    path.parent.mkdir(mode=0o700)
    original = (
        "# our ECR setup\n"
        f'registries = ["{CENTRAL}"]  # the central account\n'
        "\n[aliases]\n"
        f'"registry.example.com" = "{HOST}"  # a CNAME\n'
        "\n[profiles]\n"
        f'"{OTHER}" = "prod-pull"\n'
    )
    path.write_text(original)
    code, _, err = run_command(configure_docker_main, ["--creds-store", OTHER], env)
    assert code == 0, err
    text = path.read_text()
    assert text == original.replace(
        f'registries = ["{CENTRAL}"]  # the central account\n',
        f'registries = ["{CENTRAL}", "{OTHER}"]\n',
    )
    # A file without the key gets it above its first table.
    path.write_text(f'[aliases]\n"registry.example.com" = "{HOST}"\n')
    assert run_command(configure_docker_main, ["--creds-store", CENTRAL], env)[0] == 0
    assert tomllib.loads(path.read_text()) == {
        "registries": [CENTRAL],
        "aliases": {"registry.example.com": HOST},
    }


def test_a_file_it_cannot_edit_safely_is_left_alone(env: dict[str, str]) -> None:
    path = _config_toml(env)
    path.parent.mkdir(mode=0o700)
    # A multi-line array is rewritten as one line; one with comments inside is not touched.
    path.write_text(f'registries = [\n  "{CENTRAL}",\n]\n')
    assert run_command(configure_docker_main, ["--creds-store", OTHER], env)[0] == 0
    assert path.read_text() == f'registries = ["{CENTRAL}", "{OTHER}"]\n'
    original = f'registries = [\n  "{CENTRAL}",  # central ]\n]\n'
    path.write_text(original)
    code, _, err = run_command(configure_docker_main, ["--creds-store", HOST], env)
    assert code == 1
    assert "cannot edit" in err and f'registries = ["{CENTRAL}", "{HOST}"]' in err
    assert path.read_text() == original
    path.write_text("registries = [\n")  # not TOML
    code, _, err = run_command(configure_docker_main, ["--creds-store", OTHER], env)
    assert code == 1 and "is not valid TOML" in err


def test_crlf_and_symlinked_config_files_are_edited_in_place(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = _config_toml(env)
    path.parent.mkdir(mode=0o700)
    real = tmp_path / "dotfiles" / "ecr.toml"
    real.parent.mkdir()
    real.write_bytes(
        f'registries = ["{CENTRAL}"]\r\n\r\n[aliases]\r\n"a.example" = "{HOST}"\r\n'.encode()
    )
    path.symlink_to(real)
    code, _, err = run_command(configure_docker_main, ["--creds-store", OTHER], env)
    assert code == 0, err
    assert path.is_symlink()  # the link stays; its target was rewritten
    assert (
        real.read_bytes()
        == (
            f'registries = ["{CENTRAL}", "{OTHER}"]\r\n\r\n[aliases]\r\n"a.example" = "{HOST}"\r\n'
        ).encode()
    )


def test_a_config_file_it_cannot_edit_leaves_config_json_alone(env: dict[str, str]) -> None:
    docker_config = Path(env["HOME"]) / ".docker" / "config.json"
    docker_config.parent.mkdir()
    docker_config.write_text('{"credHelpers": {"x.example": "other"}}\n')
    path = _config_toml(env)
    path.parent.mkdir(mode=0o700)
    path.write_text("registries = 5\n")
    code, out, err = run_command(configure_docker_main, ["--creds-store", CENTRAL], env)
    assert (code, out) == (1, "")
    assert "registries is not a list of strings" in err
    assert docker_config.read_text() == '{"credHelpers": {"x.example": "other"}}\n'


def test_dry_run_declares_nothing(env: dict[str, str]) -> None:
    code, out, err = run_command(
        configure_docker_main, ["--dry-run", "--creds-store", CENTRAL], env
    )
    assert code == 0
    assert json.loads(out) == {"credsStore": "ecr-login"}
    assert f"would add {CENTRAL} to registries" in err
    assert not _config_toml(env).exists()


def test_the_declared_file_is_what_list_reads(run: Runner, env: dict[str, str]) -> None:
    assert run_command(configure_docker_main, ["--creds-store", CENTRAL], env)[0] == 0
    assert listed(run, env)[0] == {f"https://{CENTRAL}": "AWS"}


def test_gitlab_auth_config_creds_store_names_the_variable(env: dict[str, str]) -> None:
    code, out, err = run_command(gitlab_auth_config_main, ["--creds-store", CENTRAL, OTHER], env)
    assert (code, out) == (0, '{"credsStore":"ecr-login"}\n')
    assert f'AWS_ECR_REGISTRIES="{CENTRAL} {OTHER}"' in err
