"""``docker-credential-ecr-login doctor [HOST]``: why a pull gets no ECR credentials, in one run.

Checks, in order: the helper itself and which one Docker will run (PATH), settings and the config
file, the caller's AWS identity (STS ``GetCallerIdentity``), the region and API endpoint the host
maps to, the cache and the log, whether ``config.json`` routes the host here, and a real token
fetch. Identity, region, config file and token fetch are failures; PATH and routing are warnings
(runner managers often route through ``DOCKER_AUTH_CONFIG``). Exit 0 exactly when nothing failed.
Never prints a secret or a token. The AWS calls run in parallel under ``AWS_ECR_TIMEOUT``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from docker_credential_ecr_py import __version__, _cache
from docker_credential_ecr_py._config import Settings
from docker_credential_ecr_py._helper import EcrHelper
from docker_credential_ecr_py._registry import Registry, parse, registry_host

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"


class Report:
    """Lines of ``status  check  detail`` plus an optional fix, in the order checked."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.counts = {OK: 0, WARN: 0, FAIL: 0, INFO: 0}
        self.secrets: set[str] = set()

    def add(self, status: str, check: str, detail: str, fix: str = "") -> None:
        from docker_credential_ecr_py._log import redact

        self.counts[status] += 1
        self.out.write(redact(f"  {status:<5} {check:<10} {detail}\n", self.secrets))
        if fix:
            self.out.write(redact(f"  {'':<5} {'':<10} fix: {fix}\n", self.secrets))

    def aws_failure(
        self,
        check: str,
        call: str,
        err: object,
        registry: Registry | None,
        env: Mapping[str, str],
    ) -> None:
        """A failed AWS call: its error code and message, and the likely fix."""
        code = getattr(err, "code", type(err).__name__)
        message = getattr(err, "message", str(err))
        self.add(
            FAIL,
            check,
            f"{call} failed: {code}: {message}",
            _fix_for_aws(code, message, registry, env),
        )


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
    if code in ("Timeout", "EndpointConnectionError", "ConnectionClosed"):
        return (
            "the AWS endpoint is unreachable: check network egress, HTTPS_PROXY/NO_PROXY, VPC "
            "endpoints (ecr.api, sts) and AWS_ENDPOINT_URL_* variables"
        )
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch"):
        return "the credentials are invalid or expired: refresh them (aws sso login, rotate keys)"
    if "Throttl" in code:
        return "AWS is throttling: retry later; the cache keeps repeated gets off the API"
    return ""


def _run_parallel(jobs: dict[str, Callable[[], Any]], deadline: float) -> dict[str, Any]:
    """Run jobs in threads; each result is the value, the exception, or ``TimeoutError``."""
    results: dict[str, Any] = {}

    def wrap(name: str, job: Callable[[], Any]) -> None:
        try:
            results[name] = job()
        except Exception as err:
            results[name] = err

    threads = [
        threading.Thread(target=wrap, args=(name, job), daemon=True) for name, job in jobs.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    for name in jobs:
        results.setdefault(name, TimeoutError("no answer within the time bound"))
    return results


def _endpoint(registry: Registry) -> str:
    """The API endpoint botocore will call for this registry (no network)."""
    from docker_credential_ecr_py import _aws

    session = _aws.make_session(None, registry.api_region, time.monotonic() + 5)
    client = _aws._client(session, registry, time.monotonic() + 5)
    url: str = client.meta.endpoint_url
    return url


def _routing(host: str, env: Mapping[str, str]) -> tuple[str, str, str]:
    docker_config = env.get("DOCKER_CONFIG") or os.path.join(env.get("HOME", ""), ".docker")
    path = Path(docker_config) / "config.json"
    sources: list[tuple[str, Any]] = []
    try:
        sources.append((str(path), json.loads(path.read_text())))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        return (
            WARN,
            f"{path} is unreadable ({err})",
            "fix or recreate it: docker-credential-ecr-login configure-docker " + host,
        )
    if env.get("DOCKER_AUTH_CONFIG"):
        try:
            sources.append(("DOCKER_AUTH_CONFIG", json.loads(env["DOCKER_AUTH_CONFIG"])))
        except ValueError:
            return (
                WARN,
                "DOCKER_AUTH_CONFIG is not valid JSON",
                f"use: docker-credential-ecr-login gitlab-auth-config {host}",
            )
    for name, doc in sources:
        if not isinstance(doc, dict):
            continue
        helpers = doc.get("credHelpers")
        if isinstance(helpers, dict) and helpers.get(host) == "ecr-login":
            return OK, f"{name}: credHelpers sends {host} to ecr-login", ""
        if isinstance(helpers, dict) and host in helpers:
            return (
                WARN,
                f"{name}: credHelpers sends {host} to {helpers[host]!r}",
                f"docker-credential-ecr-login configure-docker {host}",
            )
        if doc.get("credsStore") == "ecr-login":
            return OK, f"{name}: credsStore sends every registry to ecr-login", ""
    where = " or ".join(n for n, _ in sources) or str(path)
    return (
        WARN,
        f"{where} does not send {host} to ecr-login",
        f"docker-credential-ecr-login configure-docker {host}",
    )


def _path_check(env: Mapping[str, str]) -> tuple[str, str, str]:
    found = shutil.which("docker-credential-ecr-login", path=env.get("PATH", ""))
    me = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if getattr(sys, "frozen", False):
        me = os.path.realpath(sys.executable)
    if found is None:
        return (
            WARN,
            "docker-credential-ecr-login is not on PATH: Docker cannot run it",
            "put the directory holding it on PATH (or symlink it into /usr/local/bin)",
        )
    if me and os.path.realpath(found) != me:
        return (
            WARN,
            f"Docker will run {found}, not this one ({me})",
            f"put {os.path.dirname(me)} before {os.path.dirname(found)} on PATH",
        )
    return OK, f"Docker will run {found}", ""


def doctor_main(argv: list[str], stdout: TextIO, stderr: TextIO, env: Mapping[str, str]) -> int:
    """Run the checks; exit 0 exactly when none failed."""
    parser = argparse.ArgumentParser(
        prog="docker-credential-ecr-login doctor",
        description="Explain why a registry gets (or does not get) ECR credentials.",
    )
    parser.add_argument("host", nargs="?", help="registry host (default: your default registry)")
    args = parser.parse_args(argv)
    settings = Settings(env)
    helper = EcrHelper(settings)
    report = Report(stdout)
    report.secrets = helper.log.secrets
    started = time.monotonic()
    deadline = started + settings.timeout
    from docker_credential_ecr_py._cli import build_flavour

    stdout.write("docker-credential-ecr-login doctor\n")
    report.add(
        OK,
        "helper",
        f"docker-credential-ecr-py {__version__} ({build_flavour()}), "
        f"Python {sys.version.split()[0]}",
    )
    path_status, path_detail, path_fix = _path_check(env)
    report.add(path_status, "PATH", path_detail, path_fix)
    for problem in settings.invalid:
        report.add(WARN, "settings", problem)

    config = helper.config()
    if config.problems:
        for problem in config.problems:
            report.add(
                FAIL,
                "config",
                problem,
                "fix the file: TOML with [aliases] and [profiles] tables of strings",
            )
    elif config.path and os.path.exists(config.path):
        report.add(
            OK,
            "config",
            f"{config.path}: {len(config.aliases)} alias(es), {len(config.profiles)} profile(s)",
        )
    else:
        report.add(
            INFO,
            "config",
            f"no config file ({config.path or 'none'}): no aliases or per-registry profiles",
        )

    registry: Registry | None = None
    profile: str | None = None
    if args.host:
        registry, profile = helper.registry(args.host)
        if registry is None:
            report.add(
                FAIL,
                "registry",
                f"{args.host!r} is not an Amazon ECR or ECR Public registry: the helper "
                "answers 'not found' for it",
                "use <account>.dkr.ecr.<region>.amazonaws.com, or map the name in [aliases]",
            )
    identity = helper.identity(profile)
    region = registry.api_region if registry else identity.region
    jobs: dict[str, Callable[[], Any]] = {}
    from docker_credential_ecr_py import _aws

    if region:
        jobs["identity"] = lambda: _aws.caller_identity(profile, region, deadline)
    if registry is not None:
        reg = registry
        jobs["token"] = lambda: _aws.fetch(reg, profile, deadline)
    results = _run_parallel(jobs, deadline)

    who = results.get("identity")
    via = f"{identity.kind} credentials" + (f", profile {profile}" if profile else "")
    if not region:
        report.add(
            FAIL,
            "region",
            "no region: no HOST given and none configured",
            "set AWS_REGION (or region in ~/.aws/config), or pass a registry host",
        )
    elif isinstance(who, dict):
        report.add(OK, "identity", f"{who['Arn']} (account {who['Account']}) via {via}")
    else:
        report.aws_failure("identity", "STS GetCallerIdentity", who, registry, env)

    if registry is None and region and isinstance(who, dict) and not args.host:
        host = registry_host(who["Account"], region)
        default = parse(host)
        if default is not None:
            registry = default
            token_result = _run_parallel(
                {"token": lambda: _aws.fetch(default, profile, deadline)}, deadline
            )
            results["token"] = token_result["token"]
    if registry is not None:
        source = "from the host" if args.host else "configured default region"
        direct = parse(args.host) if args.host else None
        if args.host and (direct is None or direct.host != registry.host):
            source = f"{args.host} is an alias"
        report.add(OK, "region", f"{registry.api_region} ({source}); registry {registry.host}")
        try:
            report.add(OK, "endpoint", f"GetAuthorizationToken goes to {_endpoint(registry)}")
        except Exception as err:
            report.add(FAIL, "endpoint", f"cannot resolve the API endpoint: {err}")

    cache = helper.cache()
    if isinstance(cache, _cache.NullCache):
        report.add(
            WARN if not settings.cache_disabled else INFO,
            "cache",
            "no file cache: every get calls AWS"
            + (
                " (AWS_ECR_DISABLE_CACHE)"
                if settings.cache_disabled
                else f" ({settings.cache_dir} unusable)"
            ),
        )
    else:
        entries = list(_cache.iter_entries(cache.registries()))
        mine = [k for k, _ in entries if identity.key_part in k]
        fell_back = os.path.realpath(cache.directory) != os.path.realpath(settings.cache_dir or "/")
        note = f" (fallback: {settings.cache_dir} is unusable)" if fell_back else ""
        report.add(
            WARN if fell_back else OK,
            "cache",
            f"{cache.path}: {len(entries)} entries, {len(mine)} for this identity{note}",
        )
    log_path = helper.log.path
    if log_path is None:
        log_path = helper.log.path_provider() if helper.log.path_provider else ""
    if not log_path:
        report.add(INFO, "log", "logging is off (AWS_ECR_LOG_FILE=off or AWS_ECR_LOG_LEVEL=off)")
    else:
        parent = os.path.dirname(log_path)
        writable = (
            os.access(log_path if os.path.exists(log_path) else parent, os.W_OK)
            if os.path.isdir(parent) or os.path.exists(log_path)
            else os.access(os.path.dirname(parent) or "/", os.W_OK)
        )
        report.add(
            OK if writable else WARN,
            "log",
            f"{log_path} (level {settings.log_level})" + ("" if writable else ": not writable"),
        )

    if registry is not None:
        route_status, route_detail, route_fix = _routing(args.host or registry.host, env)
        report.add(route_status, "routing", route_detail, route_fix)
        token = results.get("token")
        if token is not None and not isinstance(token, Exception):
            until = _cache.format_time(token.expires_at)
            report.add(
                OK,
                "token",
                f"GetAuthorizationToken for {registry.host} succeeded; the token is valid "
                f"until {until}",
            )
        elif token is not None:
            call = f"GetAuthorizationToken for {registry.host}"
            report.aws_failure("token", call, token, registry, env)
    elapsed = time.monotonic() - started
    failed, warned = report.counts[FAIL], report.counts[WARN]
    stdout.write(f"result: {failed} failed, {warned} warning(s) in {elapsed:.1f} s\n")
    stdout.flush()
    return 1 if failed else 0
