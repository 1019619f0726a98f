"""Packaging: the PyInstaller spec, the build script, Dockerfile.helper and the built binaries.

The checks on the frozen binaries run only when ``make binary`` has built them (or fail when
``ECR_TEST_FROZEN=1`` and they are missing), like the protocol suite in conftest.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from support import (
    BIN,
    CONSOLE_SCRIPT,
    DIST,
    HOST,
    IN_CI,
    ONEDIR,
    ROOT,
    STATIC,
    base_env,
    require,
    run_helper,
    service_account_jwt,
)
from support.standin import StandIn

SPEC = ROOT / "packaging" / "docker-credential-ecr-login.spec"
BUILD_SH = ROOT / "packaging" / "build.sh"
DOCKERFILE = ROOT / "Dockerfile.helper"  # the job image, Alpine flavour
DOCKERFILE_DEBIAN = ROOT / "Dockerfile.helper-debian"  # the job image, Debian flavour
NOT_FOUND = b"credentials not found in native keychain\n"

# The botocore service models the helper and botocore's credential chain need (feasibility §3).
INTENDED_SERVICES = {"ecr", "ecr-public", "sts", "sso", "sso-oidc", "signin"}


def find_tool(name: str) -> str:
    """A tool from PATH or from this venv's bin; a skip locally, a failure when CI=true."""
    path = shutil.which(name) or shutil.which(name, path=str(BIN))
    require(name, path is not None, f"pip install {name}-bin / apt-get install {name}")
    assert path is not None
    return path


def need_build(path: Path) -> None:
    """Skip when not built locally; fail when the run promised frozen builds (CI)."""
    if path.exists():
        return
    if os.environ.get("ECR_TEST_FROZEN") == "1":
        pytest.fail(f"{path} is not built although ECR_TEST_FROZEN=1 (run make binary)")
    require(str(path), False, "not built (run make binary)")


def spec_literal(name: str) -> Any:
    """The value of a top-level literal assignment in the spec."""
    tree = ast.parse(SPEC.read_text(), str(SPEC))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not a literal assignment in {SPEC.name}")


# ---- the spec ---------------------------------------------------------------------------------


def test_spec_keeps_only_the_intended_botocore_services() -> None:
    assert set(spec_literal("KEEP_BOTOCORE_SERVICES")) == INTENDED_SERVICES


def test_spec_does_not_exclude_modules_that_boto3_needs() -> None:
    # csv: importlib.metadata (via urllib3); _multiprocessing: s3transfer.compat.
    excludes = set(spec_literal("EXCLUDES"))
    assert not excludes & {"csv", "_csv", "multiprocessing", "_multiprocessing", "xml", "ssl"}


def test_spec_drops_only_the_known_runtime_hooks() -> None:
    assert spec_literal("DROP_RUNTIME_HOOKS") == {
        "pyi_rth_inspect",
        "pyi_rth_pkgutil",
        "pyi_rth_multiprocessing",
    }


# ---- the build script -------------------------------------------------------------------------


def test_build_script_parses_and_knows_its_modes() -> None:
    assert os.access(BUILD_SH, os.X_OK)
    subprocess.run(["bash", "-n", str(BUILD_SH)], check=True)
    help_ = subprocess.run([str(BUILD_SH), "--help"], capture_output=True, text=True, check=False)
    assert help_.returncode == 0
    assert "--onedir-only" in help_.stdout
    bad = subprocess.run([str(BUILD_SH), "--bogus"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "unknown argument" in bad.stderr


@pytest.mark.parametrize(
    "script",
    [
        "packaging/build.sh",
        "packaging/dist.sh",
        "scripts/venv.sh",
        "scripts/install-system-deps.sh",
        ".ci/run",
    ],
)
def test_shell_scripts_pass_shellcheck(script: str) -> None:
    shellcheck = find_tool("shellcheck")
    subprocess.run([shellcheck, str(ROOT / script)], check=True)


def test_venv_of_another_python_is_rebuilt(tmp_path: Path) -> None:
    # A venv whose python reports another version (or is broken) is rebuilt, never reused.
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "python"
    fake.write_text("#!/bin/sh\necho 3.9\n")
    fake.chmod(0o755)
    (venv / "marker").write_text("old venv")
    proc = subprocess.run(
        [str(ROOT / "scripts" / "venv.sh"), str(venv), "demo"],
        env=dict(os.environ, PYTHON=shutil.which("python3") or "python3"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"venv: {venv} is Python 3.9" in proc.stderr and "rebuilding it" in proc.stderr
    assert not (venv / "marker").exists()
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys, docker; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() != "(3, 9)"
    assert (venv / ".installed-demo").exists()
    # A second run reuses it: no rebuild message.
    again = subprocess.run(
        [str(ROOT / "scripts" / "venv.sh"), str(venv), "demo"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0 and "rebuilding" not in again.stderr


# ---- Dockerfile.helper ------------------------------------------------------------------------


def dockerfile_stages(path: Path = DOCKERFILE) -> list[list[str]]:
    """Instructions (continuation lines joined, comments dropped) grouped by FROM."""
    text = re.sub(
        r"\\\n",
        " ",
        "\n".join(
            line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
        ),
    )
    stages: list[list[str]] = [[]]
    for line in (ln.strip() for ln in text.splitlines()):
        if line.upper().startswith("FROM "):
            stages.append([])
        if line:
            stages[-1].append(line)
    return stages


@pytest.mark.parametrize("path", [DOCKERFILE, DOCKERFILE_DEBIAN], ids=lambda p: p.name)
def test_hadolint_passes_on_the_job_image_dockerfiles(path: Path) -> None:
    hadolint = find_tool("hadolint")
    result = subprocess.run(
        [hadolint, "--no-color", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _shared(path: Path) -> dict[str, Any]:
    """What both job-image flavours must hold alike: the build's inputs and command, the helper's
    layout, the config step, the labels, the default command, the build arguments users set."""
    stages = dockerfile_stages(path)
    build = next(st for st in stages if st and re.search(r"\bAS build$", st[0]))
    runtime = stages[-1]
    args = {i.split()[1].split("=")[0] for st in stages for i in st if i.startswith("ARG ")}
    return {
        "build copies": [i for i in build if i.startswith("COPY ")],
        "build command": [
            re.sub(r"^RUN |.*&& ", "", i) for i in build if "packaging/build.sh" in i
        ],
        "helper copy": [i for i in runtime if i.startswith("COPY --from=build ")],
        "config step": [i for i in runtime if "ln -s /opt/docker-credential-ecr-login" in i],
        "labels": [i for i in runtime if i.startswith("LABEL ")],
        "cmd": [i for i in runtime if i.startswith("CMD ")],
        "user args": args & {"PYTHON_VERSION", "ECR_REGISTRIES", "EXTRA_CA_CERTS"},
        "ca step": [
            re.sub(r"\s+", " ", i).split(" && packaging/")[0]
            for i in build
            if "EXTRA_CA_CERTS" in i and i.startswith("RUN ")
        ],
        "packages": {
            p
            for i in runtime
            if "apk add" in i or "apt-get install" in i
            for p in ("bash", "ca-certificates", "curl", "jq", "make", "openssl")
            if re.search(rf"\s{p}(\s|$)", i)
        },
    }


def test_the_two_job_image_flavours_stay_alike() -> None:
    alpine, debian = _shared(DOCKERFILE), _shared(DOCKERFILE_DEBIAN)
    for key, value in alpine.items():
        assert value, f"{key}: nothing found in {DOCKERFILE.name}"
        assert debian[key] == value, key


def test_debian_flavour_builds_the_onedir_on_the_release_it_runs_on() -> None:
    preamble, cli, build, runtime = dockerfile_stages(DOCKERFILE_DEBIAN)
    assert "ARG BUILD_IMAGE=python:${PYTHON_VERSION}-slim-${DEBIAN_VERSION}" in preamble
    assert "ARG BASE_IMAGE=debian:${DEBIAN_VERSION}-slim" in preamble
    assert cli[0] == "FROM ${DOCKER_CLI_IMAGE} AS docker-cli"
    assert build[0] == "FROM ${BUILD_IMAGE} AS build"
    assert runtime[0] == "FROM ${BASE_IMAGE}"
    assert "COPY --from=docker-cli /usr/local/bin/docker /usr/local/bin/docker" in runtime


def test_dockerfile_builds_the_onedir_on_alpine_and_installs_it_with_a_symlink() -> None:
    preamble, build, runtime = dockerfile_stages()
    assert any(i.startswith("ARG PYTHON_VERSION=") for i in preamble)
    assert any(i.startswith("ARG ALPINE_VERSION=") for i in preamble)
    assert re.match(
        r"FROM python:\$\{PYTHON_VERSION\}-alpine\$\{ALPINE_VERSION\} AS build", build[0]
    )
    runs = [i for i in build if i.startswith("RUN ")]
    assert any(re.search(r"packaging/build\.sh\s+--onedir-only\b", i) for i in runs), runs

    assert runtime[0] == "FROM alpine:${ALPINE_VERSION}"
    apk = next(i for i in runtime if "apk add" in i).split()
    for package in ("bash", "jq", "curl", "openssl", "make", "docker-cli", "docker-cli-compose"):
        assert package in apk
    assert (
        "COPY --from=build /src/dist/docker-credential-ecr-login/ /opt/docker-credential-ecr-login/"
        in runtime
    )
    assert any(
        "ln -s /opt/docker-credential-ecr-login/docker-credential-ecr-login"
        " /usr/local/bin/docker-credential-ecr-login" in re.sub(r"\s+", " ", i)
        for i in runtime
    )


def test_dockerfile_config_uses_cred_helpers_never_creds_store() -> None:
    code = "\n".join(i for stage in dockerfile_stages() for i in stage)
    assert "credsStore" not in code  # only in the comment that says why not
    assert "credHelpers" in code
    assert "ARG ECR_REGISTRIES" in code


@pytest.mark.parametrize(
    ("registries", "expected"),
    [
        pytest.param("", {}, id="empty"),
        pytest.param("  ", {}, id="blank"),
        pytest.param(
            "111122223333.dkr.ecr.eu-west-2.amazonaws.com",
            {"credHelpers": {"111122223333.dkr.ecr.eu-west-2.amazonaws.com": "ecr-login"}},
            id="one",
        ),
        pytest.param(
            "a.dkr.ecr.us-east-1.amazonaws.com, public.ecr.aws  b.dkr.ecr.eu-west-1.amazonaws.com,",
            {
                "credHelpers": {
                    "a.dkr.ecr.us-east-1.amazonaws.com": "ecr-login",
                    "public.ecr.aws": "ecr-login",
                    "b.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login",
                }
            },
            id="comma-and-space",
        ),
    ],
)
def test_dockerfile_config_from_ecr_registries(registries: str, expected: dict[str, Any]) -> None:
    """Run the Dockerfile's own jq program (the image has no other way to test it here)."""
    jq = find_tool("jq")
    match = re.search(
        r"""jq -n --arg regs "\$ECR_REGISTRIES" \\\n\s*'([^']*)'""", DOCKERFILE.read_text()
    )
    assert match, "the jq call that writes config.json was not found"
    # The Dockerfile passes the program through the shell in single quotes: no unescaping.
    result = subprocess.run(
        [jq, "-n", "--arg", "regs", registries, match.group(1)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == expected


# ---- the built binaries -----------------------------------------------------------------------


def frozen_builds() -> list[Any]:
    params = []
    for flavour, path in (("onedir", ONEDIR), ("static", STATIC)):
        if path.exists() or os.environ.get("ECR_TEST_FROZEN") == "1" or IN_CI:
            params.append(pytest.param((flavour, path), id=flavour, marks=pytest.mark.frozen))
    if not params:
        params.append(pytest.param(("none", None), id="not-built"))
    return params


@pytest.fixture(params=frozen_builds())
def frozen(request: pytest.FixtureRequest) -> tuple[str, Path]:
    flavour, path = request.param
    # Locally without `make binary`: a skip; under CI=true (which always lists both builds): a
    # failure, through require.
    require("a frozen build in dist/", path is not None, "run make binary")
    if not path.exists():
        pytest.fail(f"{path} is missing although ECR_TEST_FROZEN=1 (run make binary)")
    return flavour, path


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return base_env(home)


def test_frozen_version_is_byte_identical_to_the_console_script(
    frozen: tuple[str, Path], clean_env: dict[str, str]
) -> None:
    _, exe = frozen
    want = run_helper(str(CONSOLE_SCRIPT), ["version"], env=clean_env)
    got = run_helper(str(exe), ["version"], env=clean_env)
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)
    assert got.returncode == 0


def test_frozen_dash_v_names_the_flavour(
    frozen: tuple[str, Path], clean_env: dict[str, str]
) -> None:
    flavour, exe = frozen
    result = run_helper(str(exe), ["-v"], env=clean_env)
    assert result.returncode == 0
    assert re.search(rb"^Build:\s+" + flavour.encode() + rb"\s*$", result.stdout, re.M), result
    console = run_helper(str(CONSOLE_SCRIPT), ["-v"], env=clean_env)
    assert re.search(rb"^Build:\s+console script\s*$", console.stdout, re.M), console


def test_frozen_get_for_a_non_ecr_host_is_not_found(
    frozen: tuple[str, Path], clean_env: dict[str, str]
) -> None:
    _, exe = frozen
    result = run_helper(str(exe), ["get"], b"registry-1.docker.io\n", env=clean_env)
    assert (result.returncode, result.stdout) == (1, NOT_FOUND), result


def test_onedir_works_through_a_symlink_on_path(tmp_path: Path, clean_env: dict[str, str]) -> None:
    need_build(ONEDIR)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "docker-credential-ecr-login").symlink_to(ONEDIR)
    clean_env["PATH"] = f"{bindir}{os.pathsep}/usr/bin:/bin"
    result = subprocess.run(
        ["docker-credential-ecr-login", "-v"], capture_output=True, env=clean_env, check=False
    )
    assert result.returncode == 0, result
    assert re.search(rb"^Build:\s+onedir\s*$", result.stdout, re.M)


@pytest.mark.parametrize(
    "name", ["docker-credential-ecr-login", "docker-credential-ecr-login-static"]
)
def test_checksums_match_the_build(name: str) -> None:
    sums = DIST / f"{name}.sha256"
    need_build(sums)
    lines = sums.read_text().splitlines()
    assert lines
    for line in lines:
        digest, _, rel = line.partition("  ")
        assert hashlib.sha256((DIST / rel).read_bytes()).hexdigest() == digest, rel
    if name == "docker-credential-ecr-login":  # every file of the onedir is listed
        listed = {line.partition("  ")[2] for line in lines}
        present = {
            str(p.relative_to(DIST))
            for p in (DIST / name).rglob("*")
            if p.is_file() and not p.is_symlink()
        }
        assert listed == present


def test_the_kubelet_provider_names_are_the_same_program() -> None:
    # The onedir's is a relative symlink (the directory can move); the static one a hard link.
    link = ONEDIR.parent / "ecr-credential-provider"
    need_build(link)
    assert link.is_symlink() and os.readlink(link) == ONEDIR.name
    static = DIST / "ecr-credential-provider"
    need_build(static)
    assert static.stat().st_ino == (DIST / "docker-credential-ecr-login-static").stat().st_ino


def test_onedir_bundle_holds_only_the_intended_service_models() -> None:
    data = ONEDIR.parent / "_internal" / "botocore" / "data"
    need_build(data)
    assert {p.name for p in data.iterdir() if p.is_dir()} == INTENDED_SERVICES
    for name in (
        "endpoints.json",
        "partitions.json",
        "sdk-default-configuration.json",
        "_retry.json",
    ):
        assert (data / name).is_file(), name
    assert not (ONEDIR.parent / "_internal" / "boto3").exists()  # botocore alone is bundled


# ---- the trimmed bundle still resolves every credential source --------------------------------


class _FakeSso(BaseHTTPRequestHandler):
    """IAM Identity Center: sso GetRoleCredentials and sso-oidc CreateToken (refresh)."""

    calls: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, obj: dict[str, Any]) -> None:
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.calls.append(f"GET {self.path.split('?')[0]}")  # type: ignore[attr-defined]
        expiration = int(time.time() + 3600) * 1000
        self._json(
            {
                "roleCredentials": {
                    "accessKeyId": "ASIASSOROLECREDS",
                    "secretAccessKey": "s",
                    "sessionToken": "t",
                    "expiration": expiration,
                }
            }
        )

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.calls.append(f"POST {self.path}")  # type: ignore[attr-defined]
        self._json(
            {
                "accessToken": "refreshed",
                "expiresIn": 3600,
                "refreshToken": "r2",
                "tokenType": "Bearer",
            }
        )


@pytest.fixture
def fake_sso() -> Iterator[tuple[str, list[str]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSso)
    server.calls = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.calls  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("source", ["static-keys", "web-identity", "assume-role", "sso"])
def test_frozen_fetch_through_each_credential_source(
    frozen: tuple[str, Path],
    source: str,
    tmp_path: Path,
    standin: Any,
    moto_server: str,
    fake_sso: tuple[str, list[str]],
) -> None:
    """The slow path: boto3 in the bundle finds its service models for every credential source.

    This is the test that catches an over-eager exclude or a missing botocore service model.
    """
    _, exe = frozen
    home = tmp_path / "home"
    aws = home / ".aws"
    aws.mkdir(parents=True)
    env = base_env(home)
    env.update({"AWS_ENDPOINT_URL_ECR": standin.url, "AWS_ENDPOINT_URL_STS": moto_server})
    if source == "static-keys":
        env.update({"AWS_ACCESS_KEY_ID": "AKIDSTATICKEY", "AWS_SECRET_ACCESS_KEY": "secret"})
    elif source == "web-identity":
        token = tmp_path / "token"
        token.write_text(service_account_jwt("system:serviceaccount:ci:runner"))
        env.update(
            {
                "AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/irsa",
                "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
            }
        )
    elif source == "assume-role":
        (aws / "credentials").write_text(
            "[base]\naws_access_key_id = AKIDBASEKEY\naws_secret_access_key = basesecret\n"
        )
        (aws / "config").write_text(
            "[profile deploy]\nrole_arn = arn:aws:iam::111122223333:role/deploy\n"
            "source_profile = base\nregion = eu-west-2\n"
        )
        env["AWS_PROFILE"] = "deploy"
    else:
        url, _ = fake_sso
        (aws / "config").write_text(
            "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\n"
            "sso_role_name = Dev\nregion = eu-west-2\n\n"
            "[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
            "sso_region = eu-west-2\n"
        )
        cache = aws / "sso" / "cache"
        cache.mkdir(parents=True)
        # An expired access token with a refresh token: botocore refreshes it through sso-oidc.
        (cache / f"{hashlib.sha1(b'corp').hexdigest()}.json").write_text(
            json.dumps(
                {
                    "startUrl": "https://example.awsapps.com/start",
                    "region": "eu-west-2",
                    "accessToken": "expired",
                    "expiresAt": "2020-01-01T00:00:00Z",
                    "clientId": "cid",
                    "clientSecret": "csecret",
                    "registrationExpiresAt": "2099-01-01T00:00:00Z",
                    "refreshToken": "r1",
                }
            )
        )
        env.update(
            {"AWS_PROFILE": "sso", "AWS_ENDPOINT_URL_SSO": url, "AWS_ENDPOINT_URL_SSO_OIDC": url}
        )

    result = run_helper(str(exe), ["get"], HOST.encode() + b"\n", env=env)
    assert result.returncode == 0, result
    answer = json.loads(result.stdout)
    assert (answer["ServerURL"], answer["Username"]) == (HOST, "AWS")
    assert b"Traceback" not in result.stderr and b"ModuleNotFoundError" not in result.stderr
    (call,) = standin.calls
    if source == "static-keys":
        assert call.access_key_id == "AKIDSTATICKEY"
    elif source == "sso":
        assert call.access_key_id == "ASIASSOROLECREDS"
        assert fake_sso[1] == ["POST /token", "GET /federation/credentials"]
    else:
        assert call.access_key_id and call.access_key_id.startswith("ASIA")


# ---- the static binary in an empty root -------------------------------------------------------


def test_static_runs_in_an_empty_root_with_only_tmp_and_proc(
    tmp_path: Path, standin: StandIn
) -> None:
    """ "Copy one file anywhere": no libc, no loader, no Python; only /tmp and /proc."""
    need_build(STATIC)
    unshare, chroot = shutil.which("unshare"), shutil.which("chroot") or "/usr/sbin/chroot"
    found = os.geteuid() == 0 and unshare is not None and Path(chroot).exists()
    require("root, unshare and chroot", found, "the empty-root run needs all three")
    assert unshare is not None
    probe = subprocess.run([unshare, "--mount", "--fork", "true"], capture_output=True, check=False)
    require("unshare --mount", probe.returncode == 0, probe.stderr.decode().strip())
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)
    shutil.copy2(STATIC, root / "helper")

    def in_root(
        args: list[str], stdin: bytes = b"", extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        # A private mount namespace, so the proc mount vanishes with the process.
        script = 'r=$0 c=$1; shift; mount -t proc proc "$r/proc" && exec "$c" "$r" /helper "$@"'
        return subprocess.run(
            [unshare, "--mount", "--fork", "sh", "-c", script, str(root), chroot, *args],
            input=stdin,
            capture_output=True,
            check=False,
            timeout=60,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp", **(extra or {})},
        )

    version = in_root(["version"])
    assert version.returncode == 0, version
    assert version.stdout == run_helper(str(CONSOLE_SCRIPT), ["version"]).stdout
    banner = in_root(["-v"])
    assert re.search(rb"^Build:\s+static\s*$", banner.stdout, re.M), banner
    get = in_root(["get"], b"registry-1.docker.io\n")
    assert (get.returncode, get.stdout) == (1, NOT_FOUND), get
    # A real token from the local stand-in (same network namespace), cached under /tmp/.ecr.
    aws = {
        "AWS_ACCESS_KEY_ID": "AKIDCHROOTTEST",
        "AWS_SECRET_ACCESS_KEY": "chroot-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_ECR": standin.url,
    }
    fetched = in_root(["get"], HOST.encode(), aws)
    assert fetched.returncode == 0, fetched
    assert json.loads(fetched.stdout) == {
        "ServerURL": HOST,
        "Username": "AWS",
        "Secret": "123456789012-eu-west-2-1",
    }
    assert standin.count() == 1
    assert (root / "tmp" / ".ecr" / "cache.json").exists()
    again = in_root(["get"], HOST.encode(), aws)
    assert again.stdout == fetched.stdout
    assert standin.count() == 1  # the second answer came from the cache in the chroot


# --- no writable temp dir (readOnlyRootFilesystem) ------------------------------------------------


def _frozen(path: Path) -> str:
    if not path.exists():
        require(str(path.name), False, "make binary builds it")
    return str(path)


def test_static_build_without_a_writable_temp_dir_fails_as_documented(
    env: dict[str, str], standin: StandIn
) -> None:
    # staticx's bootloader unpacks into $TMPDIR (else /tmp) before any of our code runs, so this
    # cannot answer the protocol: exit 2, nothing on stdout, one line on stderr. GitLab Runner
    # then drops the whole DOCKER_AUTH_CONFIG source; the docs say so where the static build is
    # offered, with the fixes tested below.
    static = _frozen(STATIC)
    result = run_helper(static, ["get"], HOST.encode(), dict(env, TMPDIR="/proc"))
    assert (result.returncode, result.stdout) == (2, b"")
    assert b"Failed to create temporary directory in /proc" in result.stderr
    assert result.stderr.count(b"\n") <= 1
    text = (ROOT / "docs" / "reference.md").read_text() + (
        ROOT / "docs" / "gitlab" / "job-images.md"
    ).read_text()
    assert "writable temp" in text and "emptyDir" in text


def test_the_documented_fixes_for_a_read_only_root_answer(
    env: dict[str, str], standin: StandIn, tmp_path: Path
) -> None:
    # The onedir needs no temp dir at all; the static build works with TMPDIR on any writable
    # directory (an emptyDir, /dev/shm).
    onedir = _frozen(ONEDIR)
    got = run_helper(onedir, ["get"], HOST.encode(), dict(env, TMPDIR="/proc"))
    assert got.returncode == 0 and json.loads(got.stdout)["Username"] == "AWS"
    scratch = tmp_path / "emptydir"
    scratch.mkdir()
    got = run_helper(_frozen(STATIC), ["get"], HOST.encode(), dict(env, TMPDIR=str(scratch)))
    assert got.returncode == 0 and json.loads(got.stdout)["Username"] == "AWS"
    assert list(scratch.iterdir()) == []  # staticx cleans up after itself
