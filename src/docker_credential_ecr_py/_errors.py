"""Every error type of the helper, in one leaf module that imports nothing.

Which protocol line each one becomes is the CLI's business (``_cli``), not theirs.
"""


class ProtocolError(Exception):
    """A request the wire protocol rejects; ``str(err)`` is the exact line to print."""


class HelperError(Exception):
    """A request the helper cannot serve; ``stderr`` (if any) is one line for the user."""

    def __init__(self, cause: str = "", stderr: str = "") -> None:
        super().__init__(cause)
        self.cause = cause
        self.stderr = stderr


class CredentialsNotFound(HelperError):
    """Answered as ``credentials not found in native keychain``: clients go anonymous."""


class NotImplementedByHelper(HelperError):
    """``store``/``erase`` without ``AWS_ECR_IGNORE_CREDS_STORAGE=true``: ``not implemented``."""


class AwsError(Exception):
    """A failed AWS call: ``code`` is the AWS error code (or a short name of the failure)."""

    def __init__(self, code: str, message: str, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


class CacheError(Exception):
    """The cache could not be read or written; never fatal to a request."""
