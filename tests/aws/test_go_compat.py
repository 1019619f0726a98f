"""Side by side with Debian's Go helper (amazon-ecr-credential-helper 0.6.0) on one cache file.

The Go helper deletes a cache file it cannot parse (its ``load()`` error path calls ``Clear()``),
so a file that survives a Go run, entries intact, parsed under its rules. Its 0.6.0 key is the
legacy MD5-quirk shape, which we read: a token it cached is a hit for us.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import GO_HELPER, HOST, Runner, closed_url, require, run_helper
from support.standin import StandIn


@pytest.fixture
def go_helper() -> str:
    require(
        "Debian's amazon-ecr-credential-helper",
        GO_HELPER.exists(),
        f"make deps unpacks it into {GO_HELPER.parent} (or set ECR_GO_HELPER)",
    )
    return str(GO_HELPER)


def test_go_helper_parses_our_file_and_keeps_our_entries(
    go_helper: str, run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    for host in (HOST, "public.ecr.aws", "210987654321.dkr.ecr.us-east-1.amazonaws.com"):
        assert run(["get"], host.encode()).returncode == 0
    cache = home / ".ecr" / "cache.json"
    ours = cache.read_text()
    # The Go helper misses (its 0.6 key shape differs) and cannot reach AWS (no network here,
    # and it ignores AWS_ENDPOINT_URL*): it answers "not found", after loading our file.
    go_env = dict(env, HTTPS_PROXY=closed_url(), AWS_REGION="eu-west-2")
    result = run_helper(go_helper, ["get"], HOST.encode(), go_env, timeout=120)
    assert result.stdout == b"credentials not found in native keychain\n"
    assert cache.exists(), "the Go helper deleted our cache file: it could not parse it"
    assert json.loads(cache.read_text()) == json.loads(ours)
    log = (home / ".ecr" / "log" / "ecr-login.log").read_text()
    assert "Could not load existing cache" not in log


def test_we_hit_a_token_the_go_helper_cached(
    go_helper: str, run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    # The Go helper writes its own entry; we cannot point it at the stand-in, so write what it
    # writes (feasibility notes, section 5: its exact format and legacy key) and let it read it back
    # as a hit first: proof that the entry is the Go helper's own shape.
    import base64
    import time

    from docker_credential_ecr_py._lean import format_time, legacy_checksum
    from support import ACCESS_KEY

    now = time.time()
    token = base64.b64encode(b"AWS:go-cached-password").decode()
    key = f"eu-west-2-{legacy_checksum(ACCESS_KEY)}-123456789012"
    entry = {
        "AuthorizationToken": token,
        "RequestedAt": format_time(now - 60)[:-1] + "+00:00",
        "ExpiresAt": format_time(now + 12 * 3600),
        "ProxyEndpoint": f"https://{HOST}",
        "Service": "ecr",
    }
    cache = home / ".ecr" / "cache.json"
    cache.parent.mkdir(mode=0o700)
    cache.write_text(json.dumps({"Registries": {key: entry}, "Version": "1.0"}, indent=2))
    go = run_helper(go_helper, ["get"], HOST.encode(), dict(env, HTTPS_PROXY=closed_url()))
    assert json.loads(go.stdout)["Secret"] == "go-cached-password"  # the Go helper's own hit
    ours = run(["get"], HOST.encode())
    assert json.loads(ours.stdout)["Secret"] == "go-cached-password"
    assert standin.count() == 0


def test_warm_list_makes_no_network_call(
    run: Runner, env: dict[str, str], standin: StandIn
) -> None:
    env["AWS_REGION"] = "eu-west-2"
    first = run(["list"], env_=env)
    assert json.loads(first.stdout) == {f"https://{HOST}": "AWS"}
    assert standin.count() == 1  # the default registry, fetched once
    dead = closed_url()
    env.update({"AWS_ENDPOINT_URL_ECR": dead, "HTTPS_PROXY": dead, "HTTP_PROXY": dead})
    warm = run(["list"], env_=env)
    assert warm.stdout == first.stdout
    assert warm.stderr == b""
    assert standin.count() == 1
