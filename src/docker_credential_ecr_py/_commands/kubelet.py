"""``doctor --kubelet IMAGE [--kubelet-config FILE]``: would the kubelet get ECR credentials for
IMAGE from this program?

Checks the kubelet's ``CredentialProviderConfig`` (JSON or YAML) the way the kubelet reads it
for this image (which provider entries cover it, whether their name, ``args`` and ``apiVersion``
reach this program, the service-account settings), then runs the provider path itself (the
request the kubelet would send, with the entry's ``env`` applied, through the same cache) and
reports the answer without its password.
"""

from __future__ import annotations

import os
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


class KubeletFindings(Findings):
    """``Findings`` for an image, plus the kubelet config and what it says about the image.

    The config is read first: the covering provider's ``env`` is the environment the kubelet
    gives the provider, so every check (identity, region, cache, the answer) runs in it.
    """

    def __init__(self, ctx: Any, args: Any) -> None:
        self.image: str = args.kubelet
        self.registry_key = _kubelet.image_registry(self.image)
        self.config_path: str | None = args.kubelet_config
        self.bin_dir: str | None = args.kubelet_bin_dir
        self.token_file: str | None = args.service_account_token
        self.role_arn: str | None = args.role_arn
        self.api_version = _kubelet.API_VERSIONS[0]
        self.doc: Any = None
        self.config_error = ""
        self.provider: dict[str, Any] | None = None  # the covering entry that runs this program
        self.matching: list[dict[str, Any]] = []
        self.provider_env: dict[str, str] = {}
        self.inherited = sorted(k for k in ctx.settings.env if k.startswith("AWS_"))
        if self.config_path:
            self._read_config()
        self.own_ctx = None
        if self.provider_env:
            from docker_credential_ecr_py._context import Context
            from docker_credential_ecr_py._settings import Settings

            # botocore reads os.environ: the in-process checks see the provider's env too.
            os.environ.update(self.provider_env)
            env = {**ctx.settings.env, **self.provider_env}
            ctx = self.own_ctx = Context(Settings(env), stderr=ctx.stderr)
        super().__init__(ctx, self.registry_key or self.image, fetch_token=False)

    def _read_config(self) -> None:
        assert self.config_path
        try:
            self.doc = load_config(self.config_path)
        except (OSError, ValueError, UnicodeDecodeError) as err:
            self.config_error = str(getattr(err, "strerror", None) or err)
            return
        providers = self.doc.get("providers") if isinstance(self.doc, dict) else None
        for provider in providers if isinstance(providers, list) else []:
            if isinstance(provider, dict) and any(
                isinstance(m, str) and _kubelet.image_matches(m, self.image)
                for m in provider.get("matchImages") or []
            ):
                self.matching.append(provider)
        ours = [p for p in self.matching if _runs_this_program(p)]
        if ours:
            self.provider = ours[0]
            env = self.provider.get("env") or []
            for item in env if isinstance(env, list) else []:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    self.provider_env[item["name"]] = str(item.get("value", ""))
            if self.provider.get("apiVersion") in _kubelet.API_VERSIONS:
                self.api_version = self.provider["apiVersion"]

    def close(self) -> None:
        """Close the context built for the provider's env."""
        if self.own_ctx is not None:
            self.own_ctx.close()


def load_config(path: str) -> Any:
    """A ``CredentialProviderConfig``, JSON or YAML (``ValueError`` when it is neither); a
    directory is read as newer kubelets read one: its ``*.json``, ``*.yaml`` and ``*.yml`` files
    in lexical order, their providers merged."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.endswith((".json", ".yaml", ".yml")))
        if not names:
            raise ValueError("a directory with no *.json, *.yaml or *.yml file")
        docs = [load_config(os.path.join(path, name)) for name in names]
        merged = dict(docs[0]) if isinstance(docs[0], dict) else {}
        merged["providers"] = [
            p for d in docs if isinstance(d, dict) for p in d.get("providers") or []
        ]
        return merged
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


_CONFIG_FIELDS = {"apiVersion", "kind", "providers"}
_PROVIDER_FIELDS = {
    "name",
    "matchImages",
    "defaultCacheDuration",
    "apiVersion",
    "args",
    "env",
    "tokenAttributes",
}
_TOKEN_FIELDS = {
    "serviceAccountTokenAudience",
    "cacheType",
    "requireServiceAccount",
    "requiredServiceAccountAnnotationKeys",
    "optionalServiceAccountAnnotationKeys",
}


def _kubelet_refuses(doc: dict[str, Any]) -> list[str]:
    """What makes the kubelet refuse the whole file (it decodes strictly and validates every
    provider, so one broken entry stops it from starting)."""
    problems = [f"unknown field {k!r}" for k in sorted(set(doc) - _CONFIG_FIELDS)]
    names: list[Any] = []
    for index, provider in enumerate(doc.get("providers") or []):
        if not isinstance(provider, dict):
            problems.append(f"providers[{index}] is not a map")
            continue
        name = provider.get("name")
        where = f"provider {name!r}" if name else f"providers[{index}]"
        problems += [
            f"{where}: unknown field {k!r}" for k in sorted(set(provider) - _PROVIDER_FIELDS)
        ]
        attrs = provider.get("tokenAttributes")
        if isinstance(attrs, dict):
            problems += [
                f"{where}: unknown field tokenAttributes.{k}"
                for k in sorted(set(attrs) - _TOKEN_FIELDS)
            ]
        if not isinstance(name, str) or not name or "/" in name or " " in name:
            problems.append(f"{where}: name must be a file name")
        elif name in names:
            problems.append(f"{where}: name used twice")
        names.append(name)
        if not provider.get("matchImages"):
            problems.append(f"{where}: matchImages is required")
    return problems


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
    if f.config_error:
        return [Result(FAIL, "kubelet", f"{path}: cannot read it: {f.config_error}")]
    doc = f.doc
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
    for problem in _kubelet_refuses(doc):
        fix = "the kubelet decodes this file strictly and will not start with it"
        lines.append(Result(FAIL, "kubelet", f"{path}: {problem}", fix))
    if not f.matching:
        if f.registry is None:
            detail = f"no provider's matchImages covers {f.image}: the kubelet pulls it without one"
            return [*lines, Result(INFO, "kubelet", detail)]
        fix = f"add {pattern_for(f)!r} to matchImages (docs/kubernetes.md lists every ECR form)"
        return [*lines, Result(FAIL, "kubelet", f"no provider's matchImages covers {f.image}", fix)]
    provider = f.provider
    for other in f.matching:
        if other is provider:
            continue
        name = other.get("name")
        lines.append(
            Result(
                INFO if provider else FAIL,
                "kubelet",
                f"provider {name!r} also covers {f.image}: the kubelet runs "
                f"<image-credential-provider-bin-dir>/{name} for it too"
                if provider
                else f"provider {name!r} covers {f.image} but is not this program",
                "" if provider else _name_fix(other),
            )
        )
    if provider is None:
        return lines
    name = provider.get("name")
    how = f"{name} {' '.join(provider.get('args') or [])}".strip()
    lines.append(Result(OK, "kubelet", f"{path}: provider {name!r} covers {f.image} (runs {how})"))
    api = provider.get("apiVersion")
    if api in _kubelet.API_VERSIONS:
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
    if f.provider_env:
        names = ", ".join(sorted(f.provider_env))
        lines.append(
            Result(INFO, "kubelet", f"the provider's env sets {names} (every check below uses it)")
        )
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


def _node_identity(f: Findings) -> list[Result]:
    """The node's own identity. A provider that requires a service account never uses it
    (every pull carries a pod's token), so its failure is then only a warning."""
    lines = check_identity(f)
    attrs = ((getattr(f, "provider", None) or {}).get("tokenAttributes")) or {}
    if attrs.get("requireServiceAccount") is True:
        for line in lines:
            if line.status == FAIL:
                line.status = WARN
                line.fix = (
                    "not needed here: requireServiceAccount is true, so every pull uses a pod's "
                    "service-account role (check one with --service-account-token FILE)"
                )
    return lines


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
                FAIL,
                "kubelet",
                "tokenAttributes need the provider's apiVersion "
                f"{_kubelet.API_VERSIONS[0]} (the kubelet refuses the config otherwise)",
                f"use apiVersion: {_kubelet.API_VERSIONS[0]}",
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


def kubelet_bin_dir() -> tuple[str, str]:
    """The running kubelet's ``--image-credential-provider-bin-dir`` (and where it was found),
    from its command line in ``/proc``; ``("", "")`` when no kubelet names one."""
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return "", ""
    flag = "--image-credential-provider-bin-dir"
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read(1 << 20).decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if not argv or os.path.basename(argv[0]) != "kubelet":
            continue
        for i, arg in enumerate(argv):
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1], f"the running kubelet (pid {pid})"
            if arg == flag and i + 1 < len(argv):
                return argv[i + 1], f"the running kubelet (pid {pid})"
    return "", ""


def _provider_command(f: KubeletFindings) -> tuple[list[str], list[Result]]:
    """What to run as the provider: ``<bin-dir>/<name> <args>`` when the bin dir is known (given,
    or the running kubelet's), else this program; and what was found on the way."""
    import sys

    bin_dir, source = (f.bin_dir, "--kubelet-bin-dir") if f.bin_dir else kubelet_bin_dir()
    name = str((f.provider or {}).get("name") or _kubelet.NAME)
    args = [str(a) for a in (f.provider or {}).get("args") or []]
    if bin_dir:
        path = os.path.join(bin_dir, name)
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            why = "does not exist" if not os.path.exists(path) else "is not an executable file"
            fix = f"ln -sf $(command -v docker-credential-ecr-login) {path}"
            detail = f"{path} {why} (bin dir from {source}): the kubelet will not start"
            return [], [Result(FAIL, "binary", detail, fix)]
        found = Result(OK, "binary", f"{path} (bin dir from {source})")
        return [path, *args], [found]
    if getattr(sys, "frozen", False):
        # The static build runs from a temporary copy: start the real file again.
        program = f.env.get("STATICX_PROG_PATH") or sys.executable
        command = [program, _kubelet.COMMAND]
    else:
        command = [sys.executable, "-m", "docker_credential_ecr_py", _kubelet.COMMAND]
    note = Result(
        INFO,
        "binary",
        "bin dir unknown (no --kubelet-bin-dir, no running kubelet names one): "
        "running this program as the provider",
    )
    return command, [note]


# What a frozen build's own process sets for itself; a child started from it must not inherit it.
_LAUNCHER_VARIABLES = ("STATICX_", "_PYI_", "_MEIPASS")


def _child_environment(f: KubeletFindings) -> dict[str, str]:
    env = {k: v for k, v in f.env.items() if not k.startswith(_LAUNCHER_VARIABLES)}
    if "LD_LIBRARY_PATH_ORIG" in env:  # PyInstaller's bootloader saved the caller's value
        env["LD_LIBRARY_PATH"] = env.pop("LD_LIBRARY_PATH_ORIG")
    env["PYINSTALLER_RESET_ENVIRONMENT"] = "1"
    return {**env, **f.provider_env}


def _request(f: KubeletFindings) -> tuple[bytes, list[Result]]:
    if not f.token_file:
        return _kubelet.encode_request(f.api_version, f.image), []
    try:
        token = read_bounded(f.token_file, 64 * 1024, follow=True).decode().strip()
    except (OSError, UnicodeDecodeError) as err:
        why = getattr(err, "strerror", None) or err
        return b"", [Result(FAIL, "provider", f"{f.token_file}: cannot read the token: {why}")]
    f.ctx.log.add_secret(token)
    annotations = {_kubelet.ROLE_ANNOTATION: f.role_arn} if f.role_arn else None
    role = f.role_arn or f.provider_env.get(_kubelet.ROLE_ENV) or "none: node credentials"
    note = Result(
        INFO, "provider", f"with the service-account token in {f.token_file}, role {role}"
    )
    return _kubelet.encode_request(f.api_version, f.image, token, annotations), [note]


def check_kubelet_answer(f: KubeletFindings) -> list[Result]:
    """The provider's answer to the request the kubelet would send, from the file the kubelet
    would run (when its bin dir is known), started as the kubelet starts it: the entry's args,
    its ``env`` over this environment, the request on stdin, the 60 s bound. The password is
    never shown."""
    if f.registry is None:
        return []
    import json
    import subprocess

    command, lines = _provider_command(f)
    if not command:
        return lines
    request, more = _request(f)
    lines += more
    if not request:
        return lines
    if f.inherited:
        lines.append(
            Result(
                INFO,
                "provider",
                f"this environment passes {', '.join(f.inherited)} on; the kubelet's may not",
            )
        )
    env = _child_environment(f)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            command,
            input=request,
            capture_output=True,
            env=env,
            timeout=_kubelet.KUBELET_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        limit = _kubelet.KUBELET_TIMEOUT
        return [*lines, Result(FAIL, "provider", f"no answer within the kubelet's {limit} s")]
    except OSError as err:
        detail = f"cannot run {command[0]}: {err.strerror or err}"
        return [*lines, Result(FAIL, "provider", detail)]
    took = time.monotonic() - started
    said_lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    said = said_lines[-1].removeprefix(f"{_kubelet.NAME}: ") if said_lines else ""
    if proc.returncode != 0:
        code = said.split(": ", 2)[1] if said.count(": ") >= 2 else ""
        fix = _fix_for_aws(code, said, f.registry, env)
        detail = f"exit {proc.returncode} in {took:.2f} s, no credentials: {said}"
        return [*lines, Result(FAIL, "provider", detail, fix)]
    try:
        answer = json.loads(proc.stdout)
        auth = answer.get("auth") or {}
        users = ", ".join(f"{key} (username {value['username']})" for key, value in auth.items())
        detail = (
            f"answered in {took:.2f} s: cacheKeyType {answer['cacheKeyType']}, cacheDuration "
            f"{answer['cacheDuration']}, credentials for {users}"
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        detail = "the answer on stdout is not a CredentialProviderResponse"
        return [*lines, Result(FAIL, "provider", detail)]
    return [*lines, Result(OK, "provider", detail)]


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
    _only_for_ecr(_node_identity),
    _only_for_ecr(check_region),
    check_cache,
    check_log,
    check_kubelet_answer,  # type: ignore[list-item]
]


def main(argv: list[str], ctx: Any, stdout: Any, stderr: Any) -> int:
    """``doctor``, with ``--kubelet IMAGE`` running the checks above."""
    return doctor_main(argv, ctx, stdout, stderr, kubelet=(KubeletFindings, CHECKS))
