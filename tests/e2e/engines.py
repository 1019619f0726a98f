"""Real container engines for the end-to-end tests, and the images they need.

* ``Dockerd``: Debian's dockerd 20.10 (vfs storage, no bridge, no iptables) started inside its own
  mount namespace, where the registry's hosts file covers ``/etc/hosts`` and a private directory
  covers ``/etc/docker`` (``certs.d/<host>/ca.crt``: dockerd verifies the registry's TLS). Clients
  reach it on a socket of its own: the preinstalled docker CLI 28 (``DOCKER_CLI``), and Debian's
  20.10 CLI (``DEBIAN_DOCKER_CLI``), which still drives the daemon's embedded BuildKit with
  ``DOCKER_BUILDKIT=1``. ``stop`` removes every container, stops the daemon's whole process group
  and deletes its data; the mounts vanish with the namespace.
* ``Podman``: podman or buildah, rootful, vfs, with private storage under a short path (podman
  refuses a ``--runroot`` over 50 characters), run in the registry's namespace.
* Images: ``busybox_rootfs`` (Debian's static busybox), ``debian_rootfs_tar`` (debootstrap, kept in
  ``build/e2e/`` so a rerun on the same machine skips it) and the job image built from
  ``Dockerfile.helper-debian`` with local stand-ins for its base images (``JobImages``).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import dataclasses
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from ecr_e2e import EcrRegistry, unavailable

from support import ACCESS_KEY, ROOT, SECRET_KEY, require, require_tool

__all__ = ["ACCESS_KEY", "SECRET_KEY"]

DOCKER_CLI = Path("/usr/local/bin/docker")  # the docker CLI 28 (client only)
DEBIAN_DOCKER_CLI = Path("/usr/bin/docker")  # Debian's 20.10 CLI, from docker.io
CACHE = ROOT / "build" / "e2e"  # kept between runs on one machine; a CI clone starts without it
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"

#: The group of dockerd's socket: a non-root job container joins it (``--group-add``), as a job
#: reaches a ``docker:dind`` service over TCP with no file permission in the way.
SOCKET_GID = 2375
#: Figures for the end of the run (image build times and sizes): printed by the e2e conftest.
REPORT: dict[str, str] = {}

#: The registry the job image's own config.json names (ECR_REGISTRIES): not the test registry,
#: so that the job shows the pre_build_script merging its registry in beside it.
BAKED_REGISTRY = "public.ecr.aws"

BUSYBOX = "local/busybox:e2e"
DEBIAN = f"local/debian:{DEBIAN_SUITE}-slim"
PYTHON = f"local/python:3.11-slim-{DEBIAN_SUITE}"
CLI_IMAGE = "local/docker:28-cli"
JOB_IMAGE = "local/ecr-job:debian"  # Dockerfile.helper-debian: the onedir inside
PIP_JOB_IMAGE = "local/ecr-job:pip"  # the same job, with the package pip-installed in a venv

#: What must be writable in a job container with a read-only root filesystem, per build: the
#: helper's cache and Docker's config live in $HOME; the static build unpacks itself into a
#: temporary directory ($TMPDIR, else /tmp), which must also allow exec. docs/gitlab/job-images.md
#: says the same.
WRITABLE = {
    "onedir": ("$HOME",),
    "console-script": ("$HOME",),
    "static": ("$HOME", "/tmp"),
}


def _text(result: subprocess.CompletedProcess[str]) -> str:
    out, err = result.stdout[-3000:], result.stderr[-3000:]
    return f"rc={result.returncode}\nstdout:\n{out}\nstderr:\n{err}"


def checked(
    result: subprocess.CompletedProcess[str], what: str
) -> subprocess.CompletedProcess[str]:
    if result.returncode != 0:
        pytest.fail(f"{what} failed: {_text(result)}")
    return result


def extra_ca_certs() -> str:
    """The machine's own CA certificates (a TLS-intercepting proxy's) for pip inside a build."""
    found = sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))
    return "".join(p.read_text() for p in found)


def static_auths(registry: EcrRegistry) -> dict[str, object]:
    """A Docker config with the registry's password as static ``auths``: seeds images without
    involving the helper."""
    secret = base64.b64encode(f"{registry.user}:{registry.password}".encode()).decode()
    return {"auths": {registry.host: {"auth": secret}}}


# -- dockerd -----------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """``preexec_fn``: SIGKILL this child when pytest dies without its teardown (a CI job's
    kill); the flag survives the ``exec`` of unshare, sh and dockerd."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclasses.dataclass
class Dockerd:
    """A dockerd of our own, in a mount namespace that sees ``registry``'s hosts file and CA."""

    directory: Path
    registry: EcrRegistry
    #: overlay2 where the kernel and the data root's file system allow it (ten times faster for
    #: the job image than vfs, which copies every layer whole); vfs otherwise.
    storage_driver: str = "overlay2"
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 60.0) -> Dockerd:
        dockerd = require_tool("dockerd")
        require_tool("unshare")
        require_executable("the docker CLI 28", DOCKER_CLI)
        etc = self.directory / "etc-docker"
        for name in self.registry.names:
            (etc / "certs.d" / name).mkdir(parents=True, exist_ok=True)
            shutil.copy(self.registry.ca_file, etc / "certs.d" / name / "ca.crt")
        Path("/etc/docker").mkdir(exist_ok=True)  # the mount point (docker.io makes it too)
        script = (
            'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/docker && shift 2 && exec "$@"'
        )
        argv = [
            "unshare", "--mount", "--propagation", "private",
            "sh", "-c", script, "sh", str(self.registry.hosts_file), str(etc),
            dockerd,
            "--data-root", str(self.directory / "data"),
            "--exec-root", str(self.directory / "exec"),
            "-H", self.host,
            "--pidfile", str(self.directory / "dockerd.pid"),
            "--storage-driver", self.storage_driver,
            "--iptables=false", "--ip-masq=false", "--bridge=none",
            "--group", str(SOCKET_GID),
        ]  # fmt: skip
        log = (self.directory / "dockerd.log").open("wb")
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if self.storage_driver != "vfs" and "graphdriver" in self.log():
                    self.storage_driver = "vfs"  # e.g. a data root on overlayfs or tmpfs
                    return self.start(timeout)
                unavailable(f"dockerd exited with {self.process.returncode}: {self.log()[-2000:]}")
            probe = self.docker(
                ["version", "--format", "{{.Server.Version}}"], self.env(), timeout=10
            )
            if probe.returncode == 0:
                return self
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"dockerd did not answer within {timeout:g} s: {self.log()[-2000:]}")
        raise AssertionError("unreachable")

    def log(self) -> str:
        path = self.directory / "dockerd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def env(self, base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
        """``base`` (default: a bare PATH) plus this daemon's ``DOCKER_HOST``."""
        env = dict(base) if base is not None else {"PATH": "/usr/local/bin:/usr/bin:/bin"}
        env.setdefault("HOME", str(self.directory))
        env.setdefault("DOCKER_CONFIG", str(self.directory / "cli-config"))
        env["DOCKER_HOST"] = self.host
        env.update(extra)
        return env

    def docker(
        self,
        args: list[str],
        env: Mapping[str, str],
        *,
        cli: Path = DOCKER_CLI,
        stdin: str | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """One docker CLI command against this daemon (``env`` must carry ``DOCKER_HOST``)."""
        assert env.get("DOCKER_HOST") == self.host, "use Dockerd.env() for the environment"
        return subprocess.run(
            [str(cli), *args], input=stdin, capture_output=True, text=True,
            env=dict(env), timeout=timeout, check=False,
        )  # fmt: skip

    def seed_config(self) -> dict[str, str]:
        """An environment whose Docker config holds only static ``auths`` (no helper)."""
        config = self.directory / "seed-config"
        config.mkdir(exist_ok=True)
        (config / "config.json").write_text(json.dumps(static_auths(self.registry)))
        return self.env(DOCKER_CONFIG=str(config))

    def stop(self) -> None:
        """Remove every container, stop dockerd, kill whatever it left (containerd, shims: every
        process whose command line names this daemon's directory) and delete its data."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                env = self.env()
                listed = self.docker(["ps", "-aq"], env, timeout=30)
                ids = listed.stdout.split() if listed.returncode == 0 else []
                if ids:
                    self.docker(["rm", "-f", *ids], env, timeout=60)
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        subprocess.run(
            ["pkill", "-KILL", "-f", str(self.directory)], capture_output=True, timeout=30,
            check=False,
        )  # fmt: skip
        shutil.rmtree(self.directory / "data", ignore_errors=True)
        shutil.rmtree(self.directory / "exec", ignore_errors=True)


def require_executable(name: str, path: Path) -> str:
    """``path`` as a string; a skip locally (a failure under CI) when it is not executable."""
    require(name, path.is_file() and os.access(path, os.X_OK), f"{path} is missing")
    return str(path)


@contextlib.contextmanager
def dockerd_for(directory: Path, registry: EcrRegistry) -> Iterator[Dockerd]:
    daemon = Dockerd(directory, registry)
    try:
        yield daemon.start()
    finally:
        daemon.stop()  # also when start() failed or was interrupted half-way


#: Held while a run uses ``[::1]:443`` and its daemons: a second test run on the same machine
#: waits for the first instead of failing on a port it cannot bind.
ENGINE_LOCK = Path("/tmp/docker-credential-ecr-py-e2e-engines.lock")
ENGINE_LOCK_WAIT = 1200.0


@contextlib.contextmanager
def engines_lock() -> Iterator[None]:
    fd = os.open(ENGINE_LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + ENGINE_LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"another test run has held {ENGINE_LOCK} (the engines' [::1]:443) for "
                        f"{ENGINE_LOCK_WAIT:g} s"
                    )
                time.sleep(1)
        yield
    finally:
        os.close(fd)


# -- podman and buildah ------------------------------------------------------------------------


@dataclasses.dataclass
class Podman:
    """podman or buildah (``tool``), rootful, vfs, private storage, in ``registry``'s namespace."""

    tool: str
    registry: EcrRegistry
    root: Path

    def run(
        self, args: list[str], env: Mapping[str, str], *, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        storage = ["--root", str(self.root / "root"), "--runroot", str(self.root / "run")]
        storage += ["--storage-driver", "vfs"]
        argv = [require_tool(self.tool), *storage]
        if self.tool == "podman":
            argv += ["--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        return subprocess.run(
            self.registry.in_namespace([*argv, *args]), capture_output=True, text=True,
            env=dict(env), timeout=timeout, check=False,
        )  # fmt: skip

    def pull(
        self, image: str, env: Mapping[str, str], *, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        policy = ["--signature-policy", str(self.registry.policy_file)]
        certs = ["--cert-dir", str(self.registry.ca_dir)]
        return self.run(["pull", "--quiet", *policy, *certs, image], env, timeout=timeout)

    def clear(self) -> None:
        self.run(["rmi", "--all", "--force"], {"PATH": "/usr/bin:/bin"}, timeout=60)


@contextlib.contextmanager
def podman_storage() -> Iterator[Path]:
    """A short directory (podman: ``--runroot`` of at most 50 characters), removed at the end."""
    path = Path(tempfile.mkdtemp(prefix="ecr-pm-", dir="/tmp"))
    try:
        yield path
    finally:
        for tool in ("podman", "buildah"):
            if shutil.which(tool):
                subprocess.run(
                    [tool, "--root", str(path / "root"), "--runroot", str(path / "run"),
                     "--storage-driver", "vfs", "rmi", "--all", "--force"],
                    capture_output=True, timeout=60, check=False,
                )  # fmt: skip
        shutil.rmtree(path, ignore_errors=True)


# -- images ------------------------------------------------------------------------------------


def busybox_rootfs(directory: Path) -> Path:
    """A root filesystem of Debian's static busybox and its applets."""
    busybox = Path("/bin/busybox")
    require_executable("busybox (busybox-static)", busybox)
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    shutil.copy(busybox, bin_dir / "busybox")
    applets = subprocess.run(
        [str(busybox), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (bin_dir / applet).symlink_to("busybox")
    for name in ("tmp", "etc", "root"):
        (directory / name).mkdir()
    return directory


def debian_rootfs_tar(scratch: Path) -> Path:
    """``build/e2e/debian-<suite>-minbase.tar``: debootstrap once per machine (about 30 s)."""
    target = CACHE / f"debian-{DEBIAN_SUITE}-minbase.tar"
    if target.exists():
        return target
    debootstrap = require_tool("debootstrap")
    rootfs = scratch / "debootstrap"
    # In a mount namespace of its own: the /proc and /sys it mounts in the target go with it,
    # even when the run is interrupted.
    private = ["unshare", "--mount", "--propagation", "private"]
    result = subprocess.run(
        [*private, debootstrap, "--variant=minbase", DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    checked(result, "debootstrap")
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    checked(
        subprocess.run(
            ["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."],
            capture_output=True, text=True, timeout=300, check=False,
        ),
        "tar of the debootstrap root",
    )  # fmt: skip
    partial.rename(target)
    shutil.rmtree(rootfs, ignore_errors=True)
    return target


def docker_import(daemon: Dockerd, source: Path, tag: str) -> None:
    """``docker import`` of a directory or a tar file."""
    env = daemon.env()
    if source.is_dir():
        tar = subprocess.Popen(
            ["tar", "-C", str(source), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE
        )
        assert tar.stdout is not None
        result = subprocess.run(
            [str(DOCKER_CLI), "import", "-", tag], stdin=tar.stdout, capture_output=True,
            text=True, env=env, timeout=300, check=False,
        )  # fmt: skip
        tar.stdout.close()
        tar.wait(timeout=60)
    else:
        result = daemon.docker(["import", str(source), tag], env)
    checked(result, f"docker import {tag}")


_PYTHON_DOCKERFILE = f"""\
FROM {DEBIAN}
RUN apt-get update -qq \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
       python3 python3-venv libpython3.11 ca-certificates >/dev/null \\
    && rm -rf /var/lib/apt/lists/*
"""

_PIP_JOB_DOCKERFILE = f"""\
FROM {PYTHON}
ARG EXTRA_CA_CERTS=""
COPY --from={CLI_IMAGE} /usr/local/bin/docker /usr/local/bin/docker
COPY wheel/ /wheel/
RUN printf '%s\\n' "$EXTRA_CA_CERTS" > /tmp/extra-ca.pem \\
    && cat /etc/ssl/certs/ca-certificates.crt /tmp/extra-ca.pem > /tmp/pip-ca.pem \\
    && python3 -m venv /opt/venv \\
    && PIP_CERT=/tmp/pip-ca.pem /opt/venv/bin/pip install -q --no-cache-dir /wheel/*.whl \\
    && rm -f /tmp/extra-ca.pem /tmp/pip-ca.pem \\
    && ln -s /opt/venv/bin/docker-credential-ecr-login /usr/local/bin/docker-credential-ecr-login
"""


@dataclasses.dataclass
class JobImages:
    """The job images, built once per run: ``JOB_IMAGE`` from ``Dockerfile.helper-debian`` (the
    onedir) and ``PIP_JOB_IMAGE`` (the console script, pip-installed from a wheel)."""

    daemon: Dockerd
    scratch: Path

    def _timed(self, name: str, started: float) -> None:
        REPORT[f"built {name}"] = f"{time.monotonic() - started:.1f} s"

    def build_bases(self) -> None:
        started = time.monotonic()
        docker_import(self.daemon, debian_rootfs_tar(self.scratch), DEBIAN)
        self._timed("debian base", started)
        started = time.monotonic()
        cli = self.scratch / "docker-cli"
        (cli / "usr/local/bin").mkdir(parents=True)
        (cli / "usr/local/libexec/docker/cli-plugins").mkdir(parents=True)
        shutil.copy(DOCKER_CLI, cli / "usr/local/bin/docker")
        docker_import(self.daemon, cli, CLI_IMAGE)
        result = self.daemon.docker(
            ["build", "-q", "--network", "host", "-t", PYTHON, "-"],
            self.daemon.env(DOCKER_BUILDKIT="0"),
            stdin=_PYTHON_DOCKERFILE,
        )
        checked(result, f"docker build {PYTHON}")
        self._timed("python base", started)

    def build_job_image(self) -> None:
        started = time.monotonic()
        result = self.daemon.docker(
            [
                "build", "-q", "--network", "host", "-f", str(ROOT / "Dockerfile.helper-debian"),
                "--build-arg", f"BUILD_IMAGE={PYTHON}",
                "--build-arg", f"BASE_IMAGE={DEBIAN}",
                "--build-arg", f"DOCKER_CLI_IMAGE={CLI_IMAGE}",
                "--build-arg", f"EXTRA_CA_CERTS={extra_ca_certs()}",
                "--build-arg", f"ECR_REGISTRIES={BAKED_REGISTRY}",
                "-t", JOB_IMAGE, str(ROOT),
            ],
            self.daemon.env(DOCKER_BUILDKIT="0"),
            timeout=900,
        )  # fmt: skip
        checked(result, "docker build -f Dockerfile.helper-debian")
        self._timed("job image (Dockerfile.helper-debian)", started)
        REPORT["job image size"] = f"{self.size(JOB_IMAGE) / 1e6:.0f} MB"

    def build_pip_job_image(self, python: Path) -> None:
        started = time.monotonic()
        context = self.scratch / "pip-context"
        wheel = context / "wheel"
        wheel.mkdir(parents=True)
        checked(
            subprocess.run(
                [str(python), "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheel), str(ROOT)],
                capture_output=True, text=True, timeout=300, check=False,
            ),
            "pip wheel",
        )  # fmt: skip
        (context / "Dockerfile").write_text(_PIP_JOB_DOCKERFILE)
        result = self.daemon.docker(
            [
                "build", "-q", "--network", "host",
                "--build-arg", f"EXTRA_CA_CERTS={extra_ca_certs()}",
                "-t", PIP_JOB_IMAGE, str(context),
            ],
            self.daemon.env(DOCKER_BUILDKIT="0"),
            timeout=600,
        )  # fmt: skip
        checked(result, "docker build of the pip job image")
        self._timed("job image (pip)", started)

    def size(self, tag: str) -> int:
        result = self.daemon.docker(
            ["image", "inspect", "--format", "{{.Size}}", tag], self.daemon.env()
        )
        return int(checked(result, "docker image inspect").stdout.strip())
