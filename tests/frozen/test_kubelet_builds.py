"""The kubelet provider in every build: the ``ecr-credential-provider`` entry each build ships,
a link to the build made where a kubelet's bin dir would be, and the ``kubelet-credential-
provider`` argument; each answer checked against the strict model of the v1 types."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import HOST, run_helper
from support.kubelet import BUILD_OF, PROVIDER, V1, decode_response, provider_path, request
from support.standin import StandIn

_BY_PATH = {str(path): name for name, path in BUILD_OF.items()}


def _entries(helper_exe: str, where: Path) -> dict[str, tuple[str, list[str]]]:
    """How the kubelet can run this build: name -> (program, args)."""
    build = _BY_PATH[helper_exe]
    bin_dir = where / "bin"
    bin_dir.mkdir()
    (bin_dir / PROVIDER).symlink_to(helper_exe)
    entries = {
        "shipped entry": (str(provider_path(build)), []),
        "symlink in a bin dir": (str(bin_dir / PROVIDER), []),
        "argument": (helper_exe, ["kubelet-credential-provider"]),
    }
    if build == "static":  # one file: a copy (or a hard link) under the name works too
        copied = where / "copy"
        copied.mkdir()
        shutil.copy2(helper_exe, copied / PROVIDER)
        entries["copy under the name"] = (str(copied / PROVIDER), [])
    return entries


@pytest.fixture
def entries(helper_exe: str, tmp_path: Path) -> dict[str, tuple[str, list[str]]]:
    return _entries(helper_exe, tmp_path)


def test_every_entry_answers_the_kubelet(
    entries: dict[str, tuple[str, list[str]]], env: dict[str, str], standin: StandIn
) -> None:
    for name, (program, args) in entries.items():
        result = run_helper(program, args, request(f"{HOST}/app:v1"), env)
        assert result.returncode == 0, (name, result.stderr)
        assert result.stderr == b"", name
        answer = decode_response(result.stdout, V1)
        assert answer.auth[HOST][0] == "AWS", name
        assert answer.cache_duration and answer.cache_duration > 5 * 3600, name
    # One fetch: every later answer came from the disk cache.
    assert standin.count() == 1


def test_the_docker_verbs_keep_their_answers(helper_exe: str, env: dict[str, str]) -> None:
    # The same program under its own name is still the Docker helper.
    usage = run_helper(helper_exe, [], b"", env)
    assert usage.stdout == b"Usage: docker-credential-ecr-login <store|get|erase|list|version>\n"
    assert usage.returncode == 1


def test_non_ecr_image_in_every_build(
    entries: dict[str, tuple[str, list[str]]], env: dict[str, str], standin: StandIn
) -> None:
    program, args = entries["shipped entry"]
    result = run_helper(program, args, request("registry.k8s.io/pause:3.10"), env)
    assert result.returncode == 0
    assert decode_response(result.stdout, V1).auth == {}
    assert standin.calls == []


def test_bad_request_in_every_build(
    entries: dict[str, tuple[str, list[str]]], env: dict[str, str]
) -> None:
    program, args = entries["shipped entry"]
    result = run_helper(program, args, b"{", env)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.startswith(b"ecr-credential-provider: the request on stdin is not JSON")
    assert result.stderr.count(b"\n") == 1


def test_doctor_kubelet_runs_the_provider_of_this_build(
    helper_exe: str, env: dict[str, str], moto_server: str, standin: StandIn
) -> None:
    env = dict(env, AWS_ENDPOINT_URL_STS=moto_server)
    result = run_helper(helper_exe, ["doctor", "--kubelet", f"{HOST}/app"], b"", env)
    text = result.stdout.decode()
    assert result.returncode == 0, text
    assert f"credentials for {HOST} (username AWS)" in text
    assert standin.count() == 1  # the provider process fetched, through the same cache
