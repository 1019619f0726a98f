"""``doctor --kubelet IMAGE [--kubelet-config FILE]``: would the kubelet get ECR credentials for
IMAGE from this program?

Checks the kubelet's ``CredentialProviderConfig`` (JSON or YAML) the way the kubelet reads it
for this image (which provider entries cover it, whether their name, ``args`` and ``apiVersion``
reach this program, the service-account settings), then runs the provider path itself (the
request the kubelet would send, with the entry's ``env`` applied, through the same cache) and
reports the answer without its password.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from docker_credential_ecr_py import _kubelet
from docker_credential_ecr_py._commands.doctor import (
    FAIL,
    INFO,
    OK,
    WARN,
    Check,
    Findings,
    Result,
    _fix_for_aws,
    check_cache,
    check_config,
    check_helper,
    check_identity,
    check_log,
    check_region,
    check_settings,
)
from docker_credential_ecr_py._commands.doctor import main as doctor_main
from docker_credential_ecr_py._lean import read_bounded

CONFIG_KIND = "CredentialProviderConfig"
CONFIG_API_VERSIONS = ("kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v1beta1")
MAX_CONFIG_BYTES = 4 * 1024 * 1024
# What matchImages should hold to cover every private ECR host form (and ECR Public).
MATCH_IMAGES = (
    "*.dkr.ecr.*.amazonaws.com",
    "*.dkr-ecr.*.on.aws",
    "*.dkr.ecr-fips.*.amazonaws.com",
    "*.dkr-ecr-fips.*.on.aws",
    "*.dkr.ecr.*.amazonaws.com.cn",
    "*.dkr-ecr.*.on.amazonwebservices.com.cn",
    "*.dkr.ecr.*.amazonaws.eu",
    "*.dkr.ecr.*.c2s.ic.gov",
    "*.dkr.ecr.*.sc2s.sgov.gov",
    "*.dkr.ecr.*.cloud.adc-e.uk",
    "*.dkr.ecr.*.csp.hci.ic.gov",
    "public.ecr.aws",
    "ecr-public.aws.com",
)


class KubeletFindings(Findings):
    """``Findings`` for an image, plus the kubelet config and what it says about the image."""

    def __init__(self, ctx: Any, image: str, config_path: str | None) -> None:
        self.image = image
        self.registry_key = _kubelet.image_registry(image)
        super().__init__(ctx, self.registry_key or image, fetch_token=False)
        self.config_path = config_path
        self.api_version = _kubelet.API_VERSIONS[0]
        self.provider_env: dict[str, str] = {}


def load_config(path: str) -> Any:
    """A ``CredentialProviderConfig`` file, JSON or YAML (``ValueError`` when it is neither)."""
    raw = read_bounded(path, MAX_CONFIG_BYTES, follow=True)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ValueError(f"larger than {MAX_CONFIG_BYTES >> 20} MiB")
    text = raw.decode("utf-8")
    import json

    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"neither JSON nor YAML: {' '.join(str(err).split())}") from None


def check_kubelet_config(f: KubeletFindings) -> list[Result]:
    """The provider entries of the kubelet's config that cover the image, and what they run."""
    if not f.config_path:
        return [
            Result(
                INFO,
                "kubelet",
                "no --kubelet-config FILE: the kubelet's CredentialProviderConfig is not checked",
            )
        ]
    path = f.config_path
    try:
        doc = load_config(path)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        why = getattr(err, "strerror", None) or err
        return [Result(FAIL, "kubelet", f"{path}: cannot read it: {why}")]
    if not isinstance(doc, dict) or doc.get("kind") != CONFIG_KIND:
        return [Result(FAIL, "kubelet", f"{path} is not a {CONFIG_KIND} (kind: {CONFIG_KIND})")]
    lines: list[Result] = []
    if doc.get("apiVersion") not in CONFIG_API_VERSIONS:
        lines.append(
            Result(
                FAIL,
                "kubelet",
                f"{path}: apiVersion {doc.get('apiVersion')!r} is not one the kubelet reads",
                f"use apiVersion: {CONFIG_API_VERSIONS[0]}",
            )
        )
    providers = doc.get("providers")
    if not isinstance(providers, list) or not providers:
        return [*lines, Result(FAIL, "kubelet", f"{path} has no providers")]
    matching = [
        p
        for p in providers
        if isinstance(p, dict)
        and any(
            isinstance(m, str) and _kubelet.image_matches(m, f.image)
            for m in p.get("matchImages") or []
        )
    ]
    if not matching:
        if f.registry is None:
            detail = f"no provider's matchImages covers {f.image}: the kubelet pulls it without one"
            return [*lines, Result(INFO, "kubelet", detail)]
        fix = f"add {pattern_for(f)!r} to matchImages (docs/kubernetes.md lists every ECR form)"
        return [*lines, Result(FAIL, "kubelet", f"no provider's matchImages covers {f.image}", fix)]
    ours = [p for p in matching if _runs_this_program(p)]
    for provider in matching:
        if provider in ours:
            continue
        name = provider.get("name")
        lines.append(
            Result(
                INFO if ours else FAIL,
                "kubelet",
                f"provider {name!r} also covers {f.image}: the kubelet runs "
                f"<image-credential-provider-bin-dir>/{name} for it too"
                if ours
                else f"provider {name!r} covers {f.image} but is not this program",
                "" if ours else _name_fix(provider),
            )
        )
    if not ours:
        return lines
    provider = ours[0]
    name = provider.get("name")
    how = f"{name} {' '.join(provider.get('args') or [])}".strip()
    lines.append(Result(OK, "kubelet", f"{path}: provider {name!r} covers {f.image} (runs {how})"))
    api = provider.get("apiVersion")
    if api in _kubelet.API_VERSIONS:
        f.api_version = api
        lines.append(Result(OK, "kubelet", f"apiVersion {api}"))
    else:
        lines.append(
            Result(
                FAIL,
                "kubelet",
                f"provider apiVersion {api!r} is not supported by this program",
                f"use apiVersion: {_kubelet.API_VERSIONS[0]}",
            )
        )
    duration = provider.get("defaultCacheDuration")
    if not isinstance(duration, str) or parse_go_duration(duration) is None:
        lines.append(
            Result(
                FAIL,
                "kubelet",
                f"defaultCacheDuration {duration!r} is missing or not a duration (required)",
                'set defaultCacheDuration: "12h" (each answer carries its own cacheDuration)',
            )
        )
    env = provider.get("env") or []
    for item in env if isinstance(env, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            f.provider_env[item["name"]] = str(item.get("value", ""))
    if f.provider_env:
        names = ", ".join(sorted(f.provider_env))
        lines.append(Result(INFO, "kubelet", f"the provider's env sets {names} (applied below)"))
    lines += _token_attributes(provider, f)
    return lines


def pattern_for(f: KubeletFindings) -> str:
    """The ``matchImages`` pattern that covers every account and region of the image's
    registry form (its port too, which the kubelet matches exactly)."""
    assert f.registry is not None
    host, _, port = f.registry_key.lower().partition(":")
    labels = host.split(".")
    if not f.registry.is_public:
        labels = [
            "*" if i == 0 or label == f.registry.region else label for i, label in enumerate(labels)
        ]
    return ".".join(labels) + (f":{port}" if port else "")


def _only_for_ecr(check: Check) -> Check:
    """A check that has nothing to say about an image that is not on ECR."""

    def run(f: Findings) -> list[Result]:
        return check(f) if f.registry is not None else []

    run.__doc__ = check.__doc__
    return run


def _runs_this_program(provider: Mapping[str, Any]) -> bool:
    name = provider.get("name")
    args = provider.get("args") or []
    if name == _kubelet.NAME:
        return not args
    return name == "docker-credential-ecr-login" and list(args) == [_kubelet.COMMAND]


def _name_fix(provider: Mapping[str, Any]) -> str:
    name = provider.get("name")
    if name == "docker-credential-ecr-login":
        return f'add args: ["{_kubelet.COMMAND}"] (without it the protocol verbs answer)'
    if name == _kubelet.NAME:
        return f"{_kubelet.NAME} takes no args: remove them"
    return (
        f"name the provider {_kubelet.NAME} and link this program there "
        f"(ln -s $(command -v docker-credential-ecr-login) <bin-dir>/{_kubelet.NAME})"
    )


def _token_attributes(provider: Mapping[str, Any], f: KubeletFindings) -> list[Result]:
    attrs = provider.get("tokenAttributes")
    if attrs is None:
        return [Result(INFO, "kubelet", "no tokenAttributes: pulls use the node's credentials")]
    if not isinstance(attrs, dict) or not attrs.get("serviceAccountTokenAudience"):
        return [
            Result(
                FAIL,
                "kubelet",
                "tokenAttributes without serviceAccountTokenAudience (required)",
                "set serviceAccountTokenAudience: sts.amazonaws.com",
            )
        ]
    lines = []
    if provider.get("apiVersion") != _kubelet.API_VERSIONS[0]:
        lines.append(
            Result(
                WARN,
                "kubelet",
                "tokenAttributes need the provider's apiVersion "
                f"{_kubelet.API_VERSIONS[0]} (the only one with serviceAccountToken)",
            )
        )
    if not isinstance(attrs.get("requireServiceAccount"), bool):
        lines.append(
            Result(
                FAIL,
                "kubelet",
                "tokenAttributes without requireServiceAccount (required)",
                "set requireServiceAccount: false (pods without a service account then pull "
                "with the node's credentials)",
            )
        )
    elif attrs.get("requiredServiceAccountAnnotationKeys") and not attrs["requireServiceAccount"]:
        lines.append(
            Result(
                FAIL,
                "kubelet",
                "requiredServiceAccountAnnotationKeys needs requireServiceAccount: true",
            )
        )
    cache_type = attrs.get("cacheType")
    if cache_type == "Token":
        lines.append(
            Result(
                INFO,
                "kubelet",
                "tokenAttributes.cacheType Token: the kubelet asks again for every new token; "
                "the answer depends on the service account alone, so ServiceAccount suffices",
            )
        )
    elif cache_type != "ServiceAccount":
        lines.append(
            Result(
                FAIL,
                "kubelet",
                f"tokenAttributes.cacheType {cache_type!r}: required since Kubernetes 1.34, "
                "ServiceAccount or Token",
                "set cacheType: ServiceAccount",
            )
        )
    keys = list(attrs.get("requiredServiceAccountAnnotationKeys") or []) + list(
        attrs.get("optionalServiceAccountAnnotationKeys") or []
    )
    if _kubelet.ROLE_ANNOTATION in keys:
        lines.append(
            Result(
                OK,
                "kubelet",
                f"service-account tokens (audience {attrs['serviceAccountTokenAudience']}); "
                f"the role comes from the annotation {_kubelet.ROLE_ANNOTATION}",
            )
        )
    elif f.provider_env.get(_kubelet.ROLE_ENV):
        lines.append(
            Result(
                OK,
                "kubelet",
                f"service-account tokens; every pod's role is {_kubelet.ROLE_ENV}="
                f"{f.provider_env[_kubelet.ROLE_ENV]}",
            )
        )
    else:
        lines.append(
            Result(
                WARN,
                "kubelet",
                f"service-account tokens are sent but no role is named: the kubelet passes no "
                f"{_kubelet.ROLE_ANNOTATION} annotation and env has no {_kubelet.ROLE_ENV}, "
                "so pulls use the node's credentials",
                f"add {_kubelet.ROLE_ANNOTATION} to optionalServiceAccountAnnotationKeys",
            )
        )
    return lines


def check_kubelet_image(f: KubeletFindings) -> list[Result]:
    """Whether the image is on an ECR registry (else the provider answers no credentials)."""
    if f.registry is None:
        return [
            Result(
                WARN,
                "image",
                f"{f.image} is not on an Amazon ECR registry: the provider answers no "
                "credentials and the kubelet pulls it anonymously",
                "map its registry in the config file's [aliases] if it fronts ECR",
            )
        ]
    return [Result(OK, "image", f"{f.image}: registry {f.registry_key}")]


def check_kubelet_answer(f: KubeletFindings) -> list[Result]:
    """The provider's answer to the request the kubelet would send, from a process started as
    the kubelet starts it (the provider entry's ``env`` over this environment, the request on
    stdin, the kubelet's 60 s bound); the password is never shown."""
    if f.registry is None:
        return []
    import json
    import subprocess
    import sys

    if getattr(sys, "frozen", False):
        # The static build runs from a temporary copy: start the real file again.
        program = f.env.get("STATICX_PROG_PATH") or sys.executable
        command = [program, _kubelet.COMMAND]
    else:
        command = [sys.executable, "-m", "docker_credential_ecr_py", _kubelet.COMMAND]
    request = _kubelet.encode_request(f.api_version, f.image)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            command,
            input=request,
            capture_output=True,
            env={**f.env, **f.provider_env},
            timeout=_kubelet.KUBELET_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        limit = _kubelet.KUBELET_TIMEOUT
        return [Result(FAIL, "provider", f"no answer within the kubelet's {limit} s")]
    except OSError as err:
        return [Result(FAIL, "provider", f"cannot run {command[0]}: {err.strerror or err}")]
    took = time.monotonic() - started
    line = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    said = line[-1].removeprefix(f"{_kubelet.NAME}: ") if line else ""
    if proc.returncode != 0:
        code = said.split(": ", 2)[1] if said.count(": ") >= 2 else ""
        fix = _fix_for_aws(code, said, f.registry, {**f.env, **f.provider_env})
        detail = f"exit {proc.returncode} in {took:.2f} s, no credentials: {said}"
        return [Result(FAIL, "provider", detail, fix)]
    try:
        answer = json.loads(proc.stdout)
        auth = answer.get("auth") or {}
        users = ", ".join(f"{key} (username {value['username']})" for key, value in auth.items())
        detail = (
            f"answered in {took:.2f} s: cacheKeyType {answer['cacheKeyType']}, cacheDuration "
            f"{answer['cacheDuration']}, credentials for {users}"
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return [
            Result(FAIL, "provider", "the answer on stdout is not a CredentialProviderResponse")
        ]
    return [Result(OK, "provider", detail)]


def parse_go_duration(text: str) -> float | None:
    """Seconds of a Go ``time.ParseDuration`` string (``12h``, ``1h30m``, ``0``), or ``None``."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return 0.0
    if not s:
        return None
    total = 0.0
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and (s[j].isdigit() or s[j] == "."):
            j += 1
        number = s[i:j]
        if not number or number == "." or number.count(".") > 1:
            return None
        k = j
        while k < len(s) and not (s[k].isdigit() or s[k] == "."):
            k += 1
        unit = s[j:k]
        if unit not in units:
            return None
        total += float(number) * units[unit]
        i = k
    return sign * total


CHECKS: list[Check] = [
    check_helper,
    check_settings,
    check_config,
    check_kubelet_config,  # type: ignore[list-item]
    check_kubelet_image,  # type: ignore[list-item]
    _only_for_ecr(check_identity),
    _only_for_ecr(check_region),
    check_cache,
    check_log,
    check_kubelet_answer,  # type: ignore[list-item]
]


def main(argv: list[str], ctx: Any, stdout: Any, stderr: Any) -> int:
    """``doctor``, with ``--kubelet IMAGE`` running the checks above."""
    return doctor_main(argv, ctx, stdout, stderr, kubelet=(KubeletFindings, CHECKS))
