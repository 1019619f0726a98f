"""Who we are to AWS, worked out from the environment and config files without any network call.

The cache key needs the caller's identity before any credential is resolved, so that a cache hit
costs no STS, SSO, IMDS or container-endpoint call. Two shapes:

* **Static keys** (``AWS_ACCESS_KEY_ID`` in the environment, or ``aws_access_key_id`` in the
  selected profile with nothing that takes precedence over it): the Go helper's own key part,
  ``base64(sha256(AccessKeyId))``, so both helpers share cache entries.
* **Everything else** (assume-role profiles, IRSA web identity, SSO, ``credential_process``,
  container and instance credentials): a fingerprint ``idfp:<base64 sha256>`` over what selects
  the identity. Exactly these inputs go in, as ``name=value`` lines:

  - the provider kind this module predicts boto3 will use;
  - the profile name and whether it was chosen explicitly (per-registry profiles);
  - the raw lines of the profile's section in the config file and in the credentials file, and of
    every ``source_profile`` and ``sso-session`` section it refers to (so a changed ``role_arn``
    changes the key);
  - the values of ``AWS_ROLE_ARN``, ``AWS_WEB_IDENTITY_TOKEN_FILE``, ``AWS_ROLE_SESSION_NAME``,
    ``AWS_CONFIG_FILE``, ``AWS_SHARED_CREDENTIALS_FILE``,
    ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``, ``AWS_CONTAINER_CREDENTIALS_FULL_URI``,
    ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``, ``AWS_CONTAINER_AUTHORIZATION_TOKEN``,
    ``AWS_EC2_METADATA_DISABLED``, ``AWS_EC2_METADATA_SERVICE_ENDPOINT``, ``AWS_ENDPOINT_URL_STS``,
    ``AWS_ENDPOINT_URL``, ``AWS_STS_REGIONAL_ENDPOINTS``, ``AWS_CREDENTIAL_FILE`` and
    ``BOTO_CONFIG`` (section lines and the container token can hold secrets: they only ever enter
    the hash, which is all the key keeps);
  - for container and instance credentials: a hash of the files botocore's legacy providers read
    (``AWS_CREDENTIAL_FILE``, ``BOTO_CONFIG``, ``~/.boto``, ``/etc/boto.cfg``) when they exist;
  - for web identity: the token's unverified ``iss`` and ``sub`` claims (the cluster and the
    service account; the token itself rotates, these do not);
  - for container credentials with ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (EKS Pod
    Identity, where every pod has the same agent URI): the same two claims of that token;
  - for instance credentials (nothing else configured): the host name, because the instance role
    is a property of the machine.

Section headers are read as botocore reads them (``[profile  "ci"]`` is profile ``ci``), and the
profile is chosen as botocore chooses it (``AWS_DEFAULT_PROFILE`` before ``AWS_PROFILE``).

Guarantee within one cache directory: two calls share a cache entry only when every input above is
equal, i.e. when boto3 would resolve the same role, service account, profile or instance. Limits
when a cache directory is shared between hosts: container credentials are keyed by their endpoint
URI (the same on every ECS task or EKS pod), so pods that share a cache directory (a shared volume)
and use different task roles at the same URI would share entries; keep cache directories per pod,
which is the default (``~/.ecr`` in the container). A role whose *permissions* change keeps its key:
the cached token stays valid until it expires, as it would in AWS.
"""

import os

from docker_credential_ecr_py import _lean
from docker_credential_ecr_py._settings import configured_region, expand_user

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

STATIC = "static"
FINGERPRINT_PREFIX = "idfp:"

_FP_ENV = (
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_CREDENTIAL_FILE",  # botocore's OriginalEC2Provider
    "BOTO_CONFIG",  # botocore's BotoProvider
    # Hashed with the rest, never stored: tells apart tokens at one credentials-proxy URI.
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)
# Files botocore reads for credentials when nothing above selects them (legacy providers).
_LEGACY_CREDENTIAL_FILES = ("~/.boto", "/etc/boto.cfg")
_SSO_KEYS = ("sso_session", "sso_start_url", "sso_account_id", "sso_role_name")
_MAX_CONFIG_BYTES = 4 * 1024 * 1024


class Identity:
    """The cache-key part for one caller, and what boto3 needs to reproduce it."""

    __slots__ = ("_region", "access_key_id", "key_part", "kind", "profile", "web_identity")

    def __init__(
        self,
        kind: str,
        key_part: str,
        profile: "str | None",
        region: "str | Callable[[], str]",
        access_key_id: str = "",
        web_identity: "tuple[str, str] | None" = None,
    ) -> None:
        self.kind = kind
        self.key_part = key_part
        self.profile = profile
        self._region = region
        self.access_key_id = access_key_id
        # (role ARN, web identity token): credentials come from AssumeRoleWithWebIdentity with
        # this token, not from the default chain (the kubelet's service-account mode).
        self.web_identity = web_identity

    @property
    def region(self) -> str:
        """The configured region (env, then profile), looked up only when asked: ``get`` takes
        the region from the host and never needs it."""
        if not isinstance(self._region, str):
            self._region = self._region()
        return self._region

    @property
    def legacy_key_part(self) -> str:
        """The Go helper's pre-0.12 key part (static keys only), or ``""``."""
        if self.kind != STATIC:
            return ""
        return _lean.legacy_checksum(self.access_key_id)

    def __repr__(self) -> str:
        return f"Identity(kind={self.kind!r}, profile={self.profile!r})"


def read_ini_sections(path: str) -> "dict[str, list[str]]":
    """Sections of an AWS INI file as raw stripped lines (no configparser: it is slow to import)."""
    try:
        # A regular file only: a FIFO or /dev/zero named by AWS_CONFIG_FILE never stalls a get.
        data = _lean.read_bounded(path, _MAX_CONFIG_BYTES, follow=True)[:_MAX_CONFIG_BYTES]
    except OSError:
        return {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    key_indent = -1  # indentation of the last key line; deeper lines continue its value
    for raw in data.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        indent = len(raw) - len(raw.lstrip(" \t"))
        if current is not None and key_indent >= 0 and indent > key_indent:
            current.append("  " + line)  # a continuation, as configparser reads it
            continue
        if line.startswith("[") and "]" in line:
            # configparser takes the header up to the last "]" and ignores what follows
            current = sections.setdefault(_canonical(line[1 : line.rindex("]")]), [])
            key_indent = -1
            continue
        if current is not None:
            current.append(line)
            key_indent = indent
    return sections


def section_values(lines: "list[str]") -> "dict[str, str]":
    """Top-level ``key = value`` pairs of a section (nested, indented lines are skipped)."""
    values: dict[str, str] = {}
    for line in lines:
        if line.startswith("  "):
            continue
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def _canonical(header: str) -> str:
    """A section name as botocore reads it: ``shlex`` words, so ``[profile  "r"]`` is
    ``profile r`` and ``[profile default]`` is ``default``. (Credentials-file sections are
    profile names and never start with a two-word ``profile`` header.)"""
    header = header.strip()
    words = header.split()
    if len(words) >= 2 and words[0] in ("profile", "sso-session", "services"):
        if any(c in header for c in "\"'\\"):
            import shlex

            try:
                words = shlex.split(header)
            except ValueError:
                return header
        if len(words) == 2:
            if words == ["profile", "default"]:
                return "default"
            return f"{words[0]} {words[1]}"
    return header


def _config_section_name(profile: str) -> str:
    return "default" if profile == "default" else "profile " + profile


def _web_identity_claims(token_file: str) -> str:
    """``iss`` and ``sub`` of a JWT file, unverified; ``""`` when unreadable."""
    try:
        token = _lean.read_bounded(token_file, 64 * 1024, follow=True).strip()
    except OSError:
        return ""
    claims = _token_claims(token)
    return f"iss={claims[0]}\nsub={claims[1]}" if claims else ""


def _token_claims(token: bytes) -> "tuple[str, str] | None":
    """``iss`` and ``sub`` of a JWT, unverified (the cache key only; ``""`` for one that is
    missing); ``None`` when it is not a JWT."""
    try:
        payload = token.split(b".")[1]
        payload = payload.replace(b"-", b"+").replace(b"_", b"/")
        from binascii import a2b_base64

        claims = _lean.loads(a2b_base64(payload + b"=" * (-len(payload) % 4)).decode())
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    return str(claims.get("iss", "")), str(claims.get("sub", ""))


# Files botocore itself reads when a credential is resolved, named by the environment.
_PATH_VARIABLES = (
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)


_DEV_NULL = os.makedev(1, 3)  # /dev/null: an empty file to botocore, a common way to say "none"


def unusable_file(env: "Mapping[str, str]", home: str) -> str:
    """Why botocore must not be let near a file the environment names (a FIFO would block it,
    ``/dev/zero`` would fill memory), or ``""``. Absent files are botocore's business."""
    for name in _PATH_VARIABLES:
        value = env.get(name, "")
        if not value:
            continue
        path = _expand(value, home)
        try:
            st = os.stat(path)
        except OSError:
            continue
        if not _lean.is_regular(st.st_mode) and st.st_rdev != _DEV_NULL:
            return f"{name}={value} is not a regular file"
    return ""


def files(env: "Mapping[str, str]", home: str) -> "tuple[str, str]":
    """The config and credentials file paths boto3 reads."""
    config = env.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config")
    creds = env.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials")
    return _expand(config, home), _expand(creds, home)


def _expand(path: str, home: str) -> str:
    """``~`` and ``~/`` from the given home; ``~user`` from the password database, as botocore
    (``os.path.expanduser``) would."""
    if path.startswith("~") and not (path == "~" or path.startswith("~/")):
        return os.path.expanduser(path)
    return expand_user(path, home)


def resolve(env: "Mapping[str, str]", home: str, profile: "str | None" = None) -> "Identity":
    """Predict the identity boto3's default credential chain will resolve, without network."""
    explicit = profile is not None
    env_region = configured_region(env)
    access_key = env.get("AWS_ACCESS_KEY_ID", "")
    # botocore ignores environment keys when a profile is passed explicitly.
    if not explicit and access_key and env.get("AWS_SECRET_ACCESS_KEY"):
        name = _profile_name(env)
        region: str | Callable[[], str] = env_region or (lambda: _profile_region(env, home, name))
        return Identity(STATIC, _lean.checksum(access_key), None, region, access_key)

    name = profile if profile is not None else _profile_name(env)
    config_path, creds_path = files(env, home)
    config = read_ini_sections(config_path)
    creds = read_ini_sections(creds_path)
    conf_lines = config.get(_config_section_name(name), [])
    cred_lines = creds.get(name, [])
    conf_values = section_values(conf_lines)
    cred_values = section_values(cred_lines)
    merged = {**conf_values, **cred_values}
    region = env_region or conf_values.get("region", "")  # the sections are read anyway

    kind = _predict_kind(env, merged, cred_values, conf_values)
    if kind == STATIC:
        static = cred_values if cred_values.get("aws_access_key_id") else conf_values
        key = static["aws_access_key_id"]
        return Identity(STATIC, _lean.checksum(key), profile, region, key)

    parts = [f"kind={kind}", f"profile={name}", f"explicit={explicit}"]
    parts += _section_chain(name, config, creds)
    parts += [f"{var}={env[var]}" for var in _FP_ENV if env.get(var)]
    token_file = env.get("AWS_WEB_IDENTITY_TOKEN_FILE") or merged.get("web_identity_token_file")
    if kind == "web-identity" and token_file:
        parts.append(_web_identity_claims(_expand(token_file, home)))
    pod_token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if kind == "container" and pod_token:
        # EKS Pod Identity: one agent URI on every pod; the projected token tells them apart.
        parts.append("container " + _web_identity_claims(_expand(pod_token, home)))
    if kind in ("container", "instance"):
        for path in (
            env.get("AWS_CREDENTIAL_FILE"),
            env.get("BOTO_CONFIG"),
            *_LEGACY_CREDENTIAL_FILES,
        ):
            if path:
                parts.append(f"file {path}=" + _file_digest(_expand(path, home)))
    if kind == "instance":
        parts.append("host=" + os.uname().nodename)
    digest = _lean.sha256("\n".join(parts).encode("utf-8", "surrogateescape"))
    key_part = FINGERPRINT_PREFIX + _lean.b64(digest).rstrip("=")
    return Identity(kind, key_part, profile, region)


SERVICE_ACCOUNT = "service-account"
# What else selects the STS endpoint and so the identity behind a service-account token.
_SA_ENV = ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "AWS_STS_REGIONAL_ENDPOINTS")


def service_account(role_arn: str, token: str, env: "Mapping[str, str]") -> "Identity":
    """The identity of a pod's service account: ``role_arn`` assumed with its projected token.

    Keyed by the role and the token's ``iss`` and ``sub`` (the cluster and the service account,
    which outlive any one token; the token itself rotates and never enters the key), so each
    service account has entries of its own and a rotated token still hits the cache. A token
    that is not a JWT, or lacks either claim, is keyed by its hash: it only ever hits its own
    entry. The claims are read unverified (STS verifies the token on a miss): the key trusts its
    caller, the kubelet, which alone runs the provider and can write its cache.
    """
    raw = token.encode("utf-8", "surrogateescape")
    claims = _token_claims(raw.strip())
    if claims and all(claims):
        key = f"iss={claims[0]}\nsub={claims[1]}"
    else:  # without both claims nothing tells two service accounts apart: key by the token
        key = "token-sha256=" + _lean.sha256(raw).hex()
    parts = [f"kind={SERVICE_ACCOUNT}", f"role={role_arn}", key]
    parts += [f"{var}={env[var]}" for var in _SA_ENV if env.get(var)]
    digest = _lean.sha256("\n".join(parts).encode("utf-8", "surrogateescape"))
    key_part = FINGERPRINT_PREFIX + _lean.b64(digest).rstrip("=")
    return Identity(
        SERVICE_ACCOUNT, key_part, None, configured_region(env), web_identity=(role_arn, token)
    )


def _file_digest(path: str) -> str:
    """A hash of a small file's content, ``""`` when absent or unreadable."""
    try:
        return _lean.sha256(_lean.read_bounded(path, 1 << 20, follow=True)).hex()
    except OSError:
        return ""


def _profile_name(env: "Mapping[str, str]") -> str:
    # botocore's order (configprovider): AWS_DEFAULT_PROFILE wins over AWS_PROFILE.
    return env.get("AWS_DEFAULT_PROFILE") or env.get("AWS_PROFILE") or "default"


def _profile_region(env: "Mapping[str, str]", home: str, name: str) -> str:
    config_path, _ = files(env, home)
    section = read_ini_sections(config_path).get(_config_section_name(name), [])
    return section_values(section).get("region", "")


def _predict_kind(
    env: "Mapping[str, str]",
    merged: "dict[str, str]",
    cred_values: "dict[str, str]",
    conf_values: "dict[str, str]",
) -> str:
    """botocore's provider order: assume-role, web identity, SSO, credentials file, process,
    config file, container, instance metadata."""
    if merged.get("role_arn") and (merged.get("source_profile") or merged.get("credential_source")):
        return "assume-role"
    role = merged.get("role_arn") or env.get("AWS_ROLE_ARN")
    token = merged.get("web_identity_token_file") or env.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    if role and token:
        return "web-identity"
    if any(merged.get(key) for key in _SSO_KEYS):
        return "sso"
    if cred_values.get("aws_access_key_id") and cred_values.get("aws_secret_access_key"):
        return STATIC
    if merged.get("credential_process"):
        return "process"
    if conf_values.get("aws_access_key_id") and conf_values.get("aws_secret_access_key"):
        return STATIC
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env.get(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI"
    ):
        return "container"
    if merged.get("login_session"):
        return "login"
    return "instance"


def _section_chain(
    name: str, config: "dict[str, list[str]]", creds: "dict[str, list[str]]"
) -> "list[str]":
    """Raw lines of the profile's sections and of every section it refers to."""
    out: list[str] = []
    seen: set[str] = set()
    todo = [name]
    while todo and len(seen) < 16:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        conf = config.get(_config_section_name(current), [])
        cred = creds.get(current, [])
        out.append(f"[config {current}]")
        out.extend(conf)
        out.append(f"[credentials {current}]")
        out.extend(cred)
        values = section_values(conf)
        values.update(section_values(cred))
        if values.get("source_profile"):
            todo.append(values["source_profile"])
        session = values.get("sso_session")
        if session:
            out.append(f"[sso-session {session}]")
            out.extend(config.get("sso-session " + session, []))
    return out
