"""The helper's errors: each carries the protocol line to print and, optionally, a cause."""

from __future__ import annotations

from docker_credential_ecr_py._protocol import NOT_FOUND, NOT_IMPLEMENTED


class HelperError(Exception):
    """Base: ``protocol_message`` goes to stdout; ``stderr`` (if any) is one line for the user."""

    protocol_message = NOT_FOUND

    def __init__(self, cause: str = "", stderr: str = "") -> None:
        super().__init__(cause or self.protocol_message)
        self.cause = cause
        self.stderr = stderr


class CredentialsNotFound(HelperError):
    """Answered as ``credentials not found in native keychain``: clients go anonymous."""


class NotImplementedByHelper(HelperError):
    """``store``/``erase`` without ``AWS_ECR_IGNORE_CREDS_STORAGE=true``."""

    protocol_message = NOT_IMPLEMENTED
