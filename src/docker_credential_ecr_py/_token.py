"""An ECR authorization token: ``base64("AWS:<password>")`` with its expiry, decoded strictly.

The one token type: ``_aws`` builds it from a ``GetAuthorizationToken`` answer and ``_cache``'s
entries extend it with when it was requested. Building one decodes it, so an undecodable token
never exists as an object (``ValueError``).
"""


def decode(token: str) -> "tuple[str, str]":
    """``(user, password)`` of ``base64("user:password")``, strict, as the Go helper's
    ``extractToken``; ``ValueError`` otherwise."""
    from binascii import Error as BinasciiError
    from binascii import a2b_base64

    try:
        raw = a2b_base64(token.encode("ascii"), strict_mode=True)
    except (BinasciiError, UnicodeEncodeError, ValueError) as err:
        raise ValueError(f"invalid token: {err}") from None
    text = raw.decode("utf-8", "surrogateescape")
    user, sep, password = text.partition(":")
    if not sep:
        raise ValueError("invalid token: expected two parts, got 1")
    return user, password


class Token:
    """A decoded authorization token for one registry endpoint."""

    __slots__ = ("expires_at", "password", "proxy_endpoint", "token", "username")

    def __init__(self, token: str, expires_at: float, proxy_endpoint: str) -> None:
        self.username, self.password = decode(token)
        self.token = token
        self.expires_at = expires_at
        self.proxy_endpoint = proxy_endpoint

    def expired(self, now: float) -> bool:
        """Past its ``expiresAt``."""
        return now >= self.expires_at
