"""``docker-credential-ecr-login doctor [HOST]``: why a pull gets no ECR credentials, in one run.

The report is ``CHECKS``, a list of functions run in order; each takes the ``Findings`` (what
was worked out once: the registry, the identity, the answers of the AWS calls) and returns its
``Result`` lines. A new check is one function added to the list.

Identity, region, config file and token fetch are failures; PATH and routing are warnings
(runner managers often route through ``DOCKER_AUTH_CONFIG``). Exit 0 exactly when nothing failed.
Never prints a secret or a token. The AWS calls run in parallel under ``AWS_ECR_TIMEOUT``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from docker_credential_ecr_py import __version__, _cache
from docker_credential_ecr_py._about import build_flavour
from docker_credential_ecr_py._commands.common import (
    CommandError,
    Parser,
    auths_map,
    docker_config_path,
    helper_map,
    path_fix,
    path_warning,
    running_program,
)
from docker_credential_ecr_py._deadline import run_all
from docker_credential_ecr_py._helper import EcrHelper
from docker_credential_ecr_py._lean import format_time, read_bounded
from docker_credential_ecr_py._registry import (
    Registry,
    aws_domain,
    host_of,
    parse,
    registry_host,
)

_MAX_DOCKER_CONFIG = 16 * 1024 * 1024  # bytes of config.json doctor reads at most

if TYPE_CHECKING:
    from docker_credential_ecr_py._context import Context
    from docker_credential_ecr_py._identity import Identity

OK, WARN, FAIL, INFO, SKIP = "ok", "warn", "FAIL", "info", "skip"
# Docker CLI 28.3.0 reads DOCKER_AUTH_CONFIG itself and accepts only "auths" in it.
_CLI_READS_AUTH_CONFIG = (28, 3)


class Result:
    """One line of the report: ``status  check  detail``, and a fix for anything not ok."""

    __slots__ = ("check", "detail", "fix", "status")

    def __init__(self, status: str, check: str, detail: str, fix: str = "") -> None:
        self.status = status
        self.check = check
        self.detail = detail
        self.fix = fix


class Findings:
    """What the checks look at, worked out once before they run."""

    def __init__(self, ctx: Context, host: str | None, *, fetch_token: bool = True) -> None:
        self.ctx = ctx
        self.fetch_token = fetch_token  # doctor --kubelet gets its token through the provider
        self.settings = ctx.settings
        self.env: Mapping[str, str] = ctx.settings.env
        self.host = host
        self.helper = EcrHelper(ctx)
        self.registry: Registry | None = None
        self.profile: str | None = None
        if host:
            self.registry, self.profile = self.helper.registry(host)
        self.identity: Identity = ctx.identity(self.profile)
        self.region = self.registry.api_region if self.registry else self.identity.region
        self.caller: Any = None  # STS GetCallerIdentity: a dict, or the error
        self.token: Any = None  # GetAuthorizationToken: a Token, or the error
        self.deadline = time.monotonic() + ctx.settings.timeout
        self._asked = False

    def aws(self) -> Findings:
        """Ask STS who we are and fetch a token, in parallel, once (the checks before the first
        one that needs the answers are printed meanwhile); with no HOST, the token is for the
        caller's own registry in the configured region (so after STS answers)."""
        if self._asked:
            return self
        self._asked = True
        from docker_credential_ecr_py import _aws

        deadline = self.deadline

        jobs: dict[str, Callable[[], Any]] = {}
        profile, region, registry = self.profile, self.region, self.registry
        if region:
            jobs["identity"] = lambda: _aws.caller_identity(profile, region, deadline)
        if registry is not None and self.fetch_token:
            jobs["token"] = lambda: _aws.fetch(registry, profile, deadline)
        results = run_all(jobs, deadline)
        self.caller = results.get("identity")
        self.token = results.get("token")
        if (
            self.registry is None
            and region
            and isinstance(self.caller, dict)
            and not self.host
            and self.fetch_token
        ):
            default = parse(registry_host(self.caller["Account"], region))
            if default is not None:
                self.registry = default
                self.token = run_all(
                    {"token": lambda: _aws.fetch(default, profile, deadline)}, deadline
                )["token"]
        return self


Check = Callable[[Findings], list[Result]]


def check_helper(f: Findings) -> list[Result]:
    """Which build of which version runs."""
    detail = (
        f"docker-credential-ecr-py {__version__} ({build_flavour()}), "
        f"Python {sys.version.split()[0]}"
    )
    return [Result(OK, "helper", detail)]


def check_path(f: Findings) -> list[Result]:
    """Whether Docker would run this program as ``docker-credential-ecr-login``."""
    import shutil

    warning = path_warning(f.env, running_program())
    if warning:
        return [Result(WARN, "PATH", warning.removeprefix("warning: "), path_fix(f.env))]
    found = shutil.which("docker-credential-ecr-login", path=f.env.get("PATH", ""))
    return [Result(OK, "PATH", f"Docker will run {found}")]  # path_warning found it too


def check_settings(f: Findings) -> list[Result]:
    """``AWS_ECR_*`` values that were ignored."""
    return [Result(WARN, "settings", problem) for problem in f.settings.invalid]


def check_config(f: Findings) -> list[Result]:
    """The config file parses, or there is none."""
    config = f.ctx.config
    if config.refused:
        fix = (
            f"chmod go-w (and chown to yourself) {config.path} and its directories, or set "
            "AWS_ECR_CONFIG_FILE to a file only you can write"
        )
        detail = f"{config.path} is ignored: {config.refused}"
        return [Result(FAIL, "config", detail, fix)]
    if config.problems:
        fix = "fix the file: TOML with [aliases] and [profiles] tables of strings"
        return [Result(FAIL, "config", problem, fix) for problem in config.problems]
    if config.path and os.path.exists(config.path):
        detail = (
            f"{config.path}: {len(config.aliases)} alias(es), {len(config.profiles)} profile(s)"
        )
        return [Result(OK, "config", detail)]
    shown = config.path or "none"
    return [
        Result(INFO, "config", f"no config file ({shown}): no aliases or per-registry profiles")
    ]


def check_registry(f: Findings) -> list[Result]:
    """A HOST that is not ECR gets no credentials."""
    if not f.host or f.registry is not None:
        return []
    return [
        Result(
            FAIL,
            "registry",
            f"{f.host!r} is not an Amazon ECR or ECR Public registry: the helper answers "
            "'not found' for it",
            "use <account>.dkr.ecr.<region>.amazonaws.com, or map the name in [aliases]",
        )
    ]


def check_identity(f: Findings) -> list[Result]:
    """Who AWS says we are (STS), and through which credentials."""
    f.aws()
    if not f.region and f.host:
        return [
            Result(
                SKIP,
                "identity",
                f"STS GetCallerIdentity needs a region: {f.host} is not an ECR registry and "
                "no region is configured",
                "set AWS_REGION (or region in ~/.aws/config) to check the identity anyway",
            )
        ]
    if not f.region:
        return [
            Result(
                FAIL,
                "region",
                "no region: no HOST given and none configured",
                "set AWS_REGION (or region in ~/.aws/config), or pass a registry host",
            )
        ]
    if isinstance(f.caller, dict):
        via = f"{f.identity.kind} credentials" + (f", profile {f.profile}" if f.profile else "")
        detail = f"{f.caller['Arn']} (account {f.caller['Account']}) via {via}"
        return [Result(OK, "identity", detail)]
    return [_aws_failure("identity", "STS GetCallerIdentity", f.caller, f)]


def check_region(f: Findings) -> list[Result]:
    """The region and registry the host maps to, and the API endpoint that will be called."""
    f.aws()
    if f.registry is None:
        return [_skipped(f, "region"), _skipped(f, "endpoint")]
    source = "from the host" if f.host else "configured default region"
    direct = parse(f.host) if f.host else None
    if f.host and (direct is None or direct.host != f.registry.host):
        source = f"{f.host} is an alias"
    lines = [
        Result(OK, "region", f"{f.registry.api_region} ({source}); registry {f.registry.host}")
    ]
    from docker_credential_ecr_py import _aws

    try:
        url = _aws.endpoint_url(f.registry)
    except Exception as err:
        lines.append(Result(FAIL, "endpoint", f"cannot resolve the API endpoint: {err}"))
        return lines
    origin = _endpoint_origin(f.registry, url, f.env)
    detail = f"GetAuthorizationToken goes to {url}" + (f" ({origin})" if origin else "")
    if url.lower().startswith("http://") and not _loopback(url):
        fix = "use an https:// URL; plain HTTP is only for a local stand-in" + (
            f" ({origin.removeprefix('set by ')})" if origin else ""
        )
        lines.append(
            Result(
                WARN, "endpoint", detail + ": plain HTTP, the token would travel unencrypted", fix
            )
        )
    else:
        lines.append(Result(OK, "endpoint", detail))
    return lines


def _loopback(url: str) -> bool:
    """A URL whose host is this machine (the token never leaves it)."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint_origin(registry: Registry, url: str, env: Mapping[str, str]) -> str:
    """Where an endpoint that is not AWS's own came from (botocore's order), or ``""``."""
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return ""
    service = "ECR_PUBLIC" if registry.service == "ecr-public" else "ECR"
    for name in (f"AWS_ENDPOINT_URL_{service}", "AWS_ENDPOINT_URL"):
        if env.get(name, "").strip():
            return f"set by {name}"
    from urllib.parse import urlsplit

    if aws_domain(urlsplit(url).hostname or ""):
        return ""
    return "set by endpoint_url in the AWS config file: the profile or its services section"


def _skipped(f: Findings, check: str) -> Result:
    """A check that could not run, and what it needs."""
    if f.host:
        need = f"needs an ECR registry: {f.host} is not one"
    elif not f.region:
        need = "needs a registry: give HOST, or set AWS_REGION for your default registry"
    else:
        need = "needs the caller's account for the default registry: the identity check failed"
    return Result(SKIP, check, need)


def check_cache(f: Findings) -> list[Result]:
    """The cache file in use (or why there is none) and how much of it is ours."""
    cache = f.ctx.cache
    settings = f.settings
    if not cache.persistent:
        why = (
            " (AWS_ECR_DISABLE_CACHE)"
            if settings.cache_disabled
            else f" ({settings.cache_dir} unusable)"
        )
        status = INFO if settings.cache_disabled else WARN
        return [Result(status, "cache", "no file cache: every get calls AWS" + why)]
    entries = list(_cache.iter_entries(cache.registries()))
    mine = [k for k, _ in entries if f.identity.key_part in k]
    fell_back = os.path.realpath(cache.directory) != os.path.realpath(settings.cache_dir or "/")
    note = f" (fallback: {settings.cache_dir} is unusable)" if fell_back else ""
    detail = f"{cache.path}: {len(entries)} entries, {len(mine)} for this identity{note}"
    return [Result(WARN if fell_back else OK, "cache", detail)]


def check_log(f: Findings) -> list[Result]:
    """Where the log goes, and whether it can be written."""
    log = f.ctx.log
    path = log.path
    if path is None:
        path = log.path_provider() if log.path_provider else ""
    if not path:
        return [
            Result(INFO, "log", "logging is off (AWS_ECR_LOG_FILE=off or AWS_ECR_LOG_LEVEL=off)")
        ]
    parent = os.path.dirname(path)
    if os.path.exists(path) and not os.path.isfile(path):
        detail = f"{path} is not a regular file: nothing is logged"
        return [Result(WARN, "log", detail, "set AWS_ECR_LOG_FILE to a file, or to off")]
    if os.path.exists(path):
        writable = os.access(path, os.W_OK)
    elif os.path.isdir(parent):
        writable = os.access(parent, os.W_OK)
    else:
        writable = os.access(os.path.dirname(parent) or "/", os.W_OK)
    detail = f"{path} (level {f.settings.log_level})" + ("" if writable else ": not writable")
    return [Result(OK if writable else WARN, "log", detail)]


def check_routing(f: Findings) -> list[Result]:
    """Whether Docker's config (or ``DOCKER_AUTH_CONFIG``) sends the host to this helper."""
    f.aws()
    if f.registry is None:
        return [_skipped(f, "routing")]
    host = f.host or f.registry.host
    fix = f"docker-credential-ecr-login configure-docker {host}"
    try:
        path = docker_config_path(f.settings)
    except CommandError as err:
        return [Result(WARN, "routing", str(err), fix)]
    notes = []
    if not f.env.get("HOME") and not f.env.get("DOCKER_CONFIG"):
        detail = f"HOME is unset: Docker reads {path} (the password database's home directory)"
        notes.append(Result(INFO, "routing", detail))
    return notes + _routing(f, host, path, fix)


def _routing(f: Findings, host: str, path: str, fix: str) -> list[Result]:
    sources: list[tuple[str, Any]] = []
    try:
        raw = read_bounded(path, _MAX_DOCKER_CONFIG, follow=True)  # a FIFO is refused at once
        if len(raw) > _MAX_DOCKER_CONFIG:
            raise ValueError(f"larger than {_MAX_DOCKER_CONFIG} bytes")
        sources.append((path, json.loads(raw)))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        return [
            Result(WARN, "routing", f"{path} is unreadable ({err})", "fix or recreate it: " + fix)
        ]
    notes: list[Result] = []
    auth_fix = f"set it to the output of: docker-credential-ecr-login gitlab-auth-config {host}"
    if f.env.get("DOCKER_AUTH_CONFIG"):
        try:
            doc = json.loads(f.env["DOCKER_AUTH_CONFIG"])
        except ValueError:
            doc, problem = None, "is not valid JSON"
        else:
            problem = _malformed(doc)
        if problem:
            detail = (
                f"DOCKER_AUTH_CONFIG is malformed: it {problem}; GitLab Runner drops the whole "
                "variable (its static auths too)"
            )
            return [Result(FAIL, "routing", detail, auth_fix)]
        sources.append(("DOCKER_AUTH_CONFIG", doc))
        notes += _cli_reads_auth_config(f, doc)
    for name, doc in sources:
        problem = _malformed(doc)
        if problem:
            detail = f"{name} is malformed: it {problem}; Docker ignores the file"
            notes.append(Result(WARN, "routing", detail, "fix or recreate it: " + fix))
            continue
        helpers = doc.get("credHelpers") or {}
        if helpers.get(host) == "ecr-login":
            return [*notes, Result(OK, "routing", f"{name}: credHelpers sends {host} to ecr-login")]
        if host in helpers:
            detail = f"{name}: credHelpers sends {host} to {helpers[host]!r}"
            return [*notes, Result(WARN, "routing", detail, fix)]
        if doc.get("credsStore") == "ecr-login":
            ok = Result(OK, "routing", f"{name}: credsStore sends every registry to ecr-login")
            return [*notes, ok, *_listed(f, host)]
    where = " or ".join(n for n, _ in sources) or path
    return [*notes, Result(WARN, "routing", f"{where} does not send {host} to ecr-login", fix)]


def _malformed(doc: object) -> str:
    """What makes a Docker config document unusable (Go's decoder refuses it), or ``""``."""
    if not isinstance(doc, dict):
        return "is not a JSON object"
    if doc.get("credHelpers") is not None and not helper_map(doc["credHelpers"]):
        return "has credHelpers that is not an object of registry host -> helper name"
    if doc.get("credsStore") is not None and not isinstance(doc["credsStore"], str):
        return "has a credsStore that is not a string"
    if doc.get("auths") is not None and not auths_map(doc["auths"]):
        return "has auths that is not an object of registry host -> object"
    return ""


def _listed(f: Findings, host: str) -> list[Result]:
    """With credsStore, GitLab Runner asks only for the registries ``list`` names."""
    helper = f.helper
    declared = set(helper.declared())
    if host_of(host) in declared:
        return []
    default = (
        registry_host(f.caller["Account"], f.identity.region)
        if isinstance(f.caller, dict) and f.identity.region
        else ""
    )
    if f.registry is not None and f.registry.host == default == host:
        # list primes the caller's own registry in a region where nothing else is cached
        cached, regions = helper.cached_listing(f.identity)
        if f"https://{host}" in cached or f.identity.region not in regions:
            return []
    detail = (
        f"GitLab Runner (credsStore: list, then get for each listed registry) never asks for "
        f"{host}: list does not always name it"
    )
    fix = (
        f"declare it: docker-credential-ecr-login configure-docker --creds-store {host} (or "
        f"AWS_ECR_REGISTRIES={host} where the runner runs the helper)"
    )
    return [Result(WARN, "list", detail, fix)]


def _cli_reads_auth_config(f: Findings, doc: dict[str, Any]) -> list[Result]:
    """Inside a CI job, Docker CLI 28.3+ reads DOCKER_AUTH_CONFIG itself and rejects anything
    but auths ("Failed to create credential store from DOCKER_AUTH_CONFIG")."""
    if not (f.env.get("GITLAB_CI") or f.env.get("CI_JOB_ID")):
        return []
    if not (set(doc) & {"credHelpers", "credsStore"}):
        return []
    version = _docker_cli_version(f.env, f.deadline)
    if version is None or version < _CLI_READS_AUTH_CONFIG:
        return []
    shown = ".".join(map(str, version))
    detail = (
        f"Docker CLI {shown} in this job reads DOCKER_AUTH_CONFIG itself, rejects its "
        "credHelpers/credsStore ('Failed to create credential store from DOCKER_AUTH_CONFIG') "
        "and falls back to config.json"
    )
    fix = (
        "write config.json (docker-credential-ecr-login configure-docker --from-auth-config), "
        "then unset DOCKER_AUTH_CONFIG in the job's shell"
    )
    return [Result(WARN, "routing", detail, fix)]


def _docker_cli_version(env: Mapping[str, str], deadline: float) -> tuple[int, int] | None:
    """The ``docker`` CLI's version on PATH (``docker --version``, within doctor's time bound
    and 5 s at most), or ``None``."""
    import re
    import shutil
    import subprocess

    docker = shutil.which("docker", path=env.get("PATH", ""))
    if docker is None:
        return None
    try:
        proc = subprocess.run(
            [docker, "--version"],
            capture_output=True,
            timeout=min(max(deadline - time.monotonic(), 0.5), 5.0),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(rb"version (\d+)\.(\d+)", proc.stdout)
    return (int(found.group(1)), int(found.group(2))) if found else None


def check_token(f: Findings) -> list[Result]:
    """A real ``GetAuthorizationToken``: the proof that a pull would get credentials."""
    f.aws()
    if not f.fetch_token:
        return []
    if f.registry is None:
        return [_skipped(f, "token")]
    if f.token is None:
        return [Result(SKIP, "token", "no answer from AWS in time")]
    call = f"GetAuthorizationToken for {f.registry.host}"
    if isinstance(f.token, BaseException):
        return [_aws_failure("token", call, f.token, f)]
    until = format_time(f.token.expires_at)
    return [Result(OK, "token", f"{call} succeeded; the token is valid until {until}")]


CHECKS: list[Check] = [
    check_helper,
    check_path,
    check_settings,
    check_config,
    check_registry,
    check_identity,
    check_region,
    check_cache,
    check_log,
    check_routing,
    check_token,
]


def _aws_failure(check: str, call: str, err: object, f: Findings) -> Result:
    """A failed AWS call: its error code and message, and the likely fix."""
    code = getattr(err, "code", type(err).__name__)
    message = getattr(err, "message", str(err))
    fix = _fix_for_aws(code, message, f.registry, f.env)
    return Result(FAIL, check, f"{call} failed: {code}: {message}", fix)


def _fix_for_aws(code: str, message: str, registry: Registry | None, env: Mapping[str, str]) -> str:
    """The likely fix for an AWS failure."""
    if code == "NoCredentials":
        return (
            "give the process AWS credentials: AWS_PROFILE, static keys, IRSA (AWS_ROLE_ARN + "
            "AWS_WEB_IDENTITY_TOKEN_FILE from the service account annotation "
            "eks.amazonaws.com/role-arn) or an instance/pod role"
        )
    if code in ("AccessDeniedException", "AccessDenied"):
        if "GetAuthorizationToken" in message or not registry:
            return (
                'allow ecr:GetAuthorizationToken (Resource "*") in the role\'s IAM policy; for a '
                "registry in another account also allow the pull actions there and grant this "
                "role in that repository's (or registry's) policy"
            )
        return "check the role's IAM policy and the registry policy of the registry's account"
    if code in ("InvalidIdentityToken", "InvalidIdentityTokenException", "ExpiredTokenException"):
        return (
            "the web identity token was refused: check the IAM OIDC provider and the role's "
            "trust policy (sub = system:serviceaccount:<ns>:<sa>)"
        )
    if code == "CredentialRetrievalError" or "web identity" in message.lower():
        token = env.get("AWS_WEB_IDENTITY_TOKEN_FILE", "")
        if token and not os.access(token, os.R_OK):
            return (
                f"{token} is not readable by uid {os.geteuid()}: set fsGroup / runAsUser so "
                "the pod can read the projected token"
            )
        return "check the credential source configured for this profile"
    if code == "ProfileNotFound":
        return "define the profile in ~/.aws/config (or fix AWS_PROFILE / the [profiles] table)"
    if code in ("Timeout", "EndpointConnectionError", "ConnectionClosed", "DeadlineExceeded"):
        return (
            "the AWS endpoint is unreachable: check network egress, HTTPS_PROXY/NO_PROXY, VPC "
            "endpoints (ecr.api, sts) and AWS_ENDPOINT_URL_* variables"
        )
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch"):
        return "the credentials are invalid or expired: refresh them (aws sso login, rotate keys)"
    if code.startswith("HTTP") or code == "InvalidResponse":
        return (
            "something other than AWS answered: check HTTPS_PROXY/NO_PROXY, a TLS-inspecting "
            "proxy or firewall, and AWS_ENDPOINT_URL_* / endpoint_url settings"
        )
    if "Throttl" in code:
        return "AWS is throttling: retry later; the cache keeps repeated gets off the API"
    return ""


def _write(out: TextIO, result: Result, secrets: set[str]) -> None:
    from docker_credential_ecr_py._log import shown

    detail = shown(result.detail, secrets)
    out.write(f"  {result.status:<5} {result.check:<10} {detail}\n")
    if result.fix:
        out.write(f"  {'':<5} {'':<10} fix: {shown(result.fix, secrets)}\n")


KubeletMode = tuple[Callable[[Any, Any], Findings], list[Check]]


def main(
    argv: list[str],
    ctx: Context,
    stdout: TextIO,
    stderr: TextIO,
    *,
    kubelet: KubeletMode | None = None,
) -> int:
    """Run the checks; exit 0 exactly when none failed. ``kubelet`` is how ``--kubelet`` runs
    (``_commands.kubelet`` hands it in: this module never imports that one)."""
    parser = Parser(
        stdout,
        stderr,
        prog="docker-credential-ecr-login doctor",
        description="Explain why a registry gets (or does not get) ECR credentials: one line "
        "per check (ok, info, warn, FAIL, skip), each problem with its fix. Never prints a "
        "token; answers within AWS_ECR_TIMEOUT.",
        exit_codes=EXIT_CODES,
    )
    parser.add_argument("host", nargs="?", help="registry host (default: your default registry)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (checks, counts, ok) instead of the report; for scripts and "
        "readiness probes",
    )
    parser.add_argument(
        "--kubelet",
        metavar="IMAGE",
        help="check the kubelet credential provider for IMAGE instead (runs the provider path)",
    )
    parser.add_argument(
        "--kubelet-config",
        metavar="FILE",
        help="with --kubelet: the kubelet's CredentialProviderConfig (JSON or YAML, or a "
        "directory of them) to check",
    )
    parser.add_argument(
        "--kubelet-bin-dir",
        metavar="DIR",
        help="with --kubelet: the kubelet's --image-credential-provider-bin-dir (default: the "
        "running kubelet's); the provider there is the one run",
    )
    parser.add_argument(
        "--service-account-token",
        metavar="FILE",
        help="with --kubelet: send this projected token, as the kubelet does with tokenAttributes",
    )
    parser.add_argument(
        "--role-arn",
        metavar="ARN",
        help="with --service-account-token: the service account's eks.amazonaws.com/ecr-role-arn",
    )
    args = parser.parse_args(argv)  # Exit is handled by _commands.run
    for option in ("kubelet_config", "kubelet_bin_dir", "service_account_token", "role_arn"):
        if getattr(args, option) and not args.kubelet:
            parser.error(f"--{option.replace('_', '-')} needs --kubelet IMAGE")
    if args.role_arn and not args.service_account_token:
        parser.error("--role-arn needs --service-account-token FILE")
    if args.kubelet and args.host:
        parser.error("give either HOST or --kubelet IMAGE, not both")
    started = time.monotonic()
    checks: list[Check] = CHECKS
    findings: Findings
    title = "docker-credential-ecr-login doctor"
    if args.kubelet:
        if kubelet is None:
            parser.error("--kubelet is not available here")
        make, checks = kubelet
        title += f" --kubelet {args.kubelet}"
        if not args.json:
            stdout.write(title + "\n")
        findings = make(ctx, args)
    else:
        if not args.json:
            stdout.write(title + "\n")
        findings = Findings(ctx, args.host)
    counts = {OK: 0, WARN: 0, FAIL: 0, INFO: 0, SKIP: 0}
    results: list[Result] = []
    for check in checks:
        for result in check(findings):
            counts[result.status] += 1
            results.append(result)
            if not args.json:
                _write(stdout, result, ctx.log.secrets)
                stdout.flush()  # streamed line by line, into a pipe too
    closer = getattr(findings, "close", None)
    if closer is not None:
        closer()
    elapsed = time.monotonic() - started
    failed, warned = counts[FAIL], counts[WARN]
    if args.json:
        stdout.write(_json_report(title, findings, results, counts, elapsed, ctx.log.secrets))
    else:
        skipped = f", {counts[SKIP]} skipped" if counts[SKIP] else ""
        stdout.write(f"result: {failed} failed, {warned} warning(s){skipped} in {elapsed:.1f} s\n")
    stdout.flush()
    return 1 if failed else 0


EXIT_CODES = (
    ("0", "no check failed (warnings, info and skipped checks allowed)"),
    ("1", "at least one check failed"),
    ("2", "bad arguments"),
)


def _json_report(
    title: str,
    findings: Findings,
    results: list[Result],
    counts: dict[str, int],
    elapsed: float,
    secrets: set[str],
) -> str:
    """``doctor --json``: one object, the same checks and texts as the report (redacted)."""
    from docker_credential_ecr_py._log import shown

    registry = getattr(findings, "registry", None)
    doc = {
        "command": title,
        "version": __version__,
        "build": build_flavour(),
        "host": getattr(findings, "host", None),
        "registry": registry.host if isinstance(registry, Registry) else None,
        "ok": counts[FAIL] == 0,
        "failed": counts[FAIL],
        "warnings": counts[WARN],
        "skipped": counts[SKIP],
        "seconds": round(elapsed, 3),
        "checks": [
            {
                "status": r.status.lower(),
                "check": r.check,
                "detail": shown(r.detail, secrets),
                "fix": shown(r.fix, secrets),
            }
            for r in results
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
