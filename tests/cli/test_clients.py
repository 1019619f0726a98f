"""The helper through the real Python clients: docker-py (``docker.credentials``, ``docker.auth``)
and docker-pycreds. They find ``docker-credential-ecr-login`` on PATH and run it with the
process environment, so the test environment is put into ``os.environ`` (monkeypatched).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import docker.auth
import docker.credentials
import pytest

from support import CONSOLE_SCRIPT, HOST
from support.standin import StandIn

NAME = "docker-credential-ecr-login"
PASSWORD_TEMPLATE = 'p<&>\u2028é"\\{serial}'


def password(serial: int) -> str:
    return PASSWORD_TEMPLATE.format(serial=serial)


@pytest.fixture
def client_env(
    env: dict[str, str], standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """``os.environ`` becomes exactly the ``env`` fixture (no AWS_PROFILE, proxies, ...)."""
    for key in list(os.environ):
        if key not in env:
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    standin.configure(password_template=PASSWORD_TEMPLATE)
    found = shutil.which(NAME, path=env["PATH"])
    assert found is not None and Path(found) == CONSOLE_SCRIPT, found
    assert shutil.which(NAME) == found
    return env


def quiet(capfd: pytest.CaptureFixture[str]) -> None:
    """The helper's stderr is inherited by Python clients: nothing may appear there."""
    err = capfd.readouterr().err
    assert err == ""


# -- docker.credentials.Store ----------------------------------------------------------------


def test_docker_store_get(
    client_env: dict[str, str], standin: StandIn, capfd: pytest.CaptureFixture[str]
) -> None:
    store = docker.credentials.Store("ecr-login", environment=client_env)
    assert store.exe == str(CONSOLE_SCRIPT)
    expected = {"ServerURL": HOST, "Username": "AWS", "Secret": password(1)}
    assert store.get(HOST) == expected
    # The keys list() reports carry https://: the ServerURL echo keeps it (a cache hit).
    assert store.get(f"https://{HOST}") == {**expected, "ServerURL": f"https://{HOST}"}
    assert standin.count("ecr") == 1
    quiet(capfd)


def test_docker_store_get_public(
    client_env: dict[str, str], standin: StandIn, capfd: pytest.CaptureFixture[str]
) -> None:
    store = docker.credentials.Store("ecr-login", environment=client_env)
    assert store.get("public.ecr.aws") == {
        "ServerURL": "public.ecr.aws",
        "Username": "AWS",
        "Secret": password(1),
    }
    assert standin.count("ecr-public") == 1
    quiet(capfd)


@pytest.mark.parametrize("server", ["example.com", "https://index.docker.io/v1/", "ghcr.io"])
def test_docker_store_not_found(
    client_env: dict[str, str], standin: StandIn, server: str, capfd: pytest.CaptureFixture[str]
) -> None:
    store = docker.credentials.Store("ecr-login", environment=client_env)
    with pytest.raises(docker.credentials.errors.CredentialsNotFound) as info:
        store.get(server)
    assert str(info.value) == f"No matching credentials in {NAME}"
    assert standin.count() == 0
    quiet(capfd)


def test_docker_store_store_and_erase_not_implemented(
    client_env: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    store = docker.credentials.Store("ecr-login", environment=client_env)
    message = f'Credentials store {NAME} exited with "not implemented\n".'
    with pytest.raises(docker.credentials.errors.StoreError) as info:
        store.store(HOST, "AWS", "secret")
    assert type(info.value) is docker.credentials.errors.StoreError
    assert str(info.value) == message
    with pytest.raises(docker.credentials.errors.StoreError) as info:
        store.erase(HOST)
    assert type(info.value) is docker.credentials.errors.StoreError
    assert str(info.value) == message
    quiet(capfd)


def test_docker_store_store_and_erase_ignored(
    client_env: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    store = docker.credentials.Store(
        "ecr-login", environment={"AWS_ECR_IGNORE_CREDS_STORAGE": "true"}
    )
    assert store.store(HOST, "AWS", "p<é>") == b""
    assert store.erase(HOST) is None
    quiet(capfd)


def test_docker_store_list(
    client_env: dict[str, str], standin: StandIn, capfd: pytest.CaptureFixture[str]
) -> None:
    store = docker.credentials.Store("ecr-login", environment=client_env)
    assert store.list() == {}
    store.get(HOST)
    listed = store.list()
    assert isinstance(listed, dict)
    assert listed == {f"https://{HOST}": "AWS"}
    quiet(capfd)


# -- docker.auth (config.json) ---------------------------------------------------------------


def write_config(home: Path, config: dict[str, Any]) -> Path:
    path = home / ".docker" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_auth_cred_helpers(
    client_env: dict[str, str], home: Path, standin: StandIn, capfd: pytest.CaptureFixture[str]
) -> None:
    path = write_config(home, {"credHelpers": {HOST: "ecr-login"}})
    config = docker.auth.load_config(config_path=str(path))
    assert config.get_credential_store(HOST) == "ecr-login"
    assert config.resolve_authconfig(HOST) == {
        "ServerAddress": HOST,
        "Username": "AWS",
        "Password": password(1),
    }
    # Docker Hub is not in credHelpers and there is no credsStore: no helper call at all.
    assert config.resolve_authconfig("docker.io") is None
    # A pull of host/repo resolves to the host first.
    assert docker.auth.resolve_repository_name(f"{HOST}/team/app") == (HOST, "team/app")
    assert standin.count() == 1
    quiet(capfd)


def test_auth_creds_store_get_all_and_fallback(
    client_env: dict[str, str],
    home: Path,
    standin: StandIn,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    path = write_config(home, {"credsStore": "ecr-login"})
    config = docker.auth.load_config(config_path=str(path))
    everything = config.get_all_credentials()
    key = f"https://{HOST}"  # the stand-in's default account 123456789012 in AWS_REGION
    assert key in everything
    assert everything[key] == {"ServerAddress": key, "Username": "AWS", "Password": password(1)}
    assert everything[HOST] == everything[key]  # docker-py also files it under the bare host
    assert standin.count("ecr") == 1  # list primed the cache; get was a hit
    # Docker Hub through the ECR store: not found, so docker-py falls back to auths (none).
    assert config.resolve_authconfig("docker.io") is None
    assert config.resolve_authconfig("ghcr.io") is None
    assert config.resolve_authconfig(HOST) == {
        "ServerAddress": HOST,
        "Username": "AWS",
        "Password": password(1),
    }
    assert standin.count() == 1
    quiet(capfd)


def test_auth_creds_store_without_region_lists_nothing(
    client_env: dict[str, str], home: Path, standin: StandIn, capfd: pytest.CaptureFixture[str]
) -> None:
    path = write_config(home, {"credsStore": "ecr-login"})
    config = docker.auth.load_config(config_path=str(path))
    assert config.get_all_credentials() == {}
    assert standin.count() == 0
    quiet(capfd)


# -- docker-pycreds --------------------------------------------------------------------------


@pytest.fixture
def dockerpycreds() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # it imports distutils
        import dockerpycreds

    return dockerpycreds


def test_dockerpycreds(
    client_env: dict[str, str],
    standin: StandIn,
    dockerpycreds: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    store = dockerpycreds.Store("ecr-login", environment=client_env)
    assert store.get(HOST) == {"ServerURL": HOST, "Username": "AWS", "Secret": password(1)}
    with pytest.raises(dockerpycreds.CredentialsNotFound):
        store.get("example.com")
    with pytest.raises(dockerpycreds.StoreError) as info:
        store.store(HOST, "AWS", "secret")
    assert type(info.value) is dockerpycreds.StoreError
    assert str(info.value) == f'Credentials store {NAME} exited with "not implemented".'
    assert store.list() == {f"https://{HOST}": "AWS"}
    assert standin.count() == 1
    quiet(capfd)
