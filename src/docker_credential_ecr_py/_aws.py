"""ECR and ECR Public ``GetAuthorizationToken``: the only module that imports boto3's botocore.

Imported only on a cache miss. It uses ``botocore.session`` directly (the boto3 distribution's
core, with the same default credential chain: environment, profiles, assume-role, SSO, IRSA web
identity, ``credential_process``, container and instance credentials) because importing ``boto3``
on top costs another ~130 ms and adds nothing a single API call needs.

Every call runs under a deadline: client timeouts, the credential providers' STS/IMDS clients and
our own retry loop are all fitted into the time left. Throttling and 5xx answers are retried while
time remains; botocore's own retries are off so the deadline stays ours.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from docker_credential_ecr_py import __version__
from docker_credential_ecr_py._errors import AwsError
from docker_credential_ecr_py._registry import ECR, ECR_PUBLIC, Registry, parse_private_host
from docker_credential_ecr_py._token import Token

if TYPE_CHECKING:
    from botocore.client import BaseClient
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


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def make_session(profile: str | None, region: str, deadline: float) -> Session:
    """A botocore session whose every client (ours and the credential providers') fits the
    deadline."""
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ProfileNotFound

    try:
        session = botocore.session.Session(profile=profile)
        session.set_config_variable("region", region)
    except ProfileNotFound as err:
        raise AwsError("ProfileNotFound", str(err)) from None
    left = max(_remaining(deadline), 0.05)
    session.set_default_client_config(
        Config(
            connect_timeout=min(1.0, left),
            read_timeout=left,
            retries={"total_max_attempts": 1},
            user_agent_extra=USER_AGENT,
        )
    )
    # Instance metadata: one quick attempt (botocore's default is 1 s, 1 attempt).
    session.set_config_variable("metadata_service_timeout", min(1.0, left))
    session.set_config_variable("metadata_service_num_attempts", 1)
    return session


def _client(session: Session, registry: Registry, deadline: float) -> BaseClient:
    from botocore.config import Config

    left = max(_remaining(deadline), 0.05)
    config = Config(
        region_name=registry.api_region,
        connect_timeout=min(1.0, left),
        read_timeout=left,
        retries={"total_max_attempts": 1},
        # The host says FIPS / dual-stack: use that API endpoint without any extra variable.
        # (A configured endpoint URL, such as AWS_ENDPOINT_URL_ECR, still takes precedence.)
        use_fips_endpoint=registry.fips or None,
        use_dualstack_endpoint=registry.dualstack or None,
        user_agent_extra=USER_AGENT,
    )
    service = "ecr-public" if registry.service == ECR_PUBLIC else "ecr"
    return session.create_client(service, config=config)


def _translate(err: Exception) -> AwsError:
    """botocore's exceptions as ours: the AWS error code and message, never a credential."""
    from botocore import exceptions as bx

    if isinstance(err, bx.ClientError):
        info = err.response.get("Error", {})
        code = str(info.get("Code") or "ClientError")
        message = str(info.get("Message") or err)
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        status = int(status or 0)
        retryable = code in _THROTTLING or code in _TRANSIENT or status >= 500 or status == 429
        return AwsError(code, message, retryable)
    if isinstance(err, bx.NoCredentialsError):
        return AwsError("NoCredentials", "no AWS credentials found by the default chain")
    if isinstance(err, bx.ProfileNotFound):
        return AwsError("ProfileNotFound", str(err))
    if isinstance(err, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return AwsError("Timeout", str(err))
    if isinstance(err, bx.EndpointConnectionError):
        return AwsError("EndpointConnectionError", str(err), retryable=True)
    if isinstance(err, bx.ConnectionClosedError):
        return AwsError("ConnectionClosed", str(err), retryable=True)
    if isinstance(err, bx.CredentialRetrievalError | bx.TokenRetrievalError):
        return AwsError("CredentialRetrievalError", str(err))
    if isinstance(err, bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        return AwsError("SSOTokenError", str(err))
    return AwsError(type(err).__name__, str(err))


def _call(client: BaseClient, operation: str, params: dict[str, Any], deadline: float) -> Any:
    """One API call, retried on throttling, 5xx and dropped connections while time remains."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return getattr(client, operation)(**params)
        except Exception as raw:
            err = _translate(raw)
            backoff = min(0.1 * 2 ** (attempt - 1), 1.0) * (0.5 + random.random() / 2)
            # Retry only when a retry can still answer: leave time for the call itself.
            limit = 2 if err.code in _CONNECTION_ERRORS else 5  # a refused port: one retry
            if not err.retryable or _remaining(deadline) < backoff + 0.3 or attempt >= limit:
                raise err from None
            time.sleep(backoff)


def _epoch(value: Any) -> float:
    if value is None:
        raise AwsError("InvalidResponse", "authorization data has no expiresAt")
    if isinstance(value, int | float):
        return float(value)
    return float(value.timestamp())


def _token(token: str, expires_at: Any, proxy_endpoint: str) -> Token:
    try:
        return Token(token, _epoch(expires_at), proxy_endpoint)
    except ValueError as err:
        raise AwsError("InvalidToken", str(err)) from None


def fetch(registry: Registry, profile: str | None, deadline: float) -> Token:
    """``GetAuthorizationToken`` for one registry, in its region (ECR Public: us-east-1)."""
    try:
        session = make_session(profile, registry.api_region, deadline)
        client = _client(session, registry, deadline)
        if registry.service == ECR_PUBLIC:
            response = _call(client, "get_authorization_token", {}, deadline)
            data = response.get("authorizationData") or {}
            token = data.get("authorizationToken")
            if not token:
                raise AwsError("InvalidResponse", "no authorizationData in ECR Public response")
            return _token(token, data.get("expiresAt"), "https://" + registry.host)
        params = {"registryIds": [registry.account]}
        response = _call(client, "get_authorization_token", params, deadline)
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
        client = _client(session, probe, deadline)
        response = _call(client, "get_authorization_token", {}, deadline)
        token = _pick(response, "", probe)
    except AwsError:
        raise
    except Exception as err:
        raise _translate(err) from None
    host = token.proxy_endpoint.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    account = host[:12]
    if len(account) != 12 or not account.isdigit():
        raise AwsError(
            "InvalidResponse", f"proxyEndpoint {token.proxy_endpoint!r} names no account"
        )
    return account, token


def _pick(response: dict[str, Any], account: str, registry: Registry) -> Token:
    """The authorization data for ``account`` (any, when ``account`` is empty)."""
    candidates = [
        item
        for item in response.get("authorizationData") or []
        if item.get("authorizationToken") and item.get("proxyEndpoint")
    ]
    if not candidates:
        raise AwsError("InvalidResponse", "no authorizationData in ECR response")
    chosen = candidates[0]
    if account:
        for item in candidates:
            host = str(item["proxyEndpoint"]).split("://", 1)[-1].split("/", 1)[0]
            parsed = parse_private_host(host.lower())
            if parsed is not None and parsed.account == account:
                chosen = item
                break
    proxy = str(chosen["proxyEndpoint"])
    if registry.host:
        proxy = "https://" + registry.host
    return _token(chosen["authorizationToken"], chosen.get("expiresAt"), proxy)


def caller_identity(profile: str | None, region: str, deadline: float) -> dict[str, str]:
    """STS ``GetCallerIdentity``: ``Account``, ``Arn``, ``UserId``."""
    try:
        session = make_session(profile, region or "us-east-1", deadline)
        client = session.create_client("sts", region_name=region or "us-east-1")
        response = _call(client, "get_caller_identity", {}, deadline)
    except AwsError:
        raise
    except Exception as err:
        raise _translate(err) from None
    return {k: str(response.get(k, "")) for k in ("Account", "Arn", "UserId")}


def endpoint_url(registry: Registry) -> str:
    """The API endpoint botocore will call for this registry (no network)."""
    deadline = time.monotonic() + 5
    client = _client(make_session(None, registry.api_region, deadline), registry, deadline)
    url: str = client.meta.endpoint_url
    return url


class BotocoreTokenSource:
    """The ``TokenSource`` of every real run: ``fetch`` and ``fetch_default`` above."""

    def fetch(self, registry: Registry, profile: str | None, deadline: float) -> Token:
        """``GetAuthorizationToken`` for one registry."""
        return fetch(registry, profile, deadline)

    def fetch_default(self, region: str, profile: str | None, deadline: float) -> tuple[str, Token]:
        """The caller's default registry in ``region``."""
        return fetch_default(region, profile, deadline)
