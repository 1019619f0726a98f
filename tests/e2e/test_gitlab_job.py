"""The GitLab Docker-in-Docker job, as the docs set it up, in a real job container.

The job container runs a job image (``engines.JOB_IMAGE`` from ``Dockerfile.helper-debian`` with
the onedir; the same image with the static build mounted first on ``PATH``; or
``engines.PIP_JOB_IMAGE`` with the console script) and talks to dockerd through the bind-mounted
socket, as a job talks to its ``docker:dind`` service. Its environment is what the runner and
the EKS webhook give a job: ``DOCKER_AUTH_CONFIG`` from the documented ``config.toml``, and
either static keys or ``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE`` (moto's STS). It runs
the documented ``pre_build_script`` verbatim, then ``list``, ``docker pull`` and ``list``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import engines
import pytest
from ecr_e2e import BUSYBOX_REPO, HOST, REGION, EcrRegistry

from support import CONSOLE_SCRIPT, ONEDIR, ROOT, STATIC, service_account_jwt
from support.standin import StandIn
from support.sts import CountingMotoServer, counting_sts

pytestmark = [pytest.mark.e2e, pytest.mark.engines]

JOB_DOC = ROOT / "docs" / "gitlab" / "job-images.md"
DOC_HOST = "111122223333.dkr.ecr.eu-west-2.amazonaws.com"  # the registry the docs configure
TOKEN_PATH = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"  # where EKS mounts it
ROLE_ARN = "arn:aws:iam::123456789012:role/gitlab-ci-jobs"
JOB_UID = 1000
JOB_HOME = "/home/job"


def documented_runner() -> dict[str, Any]:
    """The first ``[[runners]]`` of the first ``config.toml`` block in job-images.md."""
    for block in re.findall(r"^```toml\n(.*?)^```", JOB_DOC.read_text(), re.M | re.S):
        runners = tomllib.loads(block).get("runners")
        if runners:
            runner: dict[str, Any] = runners[0]
            return runner
    raise AssertionError(f"no [[runners]] config.toml block in {JOB_DOC}")


def documented_auth_config(runner: dict[str, Any], host: str) -> str:
    (entry,) = [e for e in runner["environment"] if e.startswith("DOCKER_AUTH_CONFIG=")]
    return str(entry.removeprefix("DOCKER_AUTH_CONFIG=")).replace(DOC_HOST, host)


def job_script(pre_build_script: str, ref: str) -> str:
    """What the runner runs: its pre_build_script, then the job's own script."""
    return f"""set -eu
trap 'echo "--- log"; cat "$HOME"/.ecr/log/*.log 2>/dev/null || true' EXIT
{pre_build_script}
echo "--- env"; echo "DOCKER_AUTH_CONFIG=${{DOCKER_AUTH_CONFIG:-<unset>}}"
echo "--- helper"; readlink -f "$(command -v docker-credential-ecr-login)"
echo "--- list 1"; docker-credential-ecr-login list
echo "--- pull"; docker pull -q {ref}
echo "--- list 2"; docker-credential-ecr-login list
echo "--- config"; cat "${{DOCKER_CONFIG:-$HOME/.docker}}/config.json"
"""


def sections(output: str) -> dict[str, str]:
    found: dict[str, str] = {}
    name = ""
    for line in output.splitlines():
        if line.startswith("--- "):
            name = line[4:]
            found[name] = ""
        elif name:
            found[name] += line + "\n"
    return found


@pytest.fixture(scope="module")
def sts() -> Iterator[CountingMotoServer]:
    with counting_sts() as server:  # one for the module: the job runs are the slow part
        yield server


def build_name(helper_exe: str) -> str:
    return {str(CONSOLE_SCRIPT): "console-script", str(ONEDIR): "onedir", str(STATIC): "static"}[
        helper_exe
    ]


def run_job(
    daemon: engines.Dockerd,
    build: str,
    standin: StandIn,
    sts: CountingMotoServer,
    tmp_path: Path,
    *,
    identity: str,
    locked_down: bool = False,
) -> tuple[int, dict[str, str], str]:
    """Run the job once; (exit status, output sections, the whole output)."""
    runner = documented_runner()
    ref = f"{HOST}/{BUSYBOX_REPO}"
    daemon.docker(["rmi", ref], daemon.env())
    image = engines.PIP_JOB_IMAGE if build == "console-script" else engines.JOB_IMAGE
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    values = {
        "DOCKER_HOST": "unix:///var/run/docker.sock",
        "DOCKER_AUTH_CONFIG": documented_auth_config(runner, HOST),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_ECR": standin.url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ECR_LOG_LEVEL": "debug",
    }
    args = ["run", "--rm", "--network", "host", "-v", f"{daemon.socket}:/var/run/docker.sock"]
    if build == "static":
        args += ["-v", f"{STATIC}:/opt/static/docker-credential-ecr-login:ro"]
        path = "/opt/static:" + path
    values["PATH"] = path
    secrets = {}
    if identity == "static-keys":
        values["AWS_ACCESS_KEY_ID"] = engines.ACCESS_KEY
        secrets["AWS_SECRET_ACCESS_KEY"] = engines.SECRET_KEY
    else:
        token = tmp_path / "token"
        token.write_text(service_account_jwt("system:serviceaccount:gitlab-runner:gitlab-ci-jobs"))
        token.chmod(0o644)  # a non-root job reads it through fsGroup on EKS
        args += ["-v", f"{token}:{TOKEN_PATH}:ro"]
        values.update(
            {
                "AWS_ROLE_ARN": ROLE_ARN,
                "AWS_WEB_IDENTITY_TOKEN_FILE": TOKEN_PATH,
                "AWS_ENDPOINT_URL_STS": sts.url,
                "AWS_STS_REGIONAL_ENDPOINTS": "regional",
            }
        )
    if locked_down:
        values["HOME"] = JOB_HOME
        args += ["--read-only", "--user", f"{JOB_UID}:{JOB_UID}"]
        args += ["--group-add", str(engines.SOCKET_GID)]  # the dind socket, as a TCP port would be
        for writable in engines.WRITABLE[build]:
            where = JOB_HOME if writable == "$HOME" else writable
            # docker's --tmpfs is noexec unless told: the static build runs what it unpacks.
            args += ["--tmpfs", f"{where}:rw,exec,uid={JOB_UID},gid={JOB_UID},mode=0700"]
    for name, value in values.items():
        args += ["-e", f"{name}={value}"]
    for name in secrets:  # by name only: the value travels in the docker CLI's environment
        args += ["-e", name]
    args += [image, "bash", "-c", job_script(runner["pre_build_script"], ref)]
    env = daemon.env({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), **secrets})
    result = daemon.docker(args, env, timeout=180)
    output = result.stdout + result.stderr
    return result.returncode, sections(result.stdout), output


#: Which executable the job must have run, per build.
HELPER_IN_JOB = {
    "onedir": "/opt/docker-credential-ecr-login/docker-credential-ecr-login",
    "static": "/opt/static/docker-credential-ecr-login",
    "console-script": "/opt/venv/bin/docker-credential-ecr-login",
}


def assert_job_pulled(
    code: int, parts: dict[str, str], output: str, build: str, *, baked_config: bool
) -> None:
    assert code == 0, output
    assert parts["helper"].strip() == HELPER_IN_JOB[build], output
    expected = {f"https://{HOST}": "AWS"}
    assert json.loads(parts["list 1"]) == expected, output
    assert parts["pull"].strip() == f"{HOST}/{BUSYBOX_REPO}", output
    assert json.loads(parts["list 2"]) == expected, output
    # The pre_build_script merged DOCKER_AUTH_CONFIG into config.json (beside what the image's
    # own config.json held, when the job's HOME is the image's), then unset it.
    helpers = {HOST: "ecr-login"}
    if baked_config:
        helpers[engines.BAKED_REGISTRY] = "ecr-login"
    assert json.loads(parts["config"]) == {"credHelpers": helpers}, output
    assert parts["env"].strip() == "DOCKER_AUTH_CONFIG=<unset>", output


@pytest.mark.parametrize("identity", ["static-keys", "web-identity"])
def test_job_lists_and_pulls(
    identity: str,
    dockerd: engines.Dockerd,
    job_images: engines.JobImages,
    engine_registry: EcrRegistry,
    helper_exe: str,
    e2e_standin: StandIn,
    sts: CountingMotoServer,
    tmp_path: Path,
) -> None:
    sts_before = sts.count("AssumeRoleWithWebIdentity")
    build = build_name(helper_exe)
    code, parts, output = run_job(dockerd, build, e2e_standin, sts, tmp_path, identity=identity)
    assert_job_pulled(code, parts, output, build, baked_config=build != "console-script")
    calls = e2e_standin.snapshot()
    # list primes the job's own registry (1 ECR call); the pull and the second list hit the cache.
    assert [(c.service, c.status, c.region) for c in calls] == [("ecr", 200, REGION)], output
    sts_calls = sts.count("AssumeRoleWithWebIdentity") - sts_before
    if identity == "web-identity":
        assert sts_calls == 1, output
        assert calls[0].access_key_id and calls[0].access_key_id.startswith("ASIA")
    else:
        assert sts_calls == 0
        assert calls[0].access_key_id == engines.ACCESS_KEY


def test_job_with_a_read_only_root_as_a_non_root_user(
    dockerd: engines.Dockerd,
    job_images: engines.JobImages,
    helper_exe: str,
    e2e_standin: StandIn,
    sts: CountingMotoServer,
    tmp_path: Path,
) -> None:
    """``--read-only``, uid 1000, and a tmpfs only where ``engines.WRITABLE`` (and the docs) say."""
    build = build_name(helper_exe)
    code, parts, output = run_job(
        dockerd, build, e2e_standin, sts, tmp_path, identity="web-identity", locked_down=True
    )
    assert_job_pulled(code, parts, output, build, baked_config=False)
    # One ECR call for list + pull + list: the cache in the tmpfs $HOME served the rest.
    assert e2e_standin.count() == 1, output
    assert f"get: cached token for {HOST}" in parts["log"], output


def test_job_images_are_built_from_the_dockerfile(job_images: engines.JobImages) -> None:
    """The job image carries the onedir at the documented place, and its config step ran."""
    daemon = job_images.daemon
    result = daemon.docker(
        [
            "run", "--rm", "--network", "none", engines.JOB_IMAGE, "sh", "-c",
            "readlink /usr/local/bin/docker-credential-ecr-login;"
            " docker-credential-ecr-login version; cat /root/.docker/config.json;"
            " docker --version",
        ],
        daemon.env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "/opt/docker-credential-ecr-login/docker-credential-ecr-login"
    assert lines[1].startswith("docker-credential-ecr-login (docker-credential-ecr-py) ")
    config = json.loads("".join(lines[2:-1]))
    assert config == {"credHelpers": {engines.BAKED_REGISTRY: "ecr-login"}}  # ECR_REGISTRIES
    assert lines[-1].startswith("Docker version 28.")
