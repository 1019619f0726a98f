"""What the kubelet does with a credential provider's answer, modelled for the tests.

``decode_response`` is a strict model of ``k8s.io/kubelet/pkg/apis/credentialprovider/v1``'s
``CredentialProviderResponse`` as the kubelet decodes and checks it: case-sensitive field names,
unknown and duplicate fields rejected, every value of its Go type, ``cacheKeyType`` one of the
three the kubelet uses, ``cacheDuration`` a ``metav1.Duration`` (``time.ParseDuration``),
``auth`` values exactly ``{username, password}``. The released type has no
``serviceAccountTokenCacheType`` (since 1.34 the cache type of a service-account provider is
the config's ``tokenAttributes.cacheType``), so, decoded strictly, it is an unknown field.
``urls_match`` is the kubelet keyring's ``URLsMatch``. Written from the Go sources' documented
behaviour, independently of the code under test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from support import BIN, DIST, ONEDIR, STATIC
from support import HOST as _HOST

V1 = "credentialprovider.kubelet.k8s.io/v1"
V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1"
PROVIDER = "ecr-credential-provider"

#: The ``ecr-credential-provider`` entry of each build (console script, onedir link, static link).
PROVIDER_OF = {
    "console-script": BIN / PROVIDER,
    "onedir": ONEDIR.parent / PROVIDER,
    "static": DIST / PROVIDER,
}
BUILD_OF = {
    "console-script": BIN / "docker-credential-ecr-login",
    "onedir": ONEDIR,
    "static": STATIC,
}

#: What the kubelet passes as ``image``, and what people type by hand: (image, auth key, region
#: of the ECR call, account asked for; "" for ECR Public).
DIGEST = "sha256:" + "ab" * 32

# (image as the kubelet or a person passes it, auth key, region of the ECR call, account)
ECR_IMAGES = [
    (f"{_HOST}/app", _HOST, "eu-west-2", "123456789012"),  # the kubelet: the repository, no tag
    (f"{_HOST}/app:v1", _HOST, "eu-west-2", "123456789012"),
    (f"{_HOST}/app@{DIGEST}", _HOST, "eu-west-2", "123456789012"),
    (f"{_HOST}/app:v1@{DIGEST}", _HOST, "eu-west-2", "123456789012"),
    (f"{_HOST}/team/sub/app:1.2.3", _HOST, "eu-west-2", "123456789012"),
    (f"{_HOST}:443/app:v1", f"{_HOST}:443", "eu-west-2", "123456789012"),
    (f"https://{_HOST}/app:v1", _HOST, "eu-west-2", "123456789012"),
    (f"HTTPS://{_HOST}/app", _HOST, "eu-west-2", "123456789012"),
    (_HOST, _HOST, "eu-west-2", "123456789012"),  # a bare host, as typed by hand
    (f"{_HOST}:443", f"{_HOST}:443", "eu-west-2", "123456789012"),
    (
        "210987654321.dkr.ecr.us-east-1.amazonaws.com/x",
        "210987654321.dkr.ecr.us-east-1.amazonaws.com",
        "us-east-1",
        "210987654321",
    ),
    (
        "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app",
        "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
        "us-gov-west-1",
        "123456789012",
    ),
    (
        "123456789012.dkr-ecr.eu-west-1.on.aws/app",
        "123456789012.dkr-ecr.eu-west-1.on.aws",
        "eu-west-1",
        "123456789012",
    ),
    (
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app",
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
        "cn-north-1",
        "123456789012",
    ),
    (
        "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov/app",
        "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
        "us-iso-east-1",
        "123456789012",
    ),
    ("public.ecr.aws/docker/library/busybox", "public.ecr.aws", "us-east-1", ""),
    ("public.ecr.aws/docker/library/busybox:1.36", "public.ecr.aws", "us-east-1", ""),
    ("ecr-public.aws.com/docker/library/busybox", "ecr-public.aws.com", "us-east-1", ""),
]

NOT_ECR_IMAGES = [
    "docker.io/library/nginx",  # the kubelet's form of "nginx"
    "nginx",
    "nginx:1.27",
    "library/nginx@" + DIGEST,
    "registry.k8s.io/pause:3.10",
    "quay.io/prometheus/node-exporter@" + DIGEST,
    "localhost:5000/app",
    "[::1]:5000/app",
    "gitlab.example.com:5050/group/project/image:tag",
    f"{_HOST}.evil.example/app",  # a spoof: ECR-looking labels under another domain
    f"evil.example/{_HOST}/app",  # ECR host in the path
    "123456789012.dkr.ecr.eu-west-2.amazonaws.org/app",
    "12345678901.dkr.ecr.eu-west-2.amazonaws.com/app",  # 11 digits
    "api.ecr.eu-west-2.amazonaws.com/app",
]


_TOP = {
    "kind": str,
    "apiVersion": str,
    "cacheKeyType": str,
    "cacheDuration": str,
    "auth": dict,
}
_AUTH_FIELDS = {"username", "password"}
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]+)")


class Invalid(ValueError):
    """The kubelet would reject (or discard) this response."""


@dataclass
class Response:
    """A decoded response."""

    api_version: str
    cache_key_type: str
    cache_duration: float | None  # seconds; None: the config's defaultCacheDuration
    auth: dict[str, tuple[str, str]] = field(default_factory=dict)


def parse_duration(text: str) -> float:
    """Go's ``time.ParseDuration`` in seconds (``Invalid`` as Go would return an error)."""
    s = text
    sign = 1.0
    if s[:1] in "+-" and s:
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise Invalid(f"time: invalid duration {text!r}")
    total, pos = 0.0, 0
    while pos < len(s):
        match = _DURATION.match(s, pos)
        if not match or match.group(1) in ("", ".") or match.group(2) not in _UNITS:
            raise Invalid(f"time: invalid duration {text!r}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise Invalid(f"duplicate field(s) {sorted(dupes)}")
    return dict(pairs)


def decode_response(stdout: bytes, request_api_version: str) -> Response:
    """The response as the kubelet accepts it, or ``Invalid``."""
    try:
        doc = json.loads(stdout, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as err:
        raise Invalid(f"not JSON: {err}") from None
    if not isinstance(doc, dict):
        raise Invalid("not a JSON object")
    unknown = set(doc) - set(_TOP)
    if unknown:
        raise Invalid(f"unknown field(s) {sorted(unknown)}")
    for name, kind in _TOP.items():
        if name in doc and not isinstance(doc[name], kind):
            raise Invalid(f"{name}: not a {kind.__name__}")
    for required in ("kind", "apiVersion", "cacheKeyType"):
        if required not in doc:
            raise Invalid(f"{required} is missing")
    if doc["kind"] != "CredentialProviderResponse":
        raise Invalid(f"kind {doc['kind']!r}")
    if doc["apiVersion"] != request_api_version:
        raise Invalid(f"apiVersion {doc['apiVersion']!r} is not the request's")
    if doc["cacheKeyType"] not in ("Image", "Registry", "Global"):
        raise Invalid(f"cacheKeyType {doc['cacheKeyType']!r}")
    duration = parse_duration(doc["cacheDuration"]) if "cacheDuration" in doc else None
    auth: dict[str, tuple[str, str]] = {}
    for key, value in (doc.get("auth") or {}).items():
        if not isinstance(value, dict) or set(value) != _AUTH_FIELDS:
            raise Invalid(f"auth[{key!r}]: not exactly {sorted(_AUTH_FIELDS)}")
        if not all(isinstance(value[f], str) for f in _AUTH_FIELDS):
            raise Invalid(f"auth[{key!r}]: not strings")
        auth[key] = (value["username"], value["password"])
    return Response(doc["apiVersion"], doc["cacheKeyType"], duration, auth)


def _split(url: str) -> tuple[list[str], str, str]:
    """Go's ``url.Parse("https://" + s)``: host labels, port, path (schemeless input)."""
    rest = url
    host_port, slash, path = rest.partition("/")
    host, colon, port = host_port.rpartition(":")
    if not colon or not port.isdigit():
        host, port = host_port, ""
    return host.split("."), port, slash + path


def urls_match(glob: str, target: str) -> bool:
    """The kubelet keyring's ``URLsMatch`` for a schemeless glob and image."""
    glob_parts, glob_port, glob_path = _split(glob)
    parts, port, path = _split(target)
    if glob_port != port or len(glob_parts) != len(parts) or not path.startswith(glob_path):
        return False
    return all(fnmatchcase(t, g) for g, t in zip(glob_parts, parts, strict=True))


def request(image: str, api_version: str = V1, **extra: Any) -> bytes:
    """A ``CredentialProviderRequest`` as the kubelet encodes it (JSON and a newline)."""
    body = {"kind": "CredentialProviderRequest", "apiVersion": api_version, "image": image}
    body.update(extra)
    return (json.dumps(body, separators=(",", ":")) + "\n").encode()


def provider_path(build: str) -> Path:
    """The ``ecr-credential-provider`` entry of a build."""
    return PROVIDER_OF[build]
