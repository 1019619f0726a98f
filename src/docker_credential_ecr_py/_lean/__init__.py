"""Small stand-ins for standard-library modules that cost too much to import on a cache hit.

``json`` imports ``re``, ``hashlib`` loads OpenSSL, ``datetime`` and ``tempfile`` pull in more
again, and every module imported at all costs ~0.1 ms: a cached ``get`` must cost about what the
interpreter's own start does. So what the cache-hit path needs is here, in the package's own
module, built on C built-ins only:

- JSON decoding through CPython's C scanner (``_json``): ``loads``;
- SHA-256 from the built-in ``_sha256``, base64, the Go helper's cache checksums: ``sha256``,
  ``b64``, ``checksum``, ``legacy_checksum``;
- RFC 3339 times as Go's ``time.Time`` marshals them: ``parse_time``, ``format_time``;
- bounded reads of regular files only, never through a symlink unless asked: ``read_bounded``.

Off the hit path, in submodules: ``files`` (the one atomic file writer, private directories) and
``gojson`` (Go's JSON syntax checker, for byte-exact ``store`` errors).
"""

import os
from binascii import b2a_base64

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# Opening a FIFO with O_NONBLOCK never waits for a writer (or reader); the caller then sees from
# fstat that it is not a regular file and refuses it.
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_S_IFMT, _S_IFREG = 0o170000, 0o100000


# --- JSON -------------------------------------------------------------------------------------

_json: "Any"
try:
    _json = __import__("_json")  # typed as Any: typeshed's stub does not allow a duck context
except ImportError:  # pragma: no cover - non-CPython
    _json = None


class _Context:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        return float(name.lower())  # "NaN", "Infinity", "-Infinity"


_scan: "Any" = _json.make_scanner(_Context()) if _json is not None else None
_WS = " \t\n\r"


class DecodeError(ValueError):
    """The text is not exactly one JSON value."""


def loads(text: str) -> "Any":
    """Decode one JSON value surrounded by optional whitespace, as ``json.loads`` does."""
    if _scan is None:  # pragma: no cover - non-CPython
        return _slow_loads(text)
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, end = _scan(text, start)
    except RecursionError:
        raise DecodeError("JSON nested too deeply") from None
    except Exception:
        return _slow_loads(text)
    if text[end:].strip(_WS):
        raise DecodeError(f"extra data at offset {end}")
    return value


def _slow_loads(text: str) -> "Any":
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise DecodeError("JSON nested too deeply") from None
    except ValueError as err:
        raise DecodeError(str(err)) from None


# --- SHA-256 and base64 -----------------------------------------------------------------------


def _builtin_sha256() -> "Callable[[bytes], Any]":
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


# --- RFC 3339 times ---------------------------------------------------------------------------


def _days_from_civil(year: int, month: int, day: int) -> int:
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: int) -> "tuple[int, int, int]":
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_time(text: str) -> float:
    """Seconds since the epoch from an RFC 3339 timestamp (``Z`` or ``±hh:mm``, any fraction)."""
    if len(text) < 20 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt":
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    if text[13] != ":" or text[16] != ":":
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        raise ValueError(f"day out of range: {text!r}")
    if not (hour < 24 and minute < 60 and second < 60):
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    rest = text[19:]
    fraction = 0.0
    if rest.startswith("."):
        digits = 1
        while digits < len(rest) and rest[digits].isdigit():
            digits += 1
        if digits == 1:
            raise ValueError(f"not an RFC 3339 time: {text!r}")
        fraction = float("0" + rest[:digits])
        rest = rest[digits:]
    if rest in ("Z", "z"):
        offset = 0
    elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
        offset = int(rest[1:3]) * 3600 + int(rest[4:6]) * 60
        if rest[0] == "-":
            offset = -offset
    else:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    days = _days_from_civil(year, month, day)
    return days * 86400 + hour * 3600 + minute * 60 + second - offset + fraction


def format_time(epoch: float) -> str:
    """UTC RFC 3339 with Go's ``RFC3339Nano`` fraction (trailing zeros dropped)."""
    nanos = round(epoch * 1e6) * 1000  # float seconds carry microseconds, not nanoseconds
    seconds, frac = divmod(nanos, 1_000_000_000)
    days, secs = divmod(seconds, 86400)
    year, month, day = _civil_from_days(days)
    hour, rem = divmod(secs, 3600)
    minute, second = divmod(rem, 60)
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


# --- bounded reads ----------------------------------------------------------------------------


def read_bounded(
    path: str, limit: int, *, dir_fd: "int | None" = None, follow: bool = False
) -> bytes:
    """The file's bytes, at most ``limit + 1`` of them (so a caller sees that it is too big).

    Only a regular file is read: a FIFO, a device (``/dev/zero``) or a directory is an
    ``OSError`` (``EINVAL``) at once, never a wait or an endless read. ``dir_fd``: ``path`` is
    relative to that open directory. ``follow``: follow a symlink at ``path`` itself (paths the
    user names, such as a projected token file); otherwise a symlink is ``OSError`` ``ELOOP``.
    Reads what ``fstat`` says rather than a ``limit``-sized buffer: this is on the cache-hit path.
    """
    flags = os.O_RDONLY | O_CLOEXEC | O_NONBLOCK | (0 if follow else O_NOFOLLOW)
    fd = os.open(path, flags, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if st.st_mode & _S_IFMT != _S_IFREG:
            raise OSError(22, "not a regular file", path)
        want = min(st.st_size, limit) + 1
        data = os.read(fd, want)
        while len(data) <= limit:
            more = os.read(fd, max(want - len(data), 65536))
            if not more:
                break
            data += more
        return data
    finally:
        os.close(fd)


def is_regular(mode: int) -> bool:
    """``stat.S_ISREG`` without the ``stat`` module's lookup."""
    return mode & _S_IFMT == _S_IFREG
