"""A cached ``get`` costs no AWS call, no botocore import and none of the slow stdlib modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from standin import StandIn
from support import HOST, Runner, closed_url

# Each of these costs more to import than the Go helper's whole cached run.
FORBIDDEN = (
    "boto3",
    "botocore",
    "json",
    "re",
    "logging",
    "typing",
    "configparser",
    "tempfile",
    "hashlib",
    "cachetools",
    "dataclasses",
    "datetime",
    "threading",
)

PROBE = """
import sys
from docker_credential_ecr_py import _cli
sys.argv = ["docker-credential-ecr-login", "get"]
code = _cli.run()
sys.stdout.flush()
print(sorted(m for m in {forbidden!r} if m in sys.modules), code, file=sys.stderr)
"""


@pytest.fixture
def warm(run: Runner, standin: StandIn) -> None:
    """One real fetch, so the next get is a hit."""
    assert run(["get"], HOST.encode()).returncode == 0
    assert standin.count() == 1


def dead_network(env: dict[str, str]) -> dict[str, str]:
    """Every AWS endpoint and proxy at a closed port."""
    dead = closed_url()
    env = dict(env)
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ECR",
        "AWS_ENDPOINT_URL_ECR_PUBLIC",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        env[name] = dead
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = dead
    return env


def test_hit_answers_with_every_endpoint_closed(
    warm: None, run: Runner, env: dict[str, str], standin: StandIn
) -> None:
    result = run(["get"], HOST.encode(), env_=dead_network(env))
    assert result.returncode == 0, result
    assert json.loads(result.stdout)["Secret"] == "123456789012-eu-west-2-1"
    assert result.stderr == b""
    assert standin.count() == 1


def test_hit_imports_nothing_heavy(warm: None, env: dict[str, str]) -> None:
    probe = PROBE.format(forbidden=FORBIDDEN)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        input=HOST.encode(),
        capture_output=True,
        env=dead_network(env),
        check=False,
    )
    assert json.loads(result.stdout)["Username"] == "AWS"
    assert result.stderr.decode().strip() == "[] 0"


def test_miss_does_import_botocore(env: dict[str, str], standin: StandIn) -> None:
    # The probe can see imports: a miss must show botocore (so the hit test above can fail).
    probe = PROBE.format(forbidden=("botocore",))
    result = subprocess.run(
        [sys.executable, "-c", probe],
        input=HOST.encode(),
        capture_output=True,
        env=env,
        check=False,
    )
    assert result.stderr.decode().strip() == "['botocore'] 0"


def test_library_hit_leaves_no_botocore(warm: None, env: dict[str, str], home: Path) -> None:
    code = (
        "import sys\n"
        "from docker_credential_ecr_py._config import Settings\n"
        "from docker_credential_ecr_py._helper import EcrHelper\n"
        "import os\n"
        "h = EcrHelper(Settings(os.environ), memory=True)\n"
        f"for _ in range(3): assert h.get({HOST!r})[0] == 'AWS'\n"
        "print('botocore' in sys.modules, 'boto3' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=dead_network(env), check=False
    )
    assert result.stdout.decode().strip() == "False False", result.stderr
