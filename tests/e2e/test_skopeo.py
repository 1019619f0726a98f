"""skopeo -> docker-credential-ecr-login (ours) -> AWS stand-in, against a real registry.

The registry is Debian's docker-registry with htpasswd auth, served as the real ECR host name
with no port (see ``ecr_e2e``).  Three ways of telling skopeo to use the helper.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ecr_e2e import (
    ACCESS_KEY,
    ACCOUNT,
    CONSOLE_SCRIPT,
    HELPER_NAME,
    HOST,
    REGION,
    EcrRegistry,
    authorized_requests,
    helper_env,
    helper_log,
    helper_on_path,
    rejected_requests,
    write_cred_helpers,
    write_registries_conf,
)
from tiny_image import TinyImage

from support.standin import StandIn

pytestmark = pytest.mark.e2e

REPO_TAG = "e2e/tiny:v1"
MODES = ("docker-config", "registry-auth-file", "registries-conf")


def configure_mode(mode: str, env: dict[str, str], tmp_path: Path) -> Path | None:
    """Point skopeo at the helper one way; return the registries.conf to use (None: empty)."""
    if mode == "docker-config":  # $DOCKER_CONFIG/config.json
        write_cred_helpers(Path(env["DOCKER_CONFIG"]) / "config.json", [HOST])
        return None
    if mode == "registry-auth-file":  # REGISTRY_AUTH_FILE, nothing in $DOCKER_CONFIG
        env["REGISTRY_AUTH_FILE"] = str(write_cred_helpers(tmp_path / "auth.json", [HOST]))
        return None
    assert mode == "registries-conf"
    # Only registries.conf names our helper.  A decoy in the Docker config points at a helper
    # that does not exist: were the auth files consulted at all, skopeo would fail on it.
    write_cred_helpers(Path(env["DOCKER_CONFIG"]) / "config.json", [HOST], "e2e-decoy-missing")
    conf: Path = write_registries_conf(tmp_path / "registries.conf", [HELPER_NAME])
    return conf


def assert_our_helper_first(env: dict[str, str]) -> None:
    """skopeo must run the console script, not Debian's Go helper in /usr/bin."""
    found = helper_on_path(env)
    assert found == CONSOLE_SCRIPT, (
        f"docker-credential-{HELPER_NAME} on PATH is {found}, expected {CONSOLE_SCRIPT}"
    )


def token_calls(standin: StandIn) -> int:
    return sum(1 for c in standin.snapshot() if c.target.endswith(".GetAuthorizationToken"))


@pytest.mark.parametrize("mode", MODES)
def test_push_then_inspect_uses_one_token(
    mode: str,
    ecr_registry: EcrRegistry,
    tiny_image: TinyImage,
    e2e_standin: StandIn,
    e2e_env: dict[str, str],
    tmp_path: Path,
) -> None:
    log_mark = len(ecr_registry.log_text())
    assert_our_helper_first(e2e_env)
    conf = configure_mode(mode, e2e_env, tmp_path)
    ref = ecr_registry.ref(REPO_TAG)

    push = ecr_registry.copy(tiny_image.ref, ref, e2e_env, registries_conf=conf)
    assert push.returncode == 0, f"push failed:\n{push.stderr}\n{helper_log(e2e_env)}"
    assert token_calls(e2e_standin) == 1

    inspect = ecr_registry.inspect(ref, e2e_env, registries_conf=conf)
    assert inspect.returncode == 0, f"inspect failed:\n{inspect.stderr}\n{helper_log(e2e_env)}"
    info = json.loads(inspect.stdout)
    assert info["Name"] == f"{HOST}/e2e/tiny"
    assert info["Digest"] == tiny_image.manifest_digest
    assert "v1" in info["RepoTags"]
    assert info["Layers"] == [tiny_image.layer_digest]

    # One GetAuthorizationToken for push + inspect: every later helper run was a cache hit.
    calls = e2e_standin.snapshot()
    assert [(c.service, c.status, c.region, c.access_key_id) for c in calls] == [
        ("ecr", 200, REGION, ACCESS_KEY)
    ]
    assert calls[0].registry_ids in ([], [ACCOUNT])
    log = helper_log(e2e_env)
    assert len(re.findall(r"get: fetching a token for " + re.escape(HOST), log)) == 1, log
    hits = len(re.findall(r"get: cached token for " + re.escape(HOST), log))
    # skopeo 1.9.3 runs the helper 3 times here (copy: 1, inspect: 2 - image, then tags list).
    assert hits >= 1, log
    assert "level=error" not in log and "level=warning" not in log, log

    # The registry authorised the manifest push and pull (htpasswd: only the helper's password
    # passes); its only 401s were the unauthenticated /v2/ pings that precede every login.
    registry_log = ecr_registry.log_text()[log_mark:]
    authorized = authorized_requests(registry_log)
    assert ("PUT", "/v2/e2e/tiny/manifests/v1") in authorized, registry_log
    assert ("GET", "/v2/e2e/tiny/manifests/v1") in authorized, registry_log
    assert set(rejected_requests(registry_log)) <= {("GET", "/v2/")}, registry_log


def test_wrong_token_fails_the_pull(
    ecr_registry: EcrRegistry,
    tiny_image: TinyImage,
    e2e_standin: StandIn,
    e2e_env: dict[str, str],
    tmp_path: Path,
) -> None:
    assert_our_helper_first(e2e_env)
    ref = ecr_registry.ref(REPO_TAG)
    configure_mode("docker-config", e2e_env, tmp_path)
    push = ecr_registry.copy(tiny_image.ref, ref, e2e_env)  # the image exists: only auth can fail
    assert push.returncode == 0, f"push failed:\n{push.stderr}\n{helper_log(e2e_env)}"

    # Nothing cached in a fresh HOME, and the stand-in now issues a password the registry rejects.
    e2e_standin.configure(password_template="wrong")
    wrong_env = helper_env(tmp_path / "home-wrong", e2e_standin.url)
    configure_mode("docker-config", wrong_env, tmp_path / "wrong")
    before = token_calls(e2e_standin)
    inspect = ecr_registry.inspect(ref, wrong_env)
    assert inspect.returncode != 0, inspect.stdout
    assert "unauthorized: authentication required" in inspect.stderr, inspect.stderr
    assert token_calls(e2e_standin) == before + 1  # the helper fetched (and returned) "wrong"
    log = helper_log(wrong_env)
    assert "level=error" not in log, log  # the helper itself succeeded; the registry said no


def test_alias_through_skopeo(
    ecr_registry: EcrRegistry,
    tiny_image: TinyImage,
    e2e_standin: StandIn,
    e2e_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """A custom name (a CNAME or pull-through front) mapped to the ECR host in [aliases]."""
    alias = "registry.example.test"
    assert alias in ecr_registry.names
    assert_our_helper_first(e2e_env)
    config = tmp_path / "ecr-config.toml"
    config.write_text(f'[aliases]\n"{alias}" = "{HOST}"\n')
    e2e_env["AWS_ECR_CONFIG_FILE"] = str(config)
    write_cred_helpers(Path(e2e_env["DOCKER_CONFIG"]) / "config.json", [alias])
    ref = ecr_registry.ref("e2e/alias:v1", host=alias)

    push = ecr_registry.copy(tiny_image.ref, ref, e2e_env)
    assert push.returncode == 0, f"push failed:\n{push.stderr}\n{helper_log(e2e_env)}"
    inspect = ecr_registry.inspect(ref, e2e_env)
    assert inspect.returncode == 0, f"inspect failed:\n{inspect.stderr}\n{helper_log(e2e_env)}"
    assert json.loads(inspect.stdout)["Digest"] == tiny_image.manifest_digest
    # The token is the ECR registry's: one call, for its account and region.
    calls = e2e_standin.snapshot()
    assert [(c.region, c.registry_ids) for c in calls] == [(REGION, [ACCOUNT])]

    # Without the alias the helper declines the name and the registry refuses the pull.
    config.write_text("")
    fresh = helper_env(tmp_path / "home-noalias", e2e_standin.url)
    fresh["AWS_ECR_CONFIG_FILE"] = str(config)
    write_cred_helpers(Path(fresh["DOCKER_CONFIG"]) / "config.json", [alias])
    refused = ecr_registry.inspect(ref, fresh)
    assert refused.returncode != 0
    assert "unauthorized" in refused.stderr, refused.stderr
