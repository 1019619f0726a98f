"""End-to-end machinery: a real registry under a real ECR host name, reached by skopeo.

* Debian's ``docker-registry`` (distribution 2.8) with htpasswd (bcrypt) auth for user ``AWS`` and
  the password the local AWS stand-in issues (``E2E_PASSWORD_TEMPLATE``).
* It listens on ``<random 127.x.y.z>:443`` (or, for dockerd, on ``[::1]:443``: dockerd treats all
  of 127/8 as an insecure registry and skips TLS there) with TLS from a throwaway CA (made with
  openssl) whose server certificate names ``HOST`` (and any extra names, e.g. ``ALIAS_HOST``), so
  image references carry no port, exactly as with real ECR.
* ``plain_registry_at`` starts an anonymous, plain-HTTP registry on ``127.0.0.1:<port>``: a
  non-ECR registry, for what a ``credsStore`` helper must leave alone.
* skopeo runs inside ``unshare --mount`` with a hosts file bind-mounted over ``/etc/hosts`` that
  maps every name to that address (the AWS stand-in is reached by IP, so it is unaffected), and
  with ``--cert-dir``/``--dest-cert-dir`` holding only the CA: full TLS verification.

Plain module (not a conftest) so that test modules can ``from ecr_e2e import ...``; shared
constants come from ``tests/support``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
TESTS = E2E_DIR.parent


if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from support import (  # noqa: E402
    ACCESS_KEY,
    BIN,
    CONSOLE_SCRIPT,
    HOST,
    IN_CI,
    SECRET_KEY,
    base_env,
    require,
    require_tool,
)

__all__ = [
    "ACCESS_KEY",
    "BIN",
    "CONSOLE_SCRIPT",
    "HOST",
    "IN_CI",
    "SECRET_KEY",
    "base_env",
    "require_tool",
]

ACCOUNT = "123456789012"
REGION = "eu-west-2"
#: What the stand-in must be told to issue for the registry to accept the token.
E2E_PASSWORD_TEMPLATE = "e2e-{account}-{region}"
REGISTRY_USER = "AWS"
REGISTRY_PASSWORD = E2E_PASSWORD_TEMPLATE.format(account=ACCOUNT, region=REGION)
#: An extra name for the same registry (in the hosts file and the certificate), for alias tests.
ALIAS_HOST = "registry.example.test"
#: The image every engine test pulls (busybox, pushed once per run with static auths).
BUSYBOX_REPO = "e2e/busybox:1"
HELPER_NAME = (
    "ecr-login"  # credHelpers value / registries.conf entry -> docker-credential-ecr-login
)
TOOLS = ("skopeo", "docker-registry", "htpasswd", "openssl", "unshare")

_NS_SCRIPT = 'mount --bind "$0" /etc/hosts && exec "$@"'


def unavailable(reason: str) -> None:
    """Skip locally, fail when CI=true (the CI image has everything)."""
    require("the end-to-end environment", False, reason)


# -- pieces ------------------------------------------------------------------------------------


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


def _checked(argv: list[str]) -> subprocess.CompletedProcess[str]:
    result = _run(argv)
    if result.returncode != 0:
        pytest.fail(f"{argv[0]} failed (rc={result.returncode}): {result.stderr.strip()}")
    return result


def make_ca_and_cert(
    directory: Path, names: Iterable[str], address: str
) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``names`` (+ ``address``); return
    ``(ca.crt, server.crt, server.key)``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = directory / "ca.key", directory / "ca.crt"
    key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.crt"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _checked(
        [
            "openssl",
            "req",
            "-x509",
            *ec,
            "-keyout",
            str(ca_key),
            "-out",
            str(ca_crt),
            "-days",
            "2",
            "-subj",
            "/CN=docker-credential-ecr-py e2e throwaway CA",
        ]
    )
    names = list(names)
    _checked(
        [
            "openssl",
            "req",
            "-new",
            *ec,
            "-keyout",
            str(key),
            "-out",
            str(csr),
            "-subj",
            f"/CN={names[0]}",
        ]
    )
    ext = directory / "server.ext"
    san = ",".join([*(f"DNS:{n}" for n in names), f"IP:{address}"])
    ext.write_text(
        f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    _checked(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(ca_crt),
            "-CAkey",
            str(ca_key),
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            str(crt),
            "-extfile",
            str(ext),
        ]
    )
    return ca_crt, crt, key


def write_htpasswd(path: Path, user: str, password: str) -> None:
    """A bcrypt entry (distribution accepts nothing else)."""
    result = _checked(["htpasswd", "-Bbn", user, password])
    path.write_text(result.stdout.strip() + "\n")


def write_hosts_file(path: Path, address: str, names: Iterable[str]) -> None:
    path.write_text(
        f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n{address}\t{' '.join(names)}\n"
    )


def pick_loopback(port: int = 443, attempts: int = 20) -> str:
    """A random ``127.x.y.z`` (not 127.0.0.x) whose ``port`` is free to bind."""
    rng = random.Random()
    errors = []
    for _ in range(attempts):
        address = f"127.{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
        with socket.socket() as s:
            try:
                s.bind((address, port))
            except OSError as err:
                errors.append(f"{address}: {err}")
                continue
        return address
    unavailable(f"cannot bind a loopback address on port {port}: {errors[-1]}")
    raise AssertionError("unreachable")


def namespace_prefix(hosts_file: Path, probe_host: str, address: str) -> list[str]:
    """The ``unshare`` command prefix that makes ``hosts_file`` the ``/etc/hosts`` of a command.

    ``unshare --mount`` as root; ``unshare -r --mount`` (a user namespace) otherwise.  Skips (fails
    under CI) when neither may bind-mount.
    """
    require_tool("unshare")
    tried = []
    for prefix in (["unshare", "--mount"], ["unshare", "--map-root-user", "--mount"]):
        argv = [*prefix, "sh", "-c", _NS_SCRIPT, str(hosts_file), "getent", "hosts", probe_host]
        result = _run(argv)
        if result.returncode == 0 and result.stdout.split()[:1] == [address]:
            return prefix
        tried.append(f"{' '.join(prefix)}: rc={result.returncode} {result.stderr.strip()!r}")
    unavailable("cannot bind-mount a hosts file in a private mount namespace: " + "; ".join(tried))
    raise AssertionError("unreachable")


# -- the registry ------------------------------------------------------------------------------


@dataclasses.dataclass
class EcrRegistry:
    """A running registry reachable as ``https://<name>`` for every name in ``names``."""

    host: str  # the ECR host name (first of ``names``)
    names: tuple[str, ...]  # every name in the hosts file and the certificate SAN
    address: str  # the loopback address it listens on (port ``port``)
    directory: Path  # everything it uses lives here
    ca_file: Path
    ca_dir: Path  # only ca.crt: for --cert-dir / --dest-cert-dir
    hosts_file: Path
    log_file: Path
    policy_file: Path  # accept-anything signature policy (independent of /etc/containers)
    registries_conf: Path  # an empty registries.conf (default credential lookup)
    user: str
    password: str
    ns_prefix: list[str]
    port: int = 443
    tls: bool = True  # False: plain HTTP, no auth (an anonymous, non-ECR registry)
    process: subprocess.Popen[bytes] | None = None

    @property
    def listen(self) -> str:
        """``address:port`` as a URL authority (``[::1]:443`` for IPv6)."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    def image(self, repository_tag: str, host: str | None = None) -> str:
        """``<host>/<repository:tag>``, an image reference as docker and podman take it."""
        return f"{host or self.host}/{repository_tag}"

    def ref(self, repository_tag: str, host: str | None = None) -> str:
        """``docker://<host>/<repository:tag>``."""
        return f"docker://{host or self.host}/{repository_tag}"

    def in_namespace(self, argv: list[str]) -> list[str]:
        """``argv`` run with ``hosts_file`` bind-mounted on ``/etc/hosts``."""
        return [*self.ns_prefix, "sh", "-c", _NS_SCRIPT, str(self.hosts_file), *argv]

    def run_skopeo(
        self,
        args: list[str],
        env: dict[str, str],
        *,
        registries_conf: Path | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """``skopeo --policy P --registries-conf C ARGS...`` in the namespace.

        ``registries_conf`` defaults to an empty file so the host's configuration plays no part.
        skopeo 1.9 honours the (hidden) ``--registries-conf`` flag but *not*
        ``CONTAINERS_REGISTRIES_CONF``.  Pass ``--cert-dir``/``--dest-cert-dir`` yourself
        (``self.ca_dir``) or use ``copy()``/``inspect()``.
        """
        argv = [
            require_tool("skopeo"),
            "--policy",
            str(self.policy_file),
            "--registries-conf",
            str(registries_conf or self.registries_conf),
            *args,
        ]
        return subprocess.run(
            self.in_namespace(argv),
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )

    def copy(
        self, src: str, dest: str, env: dict[str, str], *, registries_conf: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``skopeo copy`` with the CA for both sides that are registries."""
        args = ["copy", "--retry-times", "0"]
        if src.startswith("docker://"):
            args += ["--src-cert-dir", str(self.ca_dir)]
        if dest.startswith("docker://"):
            args += ["--dest-cert-dir", str(self.ca_dir)]
        return self.run_skopeo([*args, src, dest], env, registries_conf=registries_conf)

    def inspect(
        self,
        ref: str,
        env: dict[str, str],
        *extra: str,
        registries_conf: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``skopeo inspect --cert-dir CA [extra...] ref``."""
        args = ["inspect", "--retry-times", "0", "--cert-dir", str(self.ca_dir), *extra, ref]
        return self.run_skopeo(args, env, registries_conf=registries_conf)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> EcrRegistry:
        config = self.directory / "registry.yml"
        http: dict[str, object] = {"addr": self.listen, "secret": "docker-credential-ecr-py-e2e"}
        settings: dict[str, object] = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": str(self.directory / "data")}},
            "http": http,
        }
        if self.tls:
            http["tls"] = {
                "certificate": str(self.directory / "tls" / "server.crt"),
                "key": str(self.directory / "tls" / "server.key"),
            }
            settings["auth"] = {
                "htpasswd": {"realm": "e2e", "path": str(self.directory / "htpasswd")}
            }
        config.write_text(json.dumps(settings, indent=1))  # YAML is a superset of JSON
        log = self.log_file.open("wb")
        self.process = subprocess.Popen(
            [require_tool("docker-registry"), "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.directory)},
        )
        log.close()
        self._wait_listening(timeout)
        return self

    def _wait_listening(self, timeout: float) -> None:
        context = ssl.create_default_context(cafile=str(self.ca_file)) if self.tls else None
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                text = self.log_file.read_text(errors="replace")
                message = f"docker-registry exited with {self.process.returncode}: {text[-2000:]}"
                if "permission denied" in text.lower():
                    unavailable(message)
                pytest.fail(message)
            try:
                with socket.create_connection((self.address, self.port), timeout=1) as raw:
                    if context is None:
                        return  # plain HTTP: accepting connections is all there is
                    with context.wrap_socket(raw, server_hostname=self.host):
                        return  # TLS handshake with full verification succeeded
            except OSError as err:  # ssl.SSLError is an OSError
                last = err
                time.sleep(0.05)
        self.stop()
        pytest.fail(
            f"docker-registry did not accept {'TLS' if self.tls else 'HTTP'} on {self.listen}: "
            f"{last}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace")


@contextlib.contextmanager
def ecr_registry_at(
    directory: Path,
    extra_names: Iterable[str] = (),
    *,
    host: str = HOST,
    password: str = REGISTRY_PASSWORD,
    address: str | None = None,
) -> Iterator[EcrRegistry]:
    """Make, start and (on exit) stop a registry serving ``host`` and ``extra_names`` on
    ``address`` port 443 (default: a random free ``127.x.y.z``)."""
    for tool in TOOLS:
        require_tool(tool)
    names = tuple(dict.fromkeys([host, *extra_names]))
    address = address or pick_loopback()
    tls = directory / "tls"
    ca_file, _, _ = make_ca_and_cert(tls, names, address)
    ca_dir = directory / "certs"
    ca_dir.mkdir()
    shutil.copy(ca_file, ca_dir / "ca.crt")  # *.crt = CA roots; no *.key here (client certs)
    hosts_file = directory / "hosts"
    write_hosts_file(hosts_file, address, names)
    ns_prefix = namespace_prefix(hosts_file, host, address)
    write_htpasswd(directory / "htpasswd", REGISTRY_USER, password)
    registry = EcrRegistry(
        host=host,
        names=names,
        address=address,
        directory=directory,
        ca_file=ca_file,
        ca_dir=ca_dir,
        hosts_file=hosts_file,
        log_file=directory / "registry.log",
        policy_file=_write_policy(directory),
        registries_conf=_write_empty_registries_conf(directory),
        user=REGISTRY_USER,
        password=password,
        ns_prefix=ns_prefix,
    )
    try:
        yield registry.start()
    finally:
        registry.stop()  # also when start() failed or was interrupted


@contextlib.contextmanager
def plain_registry_at(directory: Path) -> Iterator[EcrRegistry]:
    """An anonymous plain-HTTP registry on ``127.0.0.1:<free port>``: not ECR, no auth.

    Its ``host`` is ``127.0.0.1:<port>``: clients need no hosts file and dockerd allows plain
    HTTP there (127/8 is an insecure registry range by default).
    """
    require_tool("docker-registry")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    registry = EcrRegistry(
        host=f"127.0.0.1:{port}",
        names=(),
        address="127.0.0.1",
        directory=directory,
        ca_file=directory / "no-ca",
        ca_dir=directory / "no-ca",
        hosts_file=Path("/etc/hosts"),
        log_file=directory / "registry.log",
        policy_file=_write_policy(directory),
        registries_conf=_write_empty_registries_conf(directory),
        user="",
        password="",
        ns_prefix=[],
        port=port,
        tls=False,
    )
    try:
        yield registry.start()
    finally:
        registry.stop()


def _write_policy(directory: Path) -> Path:
    policy = directory / "policy.json"  # accept-anything, independent of /etc/containers
    policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    return policy


def _write_empty_registries_conf(directory: Path) -> Path:
    conf = directory / "registries.conf"
    conf.write_text("# empty: containers-auth.json is the only credential source\n")
    return conf


# -- the helper's side -------------------------------------------------------------------------


def helper_env(home: Path, standin_url: str, helper: str | None = None) -> dict[str, str]:
    """A client's (and so the helper's) environment: an isolated ``home``, static fake keys, ECR at
    the stand-in, debug log in ``~/.ecr/log``, and first on ``PATH`` our console script, or the
    build ``helper`` (linked as ``docker-credential-ecr-login`` in ``home/bin``)."""
    home.mkdir(parents=True, exist_ok=True)
    env = base_env(home)
    if helper is not None:
        bin_dir = home / "bin"
        bin_dir.mkdir()
        (bin_dir / f"docker-credential-{HELPER_NAME}").symlink_to(helper)
        env["PATH"] = f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"
    runtime = home / "run"  # skopeo's default auth file: $XDG_RUNTIME_DIR/containers/auth.json
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL_ECR": standin_url,
            "AWS_ECR_LOG_LEVEL": "debug",
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_CONFIG_HOME": str(home / ".config"),
        }
    )
    return env


def helper_on_path(env: dict[str, str]) -> Path | None:
    """Which ``docker-credential-ecr-login`` skopeo will run with ``env``."""
    found = shutil.which(f"docker-credential-{HELPER_NAME}", path=env["PATH"])
    return Path(found) if found else None


def helper_log(env: dict[str, str]) -> str:
    """The helper's log (``~/.ecr/log/ecr-login.log``), or ``""``."""
    path = Path(env["HOME"]) / ".ecr" / "log" / "ecr-login.log"
    return path.read_text(errors="replace") if path.exists() else ""


_METHOD_RE = re.compile(r"\bhttp\.request\.method=(\w+)")
_URI_RE = re.compile(r'\bhttp\.request\.uri="?([^"\s]+)')
_ACCESS_RE = re.compile(r'"(\w+) (\S+) HTTP/[\d.]+" (\d{3}) ')


def authorized_requests(registry_log: str) -> list[tuple[str, str]]:
    """``(method, uri)`` of every request the registry's htpasswd check let through."""
    found = []
    for line in registry_log.splitlines():
        if 'msg="authorized request"' in line:
            method, uri = _METHOD_RE.search(line), _URI_RE.search(line)
            if method and uri:
                found.append((method.group(1), uri.group(1)))
    return found


def rejected_requests(registry_log: str) -> list[tuple[str, str]]:
    """``(method, uri)`` of every request answered 401 (from the access log)."""
    return [(m, u) for m, u, status in _ACCESS_RE.findall(registry_log) if status == "401"]


def write_cred_helpers(path: Path, hosts: Iterable[str], helper: str = HELPER_NAME) -> Path:
    """A Docker-style auth/config file with only ``credHelpers``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"credHelpers": dict.fromkeys(hosts, helper)}))
    return path


def write_registries_conf(path: Path, helpers: Iterable[str]) -> Path:
    """A registries.conf whose only setting is ``credential-helpers``."""
    listed = ", ".join(json.dumps(h) for h in helpers)
    path.write_text(f"credential-helpers = [{listed}]\n")
    return path
