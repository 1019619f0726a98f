"""The release: what ``make dist`` puts in dist/, installed as users install it, and the README's
install commands run as written in a clean HOME with Debian's Go helper in /usr/bin.

These run when ``make dist`` has made the artifacts (``make test`` does), else skip locally and
fail under ``CI=true``. pipx installs need the package index (CI has it).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

from docker_credential_ecr_py import __version__
from support import DIST, GO_HELPER, HOST, IN_CI, ROOT, require
from support.standin import StandIn

ARCH = os.uname().machine
WHEEL = DIST / f"docker_credential_ecr_py-{__version__}-py3-none-any.whl"
SDIST = DIST / f"docker_credential_ecr_py-{__version__}.tar.gz"
TARBALL = DIST / f"docker-credential-ecr-login-{__version__}-linux-{ARCH}.tar.gz"
STATIC_FILE = DIST / f"docker-credential-ecr-login-{__version__}-linux-{ARCH}-static"
ARTIFACTS = (WHEEL, SDIST, TARBALL, STATIC_FILE)
PIPX = Path(shutil.which("pipx") or ROOT / ".venv" / "bin" / "pipx")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

pytestmark = pytest.mark.frozen


@pytest.fixture
def artifacts() -> None:
    missing = [p.name for p in ARTIFACTS if not p.exists()]
    require("the release artifacts", not missing, f"make dist makes them (missing: {missing})")


def clean_env(home: Path, standin: StandIn, path: str) -> dict[str, str]:
    """A user's environment: a fresh HOME, the system PATH, pip's settings, the stand-in."""
    env = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    env.update(
        HOME=str(home),
        PATH=path,
        LANG="C.UTF-8",
        # pip's download cache only (the index is the same): installs stay quick.
        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        AWS_ACCESS_KEY_ID="AKIDEXAMPLERELEASE",
        AWS_SECRET_ACCESS_KEY="release-test-secret",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_ECR=standin.url,
        AWS_ENDPOINT_URL_ECR_PUBLIC=standin.url,
    )
    return env


@functools.cache
def _index_reachable() -> bool:
    """Whether pip can fetch from its package index (pipx installs the wheel's dependencies)."""
    with tempfile.TemporaryDirectory() as scratch:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", scratch, "pyyaml"],
            capture_output=True,
            timeout=300,
            check=False,
        )
    return proc.returncode == 0


def pipx_dir(tmp_path: Path) -> Path:
    """A directory holding only pipx (the test venv's bin has our console script too)."""
    require("pipx", PIPX.exists(), "the test extra installs it")
    require("the package index", _index_reachable(), "pipx installs botocore and pyyaml from it")
    only = tmp_path / "pipx-only"
    only.mkdir()
    (only / "pipx").symlink_to(PIPX)
    return only


def test_sha256sums_cover_every_artifact(artifacts: None) -> None:
    lines = (DIST / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split("  ", 1)[1] for line in lines) == sorted(p.name for p in ARTIFACTS)
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=DIST, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_wheel_and_sdist_carry_the_license_and_no_build_output(artifacts: None) -> None:
    with zipfile.ZipFile(WHEEL) as wheel:
        names = wheel.namelist()
        meta = wheel.read(f"docker_credential_ecr_py-{__version__}.dist-info/METADATA").decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert "License-Expression: Apache-2.0" in meta
    assert f"Version: {__version__}" in meta
    with tarfile.open(SDIST) as sdist:
        members = [m.name.split("/", 1)[-1] for m in sdist.getmembers()]
    for needed in (
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "src/docker_credential_ecr_py/_cli.py",
    ):
        assert needed in members, needed
    assert not [m for m in members if m.startswith(("build/", "dist/", ".venv/"))]
    assert "Apache License" in (ROOT / "LICENSE").read_text()[:200]


def test_onedir_tarball_unpacks_and_answers(
    artifacts: None, tmp_path: Path, standin: StandIn
) -> None:
    with tarfile.open(TARBALL) as tar:
        tar.extractall(tmp_path / "opt", filter="tar")
    exe = tmp_path / "opt" / "docker-credential-ecr-login" / "docker-credential-ecr-login"
    provider = exe.parent / "ecr-credential-provider"
    assert provider.is_symlink() and os.readlink(provider) == "docker-credential-ecr-login"
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, standin, SYSTEM_PATH)
    got = subprocess.run(
        [exe, "get"], input=HOST.encode(), env=env, capture_output=True, check=False
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["Username"] == "AWS"
    assert os.access(STATIC_FILE, os.X_OK)


def test_pipx_installs_the_wheel_and_get_answers(
    artifacts: None, tmp_path: Path, standin: StandIn
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, standin, f"{SYSTEM_PATH}:{pipx_dir(tmp_path)}")
    env["PIPX_HOME"] = str(tmp_path / "pipx-home")
    env["PIPX_BIN_DIR"] = str(tmp_path / "pipx-bin")

    def sh(script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    installed = sh(f"pipx install {WHEEL}")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    exe = tmp_path / "pipx-bin" / "docker-credential-ecr-login"
    assert (tmp_path / "pipx-bin" / "ecr-credential-provider").exists()
    got = subprocess.run(
        [exe, "get"], input=HOST.encode(), env=env, capture_output=True, check=False
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == {
        "ServerURL": HOST,
        "Username": "AWS",
        "Secret": json.loads(got.stdout)["Secret"],
    }
    version = subprocess.run([exe, "version"], env=env, capture_output=True, text=True, check=False)
    assert (
        version.stdout == f"docker-credential-ecr-login (docker-credential-ecr-py) {__version__}\n"
    )
    assert standin.count() == 1
    # The README's upgrade and uninstall commands.
    upgraded = sh(f"pipx install --force {WHEEL}")
    assert upgraded.returncode == 0, upgraded.stderr
    removed = sh("pipx uninstall docker-credential-ecr-py")
    assert removed.returncode == 0, removed.stderr
    assert not exe.exists()


def readme_block(heading: str) -> str:
    """The first ```sh block under a README heading."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(f"\n## {heading}\n") :]
    found = re.search(r"^```sh\n(.*?)^```", section, re.M | re.S)
    assert found, heading
    return found.group(1)


def test_readme_install_commands_run_ours_ahead_of_the_go_helper_in_usr_bin(
    tmp_path: Path, standin: StandIn
) -> None:
    # The README's install block, as written, from a copy of the repository, in a clean HOME,
    # with Debian's Go helper at /usr/bin/docker-credential-ecr-login (an overlay in a private
    # mount namespace: the machine's /usr/bin is untouched).
    require("root", os.geteuid() == 0, "the overlay on /usr/bin needs root")
    require("unshare", shutil.which("unshare") is not None, "util-linux")
    require("Debian's Go helper", GO_HELPER.exists(), "make deps unpacks it into build/peers/")
    block = readme_block("Install")
    assert "pipx install ." in block
    tree = tmp_path / "clone"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            (tree / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / os.fsdecode(name))
    # The overlay's upper and work directories on a tmpfs mounted in the namespace (an overlay
    # cannot sit on an overlayfs /tmp, as in a container).
    layers = tmp_path / "usr-bin-layers"
    layers.mkdir()
    upper, work = layers / "upper", layers / "work"
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, standin, f"{SYSTEM_PATH}:{pipx_dir(tmp_path)}")
    sdk = ROOT / ".venv" / "bin" / "python"
    checks = f"""
set -euo pipefail
cd {tree}
{block}
echo "--- which: $(type -ap docker-credential-ecr-login | tr '\\n' ' ')"
grep -q amazon-ecr-credential-helper /usr/bin/docker-credential-ecr-login
echo "--- version: $(docker-credential-ecr-login version)"
echo "--- sdk: $({sdk} -c 'import docker.credentials, sys
print(docker.credentials.Store("ecr-login").get(sys.argv[1])["Username"])' {HOST})"
"""
    overlay = (
        f"mount -t tmpfs tmpfs {layers} && mkdir {upper} {work} && "
        f"cp {GO_HELPER} {upper}/docker-credential-ecr-login && "
        f"mount -t overlay overlay -o lowerdir=/usr/bin,upperdir={upper},workdir={work} /usr/bin"
    )
    proc = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            f'{overlay} && exec bash -c "$0"',
            checks,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    which = re.search(r"^--- which: (.*)$", out, re.M)
    assert which, out
    found = which.group(1).split()
    assert found[0] == str(home / ".local" / "bin" / "docker-credential-ecr-login"), found
    assert "/usr/bin/docker-credential-ecr-login" in found  # the Go helper is there, behind ours
    assert (
        f"--- version: docker-credential-ecr-login (docker-credential-ecr-py) {__version__}" in out
    )
    assert "--- sdk: AWS" in out
    assert "Updated " in out  # configure-docker wrote the config
    config = json.loads((home / ".docker" / "config.json").read_text())
    assert config["credHelpers"][HOST] == "ecr-login"
    assert "warning: Docker will run" not in proc.stderr
    if IN_CI:  # make deps keeps the Go helper out of the machine's own /usr/bin
        assert not Path("/usr/bin/docker-credential-ecr-login").exists()
