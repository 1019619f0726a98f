"""The kubelet's image credential provider protocol, served from the Docker helper's engine.

The kubelet runs ``ecr-credential-provider`` (a link to this program) or
``docker-credential-ecr-login kubelet-credential-provider`` with one
``CredentialProviderRequest`` on stdin (``credentialprovider.kubelet.k8s.io/v1`` or
``v1beta1``) and reads one ``CredentialProviderResponse`` from stdout. Tokens come from
``EcrHelper.entry``: the same cache, fetch locks, time bound and identity fingerprint as
``get``, so a kubelet restart and a ``docker pull`` on the node share entries.

Answers, field for field as the Go types in ``k8s.io/kubelet/pkg/apis/credentialprovider/v1``:

* an ECR or ECR Public image: ``cacheKeyType: Registry``, ``cacheDuration`` = how long this
  helper would itself keep serving the token (half its lifetime, never past expiry), ``auth``
  keyed by the image's registry as the kubelet matches it (host, and port when it has one);
* an image on any other registry: no ``auth`` (the kubelet pulls anonymously), a short
  ``cacheDuration``, exit 0; nothing is fetched;
* a request with a ``serviceAccountToken`` and a role (annotation
  ``eks.amazonaws.com/ecr-role-arn``, else ``AWS_ECR_ROLE_ARN``): the token is exchanged for
  that role's credentials (``AssumeRoleWithWebIdentity``), cached per role and service account.
  The answer depends on the service account alone, which the kubelet is told by the provider
  config (``tokenAttributes.cacheType: ServiceAccount``), not by the response: the released
  v1 response type has no such field, and the kubelet decodes responses strictly (an unknown
  field loses the answer);
* a failure: one line on stderr (the kubelet puts it in the pod's event), exit 1, nothing on
  stdout.
"""

from docker_credential_ecr_py import _lean
from docker_credential_ecr_py._protocol import (
    KUBELET_COMMAND,
    KUBELET_NAME,
    go_string,
    write_answer,
)
from docker_credential_ecr_py._registry import strip_scheme

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import BinaryIO

    from docker_credential_ecr_py._cache import Entry
    from docker_credential_ecr_py._helper import EcrHelper

NAME = KUBELET_NAME
COMMAND = KUBELET_COMMAND
GROUP = "credentialprovider.kubelet.k8s.io"
API_VERSIONS = (f"{GROUP}/v1", f"{GROUP}/v1beta1")
REQUEST_KIND = "CredentialProviderRequest"
RESPONSE_KIND = "CredentialProviderResponse"
ROLE_ANNOTATION = "eks.amazonaws.com/ecr-role-arn"
ROLE_ENV = "AWS_ECR_ROLE_ARN"
#: How long the kubelet keeps "no credentials" for a registry that is not ECR.
NOT_ECR_CACHE_SECONDS = 60
#: How long it keeps a still-valid token served after a failed refresh (then it asks again).
FALLBACK_CACHE_SECONDS = 60
#: The kubelet's bound on one run of a provider (seconds).
KUBELET_TIMEOUT = 60
#: The most of a request read (a request with a service-account token is a few KiB).
MAX_REQUEST_BYTES = 1 << 20
USAGE = (
    f"Usage: {NAME}  (or: docker-credential-ecr-login {COMMAND})\n"
    "Reads one CredentialProviderRequest (credentialprovider.kubelet.k8s.io/v1 or v1beta1) on\n"
    "stdin and writes the CredentialProviderResponse on stdout, as the kubelet's image credential\n"
    "provider. Exit status: 0 answered (also for an image that is not on ECR: no credentials),\n"
    "1 the request could not be answered (the reason is one line on stderr), 2 bad arguments\n"
    "(get-credentials and -v=N, which configs for AWS's plugin pass, are accepted and ignored).\n"
    "Setup: docs/kubernetes.md. Check a node: docker-credential-ecr-login doctor --kubelet IMAGE"
)


class RequestError(Exception):
    """A request this provider cannot read; ``str(err)`` is the line for stderr."""


class Request:
    """One ``CredentialProviderRequest``."""

    __slots__ = ("annotations", "api_version", "image", "token")

    def __init__(
        self,
        api_version: str,
        image: str,
        token: str = "",
        annotations: "dict[str, str] | None" = None,
    ) -> None:
        self.api_version = api_version
        self.image = image
        self.token = token
        self.annotations = annotations or {}


def parse_request(data: bytes) -> Request:
    """A request from its JSON (fields the kubelet may add later are ignored)."""
    try:
        value = _lean.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise RequestError(f"the request on stdin is not JSON: {err}") from None
    if not isinstance(value, dict):
        raise RequestError("the request on stdin is not a JSON object")
    api_version = value.get("apiVersion")
    if api_version not in API_VERSIONS:
        raise RequestError(
            f"unsupported apiVersion {api_version!r} (supported: {', '.join(API_VERSIONS)})"
        )
    kind = value.get("kind")
    if kind != REQUEST_KIND:
        raise RequestError(f"unsupported kind {kind!r} (expected {REQUEST_KIND})")
    image = value.get("image")
    if not isinstance(image, str) or not image.strip():
        raise RequestError("the request has no image")
    token = value.get("serviceAccountToken") or ""
    if not isinstance(token, str):
        raise RequestError("serviceAccountToken is not a string")
    annotations = value.get("serviceAccountAnnotations") or {}
    if not isinstance(annotations, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
    ):
        raise RequestError("serviceAccountAnnotations is not a map of strings")
    return Request(api_version, image.strip(), token, annotations)


def read_request(stream: "BinaryIO") -> Request:
    """The request on stdin, at most ``MAX_REQUEST_BYTES`` of it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(MAX_REQUEST_BYTES + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise RequestError(f"the request on stdin is larger than {MAX_REQUEST_BYTES >> 20} MiB")
    data = b"".join(chunks)
    if not data.strip():
        raise RequestError("no request on stdin (expected a CredentialProviderRequest)")
    return parse_request(data)


def image_registry(image: str) -> str:
    """The registry part of an image reference as the kubelet passes it, ``host[:port]``
    (``""`` for Docker Hub, when the first component is not a host).

    Accepts a leading ``https://`` or ``http://``, a tag, a digest, or both, and a bare
    registry host (with or without a port), as people type it when trying the plugin by hand.
    """
    first, slash, _rest = strip_scheme(image.strip()).partition("/")
    if not slash:
        first = first.partition("@")[0]  # a bare name with a digest
        head, colon, tail = first.rpartition(":")
        if colon and not tail.isdigit():
            first = head  # name:tag, not host:port
    if "." in first or ":" in first or first == "localhost":
        return first
    return ""


def go_duration(seconds: float) -> str:
    """Whole seconds as Go's ``time.Duration.String`` writes them: ``6h0m0s``, ``59m59s``,
    ``1s``, ``0s`` (what ``metav1.Duration`` carries in JSON)."""
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def cache_seconds(entry: "Entry", now: float) -> int:
    """How long the kubelet may keep a token: until this helper would refresh it; a token
    served after a failed refresh (no longer fresh) for a minute at most, never closer than
    five minutes to its expiry."""
    from docker_credential_ecr_py._cache import FALLBACK_MIN_REMAINING

    if entry.fresh(now):
        return max(int(entry.fresh_until - now), 0)
    left = entry.expires_at - now - FALLBACK_MIN_REMAINING
    return max(min(FALLBACK_CACHE_SECONDS, int(left)), 0)


def encode_response(
    api_version: str, duration: str, auth: "Mapping[str, tuple[str, str]] | None"
) -> bytes:
    """The response as Go's ``encoding/json`` writes the v1 struct: fields in declaration
    order, ``omitempty`` ones left out when empty, map keys sorted, a final newline."""
    fields = [
        f'"kind":{go_string(RESPONSE_KIND)}',
        f'"apiVersion":{go_string(api_version)}',
        '"cacheKeyType":"Registry"',
        f'"cacheDuration":{go_string(duration)}',
    ]
    if auth:
        items = ",".join(
            f'{go_string(key)}:{{"username":{go_string(user)},"password":{go_string(password)}}}'
            for key, (user, password) in sorted(auth.items())
        )
        fields.append(f'"auth":{{{items}}}')
    return ("{" + ",".join(fields) + "}\n").encode("utf-8", "surrogateescape")


def encode_request(
    api_version: str,
    image: str,
    token: str = "",
    annotations: "Mapping[str, str] | None" = None,
) -> bytes:
    """A request as the kubelet encodes one (for ``doctor --kubelet``): ``omitempty`` fields
    left out when empty."""
    fields = [
        f'"kind":"{REQUEST_KIND}"',
        f'"apiVersion":{go_string(api_version)}',
        f'"image":{go_string(image)}',
    ]
    if token:
        fields.append(f'"serviceAccountToken":{go_string(token)}')
    if annotations:
        items = ",".join(f"{go_string(k)}:{go_string(v)}" for k, v in sorted(annotations.items()))
        fields.append(f'"serviceAccountAnnotations":{{{items}}}')
    return ("{" + ",".join(fields) + "}\n").encode("utf-8", "surrogateescape")


def role_for(request: Request, env: "Mapping[str, str]") -> str:
    """The role to assume for a request's service account: its annotation, else the
    provider config's ``AWS_ECR_ROLE_ARN``; ``""`` for the node's own credentials."""
    return (request.annotations.get(ROLE_ANNOTATION) or env.get(ROLE_ENV) or "").strip()


def answer(helper: "EcrHelper", request: Request) -> bytes:
    """The response to one request (``HelperError`` when there are no credentials to give)."""
    ctx = helper.ctx
    registry_key = image_registry(request.image)
    registry = helper.registry(registry_key)[0] if registry_key else None
    if registry is None:
        helper.log.info(
            "kubelet: %s is not on an Amazon ECR registry; no credentials", request.image
        )
        return encode_response(request.api_version, go_duration(NOT_ECR_CACHE_SECONDS), None)
    identity = None
    if request.token:
        helper.log.add_secret(request.token)
        role = role_for(request, ctx.settings.env)
        if role:
            from docker_credential_ecr_py._identity import service_account

            identity = service_account(role, request.token, ctx.settings.env)
    entry = helper.entry(registry_key, identity)
    duration = go_duration(cache_seconds(entry, ctx.clock()))
    auth = {registry_key: (entry.username, entry.password)}
    return encode_response(request.api_version, duration, auth)


def accepted_argument(arg: str) -> bool:
    """Arguments that provider configs written for AWS's plugin pass (``get-credentials``,
    klog's ``-v=N`` / ``--v=N``): accepted and ignored, so replacing that binary keeps working."""
    if arg == "get-credentials":
        return True
    name, eq, level = arg.partition("=")
    return bool(eq) and name in ("-v", "--v") and level.isdigit()


def run(
    args: "list[str]",
    stdin: "BinaryIO",
    stdout: "BinaryIO",
    stderr: "BinaryIO",
    environ: "Mapping[str, str]",
    start: float,
) -> int:
    """The provider on the given streams; returns the exit status."""
    from docker_credential_ecr_py._log import stderr_line

    if args in (["-h"], ["--help"]):
        return _write(stdout, (USAGE + "\n").encode(), stderr)
    unexpected = [a for a in args if not accepted_argument(a)]
    if unexpected:
        stderr_line(
            f"{NAME}: unexpected argument {unexpected[0]!r} (the request comes on stdin; --help)",
            stream=stderr,
        )
        return 2
    from docker_credential_ecr_py._context import Context
    from docker_credential_ecr_py._errors import HelperError
    from docker_credential_ecr_py._helper import EcrHelper
    from docker_credential_ecr_py._settings import Settings

    ctx = Context(Settings(environ), start=start, stderr=stderr)
    try:
        for problem in ctx.settings.invalid:
            ctx.log.warning("config: %s", problem)
        try:
            request = read_request(stdin)
            data = answer(EcrHelper(ctx), request)
        except RequestError as err:
            ctx.log.error("kubelet: %s", err)
            stderr_line(f"{NAME}: {err}", ctx.log.secrets, stderr)
            return 1
        except HelperError as err:
            line = err.stderr or err.cause or "no credentials"
            ctx.log.error("kubelet: %s", line)
            stderr_line(f"{NAME}: {line}", ctx.log.secrets, stderr)
            return 1
        except Exception as err:
            import traceback

            ctx.log.error("internal error: %s", "".join(traceback.format_exception(err)))
            stderr_line(
                f"{NAME}: internal error: {type(err).__name__}: {err}", ctx.log.secrets, stderr
            )
            return 1
        return _write(stdout, data, stderr)
    finally:
        ctx.close()


def _write(stdout: "BinaryIO", data: bytes, stderr: "BinaryIO") -> int:
    return 0 if write_answer(stdout, data, stderr, NAME) else 1


def image_matches(pattern: str, image: str) -> bool:
    """Whether a ``matchImages`` pattern covers an image, as the kubelet decides it: the same
    number of host labels, each matched by its glob (``*`` within one label), equal ports, and
    the pattern's path a prefix of the image's."""
    from fnmatch import fnmatchcase

    def split(text: str) -> "tuple[list[str], str, str]":
        hostport, slash, path = strip_scheme(text).partition("/")
        host, colon, port = hostport.rpartition(":")
        if not colon or not port.isdigit():
            host, port = hostport, ""
        return host.split("."), port, slash + path

    glob_parts, glob_port, glob_path = split(pattern)
    parts, port, path = split(image)
    if glob_port != port or len(glob_parts) != len(parts) or not path.startswith(glob_path):
        return False
    return all(fnmatchcase(part, glob) for glob, part in zip(glob_parts, parts, strict=True))
