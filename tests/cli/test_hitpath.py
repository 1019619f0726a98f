"""A cached ``get`` costs no AWS call, no botocore import and none of the slow stdlib modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import HOST, Runner, closed_url
from support.standin import StandIn

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
import os, sys
from docker_credential_ecr_py import _cli
code = _cli.run(["get"], sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer, os.environ)
sys.stdout.flush()
print(sorted(m for m in {forbidden!r} if m in sys.modules), code, file=sys.stderr)
"""

# Everything a cache hit imports beyond the interpreter's own start: exactly these, no more.
# (Before the restructure: 12 of the package's modules and __future__; now 12 and no __future__.)
HIT_MODULES = {
    "docker_credential_ecr_py",
    "docker_credential_ecr_py._cache",
    "docker_credential_ecr_py._cli",
    "docker_credential_ecr_py._context",
    "docker_credential_ecr_py._helper",
    "docker_credential_ecr_py._identity",
    "docker_credential_ecr_py._lean",
    "docker_credential_ecr_py._log",
    "docker_credential_ecr_py._protocol",
    "docker_credential_ecr_py._registry",
    "docker_credential_ecr_py._settings",
    "docker_credential_ecr_py._token",
    "_json",
    "binascii",
    "errno",
    "_sha2" if sys.version_info >= (3, 12) else "_sha256",
}

IMPORTS_PROBE = """
import os, sys
before = set(sys.modules)
from docker_credential_ecr_py import _cli
code = _cli.run(["get"], sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer, os.environ)
sys.stdout.flush()
print(" ".join(sorted(set(sys.modules) - before)), file=sys.stderr)
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


def test_hit_imports_exactly_the_listed_modules(warm: None, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-c", IMPORTS_PROBE],
        input=HOST.encode(),
        capture_output=True,
        env=dead_network(env),
        check=False,
    )
    assert json.loads(result.stdout)["Username"] == "AWS"
    imported = set(result.stderr.decode().split())
    assert imported == HIT_MODULES


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
        "from docker_credential_ecr_py._context import Context\n"
        "from docker_credential_ecr_py._settings import Settings\n"
        "from docker_credential_ecr_py._helper import EcrHelper\n"
        "h = EcrHelper(Context(Settings.from_env()), memory=True)\n"
        f"for _ in range(3): assert h.get({HOST!r})[0] == 'AWS'\n"
        "print('botocore' in sys.modules, 'boto3' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=dead_network(env), check=False
    )
    assert result.stdout.decode().strip() == "False False", result.stderr
