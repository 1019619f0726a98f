"""The docker CLI -> docker-credential-ecr-login (each build) -> AWS stand-in, with a real dockerd.

dockerd 20.10 pulls, pushes and builds against the ECR registry on ``[::1]:443`` with TLS
verified (``engines.Dockerd``); the docker CLI 28 (and Debian's 20.10 CLI for BuildKit) runs the
helper build under test, found first on ``PATH``. Each test starts with an empty helper cache.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import engines
import pytest
from ecr_e2e import (
    ACCOUNT,
    BUSYBOX_REPO,
    HELPER_NAME,
    HOST,
    REGION,
    EcrRegistry,
    authorized_requests,
    helper_env,
    helper_log,
    rejected_requests,
)

from support.standin import StandIn

pytestmark = [pytest.mark.e2e, pytest.mark.engines]

HELPER = f"docker-credential-{HELPER_NAME}"


def docker_env(
    daemon: engines.Dockerd, helper: str, home: Path, standin: StandIn, config: dict[str, object]
) -> dict[str, str]:
    """The docker CLI's environment: ``helper`` first on ``PATH`` (as ``docker-credential-ecr-
    login``), an empty cache in ``home``, static keys, ECR at the stand-in, ``config`` as
    config.json."""
    env = helper_env(home, standin.url, helper)
    env.pop("AWS_REGION", None)
    docker_config = Path(env["DOCKER_CONFIG"])
    docker_config.mkdir(parents=True, exist_ok=True)
    (docker_config / "config.json").write_text(json.dumps(config))
    ready: dict[str, str] = daemon.env(env)
    return ready


def cred_helpers(*hosts: str) -> dict[str, object]:
    return {"credHelpers": dict.fromkeys(hosts, HELPER_NAME)}


CREDS_STORE: dict[str, object] = {"credsStore": HELPER_NAME}


def forget(daemon: engines.Dockerd, *refs: str) -> None:
    """Untag ``refs`` so that the next pull asks the registry (the layers may stay)."""
    daemon.docker(["rmi", *refs], daemon.env())


def pull(daemon: engines.Dockerd, ref: str, env: dict[str, str]) -> tuple[str, str]:
    forget(daemon, ref)
    result = daemon.docker(["pull", "-q", ref], env, timeout=120)
    assert result.returncode == 0, f"docker pull failed:\n{result.stderr}\n{helper_log(env)}"
    return result.stdout, result.stderr


def token_calls(standin: StandIn) -> int:
    return sum(1 for c in standin.snapshot() if c.target.endswith(".GetAuthorizationToken"))


@pytest.fixture
def ref(engine_registry: EcrRegistry) -> str:
    return str(engine_registry.image(BUSYBOX_REPO))


def test_pull_with_cred_helpers(
    dockerd: engines.Dockerd,
    engine_registry: EcrRegistry,
    helper_exe: str,
    e2e_standin: StandIn,
    tmp_path: Path,
    ref: str,
) -> None:
    env = docker_env(dockerd, helper_exe, tmp_path / "home", e2e_standin, cred_helpers(HOST))
    mark = len(engine_registry.log_text())
    out, err = pull(dockerd, ref, env)
    assert out.strip() == ref
    assert err == ""
    calls = e2e_standin.snapshot()
    assert [(c.service, c.status, c.region) for c in calls] == [("ecr", 200, REGION)]
    assert calls[0].registry_ids in ([], [ACCOUNT])
    # The registry authorised the manifest with the helper's token (htpasswd: nothing else works).
    authorized = authorized_requests(engine_registry.log_text()[mark:])
    assert ("GET", "/v2/e2e/busybox/manifests/1") in authorized or (
        "HEAD",
        "/v2/e2e/busybox/manifests/1",
    ) in authorized, authorized


def test_pull_with_creds_store(
    dockerd: engines.Dockerd, helper_exe: str, e2e_standin: StandIn, tmp_path: Path, ref: str
) -> None:
    env = docker_env(dockerd, helper_exe, tmp_path / "home", e2e_standin, CREDS_STORE)
    out, err = pull(dockerd, ref, env)
    assert out.strip() == ref
    assert err == ""
    assert token_calls(e2e_standin) == 1


def test_second_pull_is_served_from_the_cache(
    dockerd: engines.Dockerd, helper_exe: str, e2e_standin: StandIn, tmp_path: Path, ref: str
) -> None:
    env = docker_env(dockerd, helper_exe, tmp_path / "home", e2e_standin, cred_helpers(HOST))
    pull(dockerd, ref, env)
    assert token_calls(e2e_standin) == 1
    pull(dockerd, ref, env)
    assert token_calls(e2e_standin) == 1  # no AWS call: the token came from the disk cache
    log = helper_log(env)
    assert len(re.findall(r"get: cached token for " + re.escape(HOST), log)) >= 1, log


def test_push(
    dockerd: engines.Dockerd,
    engine_registry: EcrRegistry,
    helper_exe: str,
    e2e_standin: StandIn,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    env = docker_env(dockerd, helper_exe, tmp_path / "home", e2e_standin, cred_helpers(HOST))
    build = request.node.callspec.id
    target = engine_registry.image(f"e2e/pushed-{build}:1")
    assert dockerd.docker(["tag", engines.BUSYBOX, target], env).returncode == 0
    mark = len(engine_registry.log_text())
    result = dockerd.docker(["push", "-q", target], env, timeout=120)
    forget(dockerd, target)
    assert result.returncode == 0, f"docker push failed:\n{result.stderr}\n{helper_log(env)}"
    assert token_calls(e2e_standin) == 1
    assert ("PUT", f"/v2/e2e/pushed-{build}/manifests/1") in authorized_requests(
        engine_registry.log_text()[mark:]
    )


BUILD_FILE = f"FROM {HOST}/{BUSYBOX_REPO}\nRUN echo built-through-the-helper > /built\n"


def build_from_ecr(
    daemon: engines.Dockerd, env: dict[str, str], context: Path, *, buildkit: bool
) -> str:
    """``docker build --pull`` of a Dockerfile ``FROM`` the ECR image; the image's /built."""
    context.mkdir()
    (context / "Dockerfile").write_text(BUILD_FILE)
    tag = f"local/built-{context.parent.name.lower()}:1"
    cli = engines.DEBIAN_DOCKER_CLI if buildkit else engines.DOCKER_CLI
    env = dict(env, DOCKER_BUILDKIT="1" if buildkit else "0")
    forget(daemon, f"{HOST}/{BUSYBOX_REPO}")
    args = ["build", "--pull", "--network", "none", "-t", tag, str(context)]
    result = daemon.docker(args, env, cli=cli, timeout=180)
    assert result.returncode == 0, f"docker build failed:\n{result.stdout}\n{result.stderr}"
    run = daemon.docker(["run", "--rm", "--network", "none", tag, "cat", "/built"], env)
    daemon.docker(["rmi", tag], env)
    assert run.returncode == 0, run.stderr
    return str(run.stdout).strip()


@pytest.mark.parametrize("buildkit", [False, True], ids=["classic", "buildkit"])
def test_build_from_an_ecr_image(
    dockerd: engines.Dockerd,
    helper_exe: str,
    e2e_standin: StandIn,
    tmp_path: Path,
    buildkit: bool,
) -> None:
    env = docker_env(dockerd, helper_exe, tmp_path / "home", e2e_standin, cred_helpers(HOST))
    assert build_from_ecr(dockerd, env, tmp_path / "ctx", buildkit=buildkit) == (
        "built-through-the-helper"
    )
    assert token_calls(e2e_standin) >= 1
    assert "level=error" not in helper_log(env)


def test_classic_build_with_creds_store_gets_the_default_registry_from_list(
    dockerd: engines.Dockerd, helper_exe: str, e2e_standin: StandIn, tmp_path: Path
) -> None:
    """The classic builder sends only what ``list`` returns: with a region and an empty cache,
    ``list`` must name the caller's own registry."""
    env = docker_env(dockerd, helper_exe, tmp_path / "home", e2e_standin, CREDS_STORE)
    env["AWS_REGION"] = REGION
    assert build_from_ecr(dockerd, env, tmp_path / "ctx", buildkit=False) == (
        "built-through-the-helper"
    )


def test_creds_store_leaves_a_non_ecr_registry_anonymous(
    dockerd: engines.Dockerd,
    anonymous_registry: EcrRegistry,
    helper_exe: str,
    e2e_standin: StandIn,
    tmp_path: Path,
) -> None:
    env = docker_env(dockerd, helper_exe, tmp_path / "home", e2e_standin, CREDS_STORE)
    ref = anonymous_registry.image(BUSYBOX_REPO)
    out, err = pull(dockerd, ref, env)
    assert out.strip() == ref
    assert err == ""  # the helper, asked for 127.0.0.1:<port>, said not-found and nothing else
    assert f"'{anonymous_registry.host}' is not an Amazon ECR registry" in helper_log(env)
    assert token_calls(e2e_standin) == 0


def test_a_token_the_registry_rejects_gives_dockers_auth_error(
    dockerd: engines.Dockerd,
    engine_registry: EcrRegistry,
    helper_exe: str,
    e2e_standin: StandIn,
    tmp_path: Path,
    ref: str,
) -> None:
    e2e_standin.configure(password_template="wrong-{account}")
    env = docker_env(dockerd, helper_exe, tmp_path / "home", e2e_standin, cred_helpers(HOST))
    forget(dockerd, ref)
    mark = len(engine_registry.log_text())
    result = dockerd.docker(["pull", "-q", ref], env, timeout=120)
    assert result.returncode != 0
    assert "unauthorized" in result.stderr, result.stderr
    # The daemon sent the helper's (wrong) token with the manifest request and the registry
    # refused it: not a pull that went out without credentials.
    registry_log = engine_registry.log_text()[mark:]
    rejected = {uri for _, uri in rejected_requests(registry_log)}
    assert "/v2/e2e/busybox/manifests/1" in rejected, registry_log
    assert not authorized_requests(registry_log), registry_log
    assert token_calls(e2e_standin) == 1
    assert "level=error" not in helper_log(env)  # the helper succeeded; the registry said no


#: AWS_ECR_TIMEOUT for the hung endpoint, and what docker may add on top (its own start, the
#: registry round trips, a loaded machine).
HUNG_TIMEOUT = 3.0
HUNG_SLACK = 10.0


def test_hung_aws_endpoint_fails_the_pull_within_the_timeout(
    dockerd: engines.Dockerd, helper_exe: str, e2e_standin: StandIn, tmp_path: Path, ref: str
) -> None:
    e2e_standin.configure(default_fault="hang", hang_seconds=120)
    env = docker_env(dockerd, helper_exe, tmp_path / "home", e2e_standin, cred_helpers(HOST))
    env["AWS_ECR_TIMEOUT"] = str(HUNG_TIMEOUT)
    forget(dockerd, ref)
    started = time.monotonic()
    result = dockerd.docker(["pull", "-q", ref], env, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert elapsed < HUNG_TIMEOUT + HUNG_SLACK, f"docker pull took {elapsed:.1f} s"
    # The helper's one-line cause reached docker's stderr (the CLI passes helper stderr through).
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith(f"{HELPER}: {HOST}: ")]
    assert len(lines) == 1, result.stderr
    assert "no basic auth credentials" in result.stderr, result.stderr
    assert token_calls(e2e_standin) >= 1


def test_dockerd_verifies_the_registry_certificate(
    dockerd: engines.Dockerd, engine_registry: EcrRegistry, tmp_path: Path
) -> None:
    """The registry is not on 127/8, so dockerd checks TLS and never falls back to plain HTTP:
    without the CA in certs.d for the name it refuses the certificate."""
    alias = next(name for name in engine_registry.names if name != HOST)
    certs = dockerd.directory / "etc-docker" / "certs.d" / alias
    hidden = certs.with_name(alias + ".hidden")
    certs.rename(hidden)
    try:
        result = dockerd.docker(["pull", "-q", f"{alias}/{BUSYBOX_REPO}"], dockerd.env())
    finally:
        hidden.rename(certs)
    assert result.returncode != 0
    assert "x509: certificate signed by unknown authority" in result.stderr, result.stderr
