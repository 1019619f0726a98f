"""SHA-256 from CPython's built-in module: ``hashlib`` loads OpenSSL, which costs a few ms."""

from __future__ import annotations

from binascii import b2a_base64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _builtin_sha256() -> Callable[[bytes], Any]:
    for module in ("_sha2", "_sha256"):  # Python 3.12+, 3.11
        try:
            found: Callable[[bytes], Any] = __import__(module).sha256
            return found
        except (ImportError, AttributeError):
            continue
    from hashlib import sha256  # pragma: no cover - builds without the built-in module

    return sha256


_sha256 = _builtin_sha256()


def sha256(data: bytes) -> bytes:
    """The SHA-256 digest of ``data``."""
    digest: bytes = _sha256(data).digest()
    return digest


def b64(data: bytes) -> str:
    """Standard base64 with padding, as Go's ``base64.StdEncoding``."""
    return b2a_base64(data, newline=False).decode("ascii")


def checksum(text: str) -> str:
    """The Go helper's cache checksum: ``base64(sha256(text))``."""
    return b64(sha256(text.encode("utf-8")))


# MD5 of the empty string: the Go helper's legacy key appends it to the raw text
# (its md5.New().Sum(text) bug).
_MD5_EMPTY = bytes.fromhex("d41d8cd98f00b204e9800998ecf8427e")


def legacy_checksum(text: str) -> str:
    """The Go helper's pre-0.12 key part: ``base64(text || md5(""))``."""
    return b64(text.encode("utf-8") + _MD5_EMPTY)
