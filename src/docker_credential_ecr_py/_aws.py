"""ECR and ECR Public ``GetAuthorizationToken``: the only module that imports boto3's botocore.

Imported only on a cache miss. It uses ``botocore.session`` directly (the boto3 distribution's
core, with the same default credential chain: environment, profiles, assume-role, SSO, IRSA web
identity, ``credential_process``, container and instance credentials) because importing ``boto3``
on top costs another ~130 ms and adds nothing a single API call needs.

Every call runs under a deadline: client timeouts, the credential providers' STS/IMDS clients and
our own retry loop are all fitted into the time left. Throttling, 5xx answers, dropped connections
and connect / TLS-handshake timeouts are retried while time remains; botocore's own retries are
off so the deadline stays ours. Each attempt has a client of its own (botocore fixes the timeouts
per client; a second ``create_client`` from the same session costs ~2-4 ms), whose connect
timeout grows from attempt to attempt: a lost SYN is retransmitted by the kernel after 1 s, then
3 s, so a fixed 1 s connect timeout could never outlive one.

The answer is read by us, not by botocore (which would read any size into memory and parse it
while holding the GIL, so no deadline could answer meanwhile): at most ``MAX_RESPONSE_BYTES``.
A token is returned only if it is for what was asked: the account asked for (ECR) and not
already expired.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from docker_credential_ecr_py import __version__
from docker_credential_ecr_py._errors import AwsError
from docker_credential_ecr_py._registry import ECR, ECR_PUBLIC, Registry, host_of
from docker_credential_ecr_py._token import Token

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from botocore.awsrequest import AWSPreparedRequest, AWSResponse
    from botocore.client import BaseClient
    from botocore.config import Config
    from botocore.session import Session

_THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
_TRANSIENT = frozenset({"RequestTimeout", "RequestTimeoutException", "InternalError"})
_CONNECTION_ERRORS = frozenset({"EndpointConnectionError", "ConnectionClosed"})
USER_AGENT = f"docker-credential-ecr-py/{__version__}"
#: The most of an answer read (a real ``GetAuthorizationToken`` answer is a few KiB).
MAX_RESPONSE_BYTES = 1 << 20
_READ_CHUNK = 64 << 10
#: Connect (and TLS handshake) timeout of attempt 1, 2, 3...; the last attempt gets what is left.
_CONNECT_TIMEOUTS = (1.0, 2.0, 4.0)
_MAX_ATTEMPTS = 5
#: No attempt is started with less time than this left.
_MIN_ATTEMPT = 0.3


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def make_session(profile: str | None, region: str, deadline: float) -> Session:
    """A botocore session whose every client (ours and the credential providers') fits the
    deadline."""
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    try:
        session = botocore.session.Session(profile=profile)
        session.set_config_variable("region", region)
    except ProfileNotFound as err:
        raise AwsError("ProfileNotFound", str(err)) from None
    left = max(_remaining(deadline), 0.05)
    session.set_default_client_config(_config(min(_CONNECT_TIMEOUTS[0], left), left))
    # Instance metadata: one quick attempt (botocore's default is 1 s, 1 attempt).
    # botocore makes this an int: under 1 s it would be 0, an error (run_bounded keeps the bound).
    session.set_config_variable("metadata_service_timeout", 1)
    session.set_config_variable("metadata_service_num_attempts", 1)
    return session


def _config(connect: float, read: float, **extra: Any) -> Config:
    """A client config with these timeouts and botocore's retries off."""
    from botocore.config import Config

    return Config(
        connect_timeout=connect,
        read_timeout=read,
        retries={"total_max_attempts": 1},
        user_agent_extra=USER_AGENT,
        **extra,
    )


def _client(session: Session, registry: Registry, connect: float, read: float) -> BaseClient:
    config = _config(
        connect,
        read,
        region_name=registry.api_region,
        # The host says FIPS / dual-stack: use that API endpoint without any extra variable.
        # (A configured endpoint URL, such as AWS_ENDPOINT_URL_ECR, still takes precedence.)
        use_fips_endpoint=registry.fips or None,
        use_dualstack_endpoint=registry.dualstack or None,
    )
    service = "ecr-public" if registry.service == ECR_PUBLIC else "ecr"
    return session.create_client(service, config=config)


class _Read:
    """The ``raw`` of an answer already read: all that ``AWSResponse.content`` asks of it."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._data


def _too_large(detail: str) -> AwsError:
    limit = f"{MAX_RESPONSE_BYTES >> 20} MiB"
    return AwsError("ResponseTooLarge", f"response larger than {limit} ({detail})")


def _read_capped(response: AWSResponse, request: AWSPreparedRequest, deadline: float) -> bytes:
    """The body of a streamed answer: at most ``MAX_RESPONSE_BYTES`` of it, by the deadline."""
    from botocore import exceptions as bx
    from urllib3 import exceptions as ux

    length = str(response.headers.get("content-length") or "").strip()
    if length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
        raise _too_large(f"Content-Length {int(length)}")
    chunks: list[bytes] = []
    size = 0
    while True:
        if _remaining(deadline) <= 0:
            raise bx.ReadTimeoutError(endpoint_url=request.url, error="body not read in time")
        want = min(_READ_CHUNK, MAX_RESPONSE_BYTES + 1 - size)
        try:
            chunk = response.raw.read(want, decode_content=False)
        except ux.ReadTimeoutError as err:
            raise bx.ReadTimeoutError(endpoint_url=request.url, error=err) from None
        except ux.ProtocolError as err:
            raise bx.ConnectionClosedError(
                endpoint_url=request.url, request=request, error=err
            ) from None
        except (ux.HTTPError, OSError) as err:
            raise bx.HTTPClientError(error=err) from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise _too_large(f"stopped reading at {size} bytes")


def _cap_response(client: BaseClient, operation: str, deadline: float) -> None:
    """Make ``client`` send ``operation`` through a handler that reads the answer itself.

    botocore reads the whole body inside ``URLLib3Session.send`` unless the request streams its
    output: the ``before-send`` handler sets ``stream_output``, sends through the client's own
    HTTP session (proxies, TLS settings and timeouts as configured), reads at most
    ``MAX_RESPONSE_BYTES + 1`` bytes and hands botocore the answer with its body already read.
    """
    from botocore.awsrequest import AWSResponse

    # The client's endpoint (private, stable since botocore 1.0) holds its HTTP session.
    http = client._endpoint.http_session  # type: ignore[attr-defined]
    api = client.meta.method_to_api_mapping[operation]
    service_id = client.meta.service_model.service_id.hyphenize()

    def send(request: AWSPreparedRequest, **kwargs: Any) -> Any:
        request.stream_output = True
        response = http.send(request)
        try:
            body = _read_capped(response, request, deadline)
        except BaseException:
            response.raw.close()  # hang up: the rest is never read
            raise
        return AWSResponse(response.url, response.status_code, response.headers, _Read(body))

    client.meta.events.register(f"before-send.{service_id}.{api}", send)


def _translate(err: Exception) -> AwsError:
    """botocore's exceptions as ours: the AWS error code and message, never a credential."""
    from botocore import exceptions as bx

    if isinstance(err, AwsError):  # ours, raised inside botocore (the answer's size)
        return err
    if isinstance(err, bx.ClientError):
        info = err.response.get("Error", {})
        code = str(info.get("Code") or "ClientError")
        message = str(info.get("Message") or err)
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        status = int(status or 0)
        retryable = code in _THROTTLING or code in _TRANSIENT or status >= 500 or status == 429
        if code.isdigit() and not_aws(message):  # botocore names an unparsed body by its status
            return AwsError(f"HTTP{code}", not_aws(message), retryable)
        return AwsError(code, message, retryable)
    if isinstance(err, bx.NoCredentialsError):
        return AwsError("NoCredentials", "no AWS credentials found by the default chain")
    if isinstance(err, bx.ProfileNotFound):
        return AwsError("ProfileNotFound", str(err))
    if isinstance(err, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        # A connect, TLS-handshake or read timeout: a retry may get through (a lost SYN).
        return AwsError("Timeout", str(err), retryable=True)
    if isinstance(err, bx.EndpointConnectionError):
        return AwsError("EndpointConnectionError", str(err), retryable=True)
    if isinstance(err, bx.ConnectionClosedError):
        return AwsError("ConnectionClosed", str(err), retryable=True)
    if isinstance(err, bx.CredentialRetrievalError | bx.TokenRetrievalError):
        return AwsError("CredentialRetrievalError", str(err))
    if isinstance(err, bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        return AwsError("SSOTokenError", str(err))
    from botocore.parsers import ResponseParserError

    if isinstance(err, ResponseParserError):
        return AwsError("InvalidResponse", not_aws(str(err)) or "an answer that is not AWS's")
    return AwsError(type(err).__name__, str(err))


def not_aws(body: str) -> str:
    """For an answer that is not an AWS API's (a proxy's or a captive portal's HTML page): one
    short line that says so, with the page's title; ``""`` when ``body`` looks like AWS's."""
    import re

    text = body.replace("\\n", " ")
    if "<" not in text or not re.search(r"<(?:!doctype|html|head|body|title|h1)\b", text, re.I):
        return ""
    found = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
    if found is None:
        found = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.I | re.S)
    said = " ".join(re.sub(r"<[^>]*>", " ", found.group(1) if found else "").split())[:100]
    what = f' "{said}"' if said else ""
    return (
        f"not an AWS answer: an HTML page{what} (a proxy, a firewall or a wrong endpoint URL "
        "in between?)"
    )


def _max_backoff(attempt: int) -> float:
    return min(0.1 * 2.0 ** (attempt - 1), 1.0)


def _connect_timeout(attempt: int, left: float) -> float:
    """Attempt ``attempt``'s connect timeout: 1 s, 2 s, 4 s..., and all that is left for the
    last attempt that fits (after it, no other could start)."""
    connect = _CONNECT_TIMEOUTS[min(attempt, len(_CONNECT_TIMEOUTS)) - 1]
    if attempt >= _MAX_ATTEMPTS or left - connect < _max_backoff(attempt) + _MIN_ATTEMPT:
        return left
    return connect


def _resolve_credentials(session: Session) -> None:
    """Resolve the credentials now (STS, SSO...: the time they take counts before the call's
    timeouts are set); none at all is the signer's ``NoCredentialsError`` later."""
    credentials = session.get_credentials()
    if credentials is not None:
        credentials.get_frozen_credentials()


def _call(
    session: Session,
    make: Callable[[float, float], BaseClient],
    operation: str,
    params: dict[str, Any],
    deadline: float,
    *,
    signed: bool = True,
) -> Any:
    """One API call, retried on throttling, 5xx, dropped connections and timeouts while time
    remains; each attempt is a fresh client from ``make(connect_timeout, read_timeout)``.
    An unsigned call (``signed=False``) resolves no credentials."""
    attempt = 0
    while True:
        attempt += 1
        client = None
        try:
            left = max(_remaining(deadline), 0.05)
            connect = _connect_timeout(attempt, left)
            # The credential providers' clients (STS...) of this attempt, then ours.
            session.set_default_client_config(_config(connect, left))
            if signed:
                _resolve_credentials(session)
            left = max(_remaining(deadline), 0.05)
            # The last attempt waits for its answer as long as the deadline allows; an earlier
            # one half of that, so a request lost by one server can still be sent again.
            read = left if connect >= left else max(left / 2, min(left, 1.0))
            client = make(min(connect, left), read)
            _cap_response(client, operation, deadline)
            return getattr(client, operation)(**params)
        except Exception as raw:
            err = _translate(raw)
            backoff = _max_backoff(attempt) * (0.5 + random.random() / 2)
            # Retry only when a retry can still answer: leave time for the call itself.
            limit = 2 if err.code in _CONNECTION_ERRORS else _MAX_ATTEMPTS  # refused: one retry
            if (
                not err.retryable
                or _remaining(deadline) < backoff + _MIN_ATTEMPT
                or attempt >= limit
            ):
                raise err from None
            time.sleep(backoff)
        finally:
            if client is not None:
                client.close()


def _epoch(value: Any) -> float:
    if value is None:
        raise AwsError("InvalidResponse", "authorization data has no expiresAt")
    if isinstance(value, int | float):
        return float(value)
    return float(value.timestamp())


def _token(token: str, expires_at: Any, proxy_endpoint: str) -> Token:
    try:
        decoded = Token(token, _epoch(expires_at), proxy_endpoint)
    except ValueError as err:
        raise AwsError("InvalidToken", str(err)) from None
    now = time.time()
    if decoded.expired(now):
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(decoded.expires_at))
        raise AwsError(
            "ExpiredToken",
            f"AWS returned a token that expired at {when}, {now - decoded.expires_at:.0f} s ago "
            "(is the system clock right?)",
        )
    return decoded


def _account_of(proxy_endpoint: str) -> str:
    """The account a ``proxyEndpoint`` names (its host's first label), or ``""``."""
    label = host_of(proxy_endpoint).partition(".")[0]
    return label if len(label) == 12 and label.isdigit() else ""


#: The session name of a role assumed for a pod's service account (what CloudTrail shows).
WEB_IDENTITY_SESSION_NAME = "ecr-credential-provider"


def assume_web_identity(
    session: Session, region: str, role_arn: str, token: str, deadline: float
) -> None:
    """Give ``session`` the credentials of ``role_arn`` assumed with a web identity token
    (STS ``AssumeRoleWithWebIdentity``, unsigned: nothing of the default chain is used)."""
    from botocore import UNSIGNED

    def make(connect: float, read: float) -> BaseClient:
        config = _config(connect, read, region_name=region, signature_version=UNSIGNED)
        return session.create_client("sts", config=config)

    params = {
        "RoleArn": role_arn,
        "RoleSessionName": WEB_IDENTITY_SESSION_NAME,
        "WebIdentityToken": token,
    }
    try:
        response = _call(
            session, make, "assume_role_with_web_identity", params, deadline, signed=False
        )
    except AwsError as err:
        raise AwsError(
            err.code, f"AssumeRoleWithWebIdentity for {role_arn}: {err.message}", err.retryable
        ) from None
    creds = response.get("Credentials") or {}
    if not (creds.get("AccessKeyId") and creds.get("SecretAccessKey")):
        raise AwsError("InvalidResponse", "no Credentials in AssumeRoleWithWebIdentity response")
    session.set_credentials(
        creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken")
    )


def fetch(
    registry: Registry,
    profile: str | None,
    deadline: float,
    web_identity: tuple[str, str] | None = None,
) -> Token:
    """``GetAuthorizationToken`` for one registry, in its region (ECR Public: us-east-1), with
    the default credential chain or, given ``(role ARN, token)``, that role's credentials."""
    try:
        session = make_session(profile, registry.api_region, deadline)
        if web_identity is not None:
            assume_web_identity(session, registry.api_region, *web_identity, deadline)

        def make(connect: float, read: float) -> BaseClient:
            return _client(session, registry, connect, read)

        if registry.service == ECR_PUBLIC:
            response = _call(session, make, "get_authorization_token", {}, deadline)
            data = response.get("authorizationData") or {}
            token = data.get("authorizationToken")
            if not token:
                raise AwsError("InvalidResponse", "no authorizationData in ECR Public response")
            return _token(token, data.get("expiresAt"), "https://" + registry.host)
        params = {"registryIds": [registry.account]}
        response = _call(session, make, "get_authorization_token", params, deadline)
        return _pick(response, registry.account, registry)
    except AwsError:
        raise
    except Exception as err:
        raise _translate(err) from None


def fetch_default(region: str, profile: str | None, deadline: float) -> tuple[str, Token]:
    """The caller's default registry in ``region`` (no ``registryIds``): ``(account, token)``."""
    probe = Registry(ECR, "", region=region)
    try:
        session = make_session(profile, region, deadline)

        def make(connect: float, read: float) -> BaseClient:
            return _client(session, probe, connect, read)

        response = _call(session, make, "get_authorization_token", {}, deadline)
        token = _pick(response, "", probe)
    except AwsError:
        raise
    except Exception as err:
        raise _translate(err) from None
    account = _account_of(token.proxy_endpoint)
    if not account:
        raise AwsError(
            "InvalidResponse", f"proxyEndpoint {token.proxy_endpoint!r} names no account"
        )
    return account, token


def _pick(response: dict[str, Any], account: str, registry: Registry) -> Token:
    """The authorization data for ``account`` (any, when ``account`` is empty); a token for
    another account is never taken for it."""
    candidates = [
        item
        for item in response.get("authorizationData") or []
        if item.get("authorizationToken") and item.get("proxyEndpoint")
    ]
    if not candidates:
        raise AwsError("InvalidResponse", "no authorizationData in ECR response")
    chosen = candidates[0]
    if account:
        named = [_account_of(str(item["proxyEndpoint"])) for item in candidates]
        if account not in named:
            other = ", ".join(
                f"account {name}" if name else f"proxyEndpoint {str(item['proxyEndpoint'])!r}"
                for name, item in zip(named, candidates, strict=True)
            )
            raise AwsError("InvalidResponse", f"AWS returned a token for {other}, not {account}")
        chosen = candidates[named.index(account)]
    proxy = str(chosen["proxyEndpoint"])
    if registry.host:
        proxy = "https://" + registry.host
    return _token(chosen["authorizationToken"], chosen.get("expiresAt"), proxy)


def caller_identity(profile: str | None, region: str, deadline: float) -> dict[str, str]:
    """STS ``GetCallerIdentity``: ``Account``, ``Arn``, ``UserId``."""
    try:
        session = make_session(profile, region or "us-east-1", deadline)

        def make(connect: float, read: float) -> BaseClient:
            config = _config(connect, read, region_name=region or "us-east-1")
            return session.create_client("sts", config=config)

        response = _call(session, make, "get_caller_identity", {}, deadline)
    except AwsError:
        raise
    except Exception as err:
        raise _translate(err) from None
    return {k: str(response.get(k, "")) for k in ("Account", "Arn", "UserId")}


def endpoint_url(registry: Registry) -> str:
    """The API endpoint botocore will call for this registry (no network)."""
    deadline = time.monotonic() + 5
    session = make_session(None, registry.api_region, deadline)
    client = _client(session, registry, _CONNECT_TIMEOUTS[0], 5.0)
    url: str = client.meta.endpoint_url
    return url


class BotocoreTokenSource:
    """The ``TokenSource`` of every real run: ``fetch`` and ``fetch_default`` above."""

    def fetch(
        self,
        registry: Registry,
        profile: str | None,
        deadline: float,
        web_identity: tuple[str, str] | None = None,
    ) -> Token:
        """``GetAuthorizationToken`` for one registry."""
        return fetch(registry, profile, deadline, web_identity)

    def fetch_default(self, region: str, profile: str | None, deadline: float) -> tuple[str, Token]:
        """The caller's default registry in ``region``."""
        return fetch_default(region, profile, deadline)
