"""A small append-only log file: levels, size-based rotation safe across processes, redaction.

Not the ``logging`` module: importing it costs more than the Go helper's whole run, and nothing is
written (or opened) unless a message at or above the level is logged, so a cache hit pays nothing.
Every line goes through ``redact``: tokens, passwords, secret keys and session tokens never reach
the file.
"""

import os
import sys
import time

from docker_credential_ecr_py import _lean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "off": 100}
REDACTED = "[REDACTED]"
_O_NOFOLLOW = _lean.O_NOFOLLOW
_O_CLOEXEC = _lean.O_CLOEXEC


def redact(text: str, secrets: "set[str] | frozenset[str]" = frozenset()) -> str:
    """Remove known secrets and anything shaped like a credential from ``text``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    import re

    # An Authorization header's credentials, whatever the scheme word before them.
    text = re.sub(
        r"(?i)(authorization[\"']?\s*[=:]\s*[\"']?(?:basic|bearer|aws4-hmac-sha256)\s+)[^\"'\n]+",
        lambda m: m.group(1) + REDACTED,
        text,
    )
    # key=value / key: value pairs naming a secret (one redacted above is left as it is)
    text = re.sub(
        r"(?i)(?<![\w-])((?:aws_)?(?:secret_?access_?key|secret_?key|session[_-]?token|"
        r"x-amz-security-token|security[_-]?token|secret|password|passwd|pass|token|"
        r"authorization_?token|authorization)[\"']?\s*[=:]\s*[\"']?)"
        r"(?![\s\"'])"
        r"([^\s\"',&}]+)",
        lambda m: m.group(1) + REDACTED if not m.group(2).startswith(REDACTED) else m.group(0),
        text,
    )
    # URL userinfo: the password of user:password@, or all of it when there is no colon
    # (http://token@host) or no user (http://:password@host); a password may hold "@".
    text = re.sub(r"(://(?:[^/\s:@]*:)?)[^\s/]*@", r"\1xxxxx@", text)
    text = re.sub(r"([?&][^=&\s#]+=)[^&\s#]+", r"\1redacted", text)
    # long base64 runs (ECR tokens, session tokens, JWTs) and secret-key-shaped strings
    text = re.sub(r"[A-Za-z0-9+/_\-]{32,}={0,2}", _redact_run, text)
    return text


_ESCAPES: "dict[int, str] | None" = None


def _escapes() -> "dict[int, str]":
    global _ESCAPES
    if _ESCAPES is None:
        table = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
        table.update({ord("\t"): "\\t", ord("\r"): "\\r", ord("\n"): "\\n"})
        # line and paragraph separators, and the bidirectional controls that reorder text
        for c in (0x2028, 0x2029, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)):
            table[c] = f"\\u{c:04x}"
        _ESCAPES = table
    return _ESCAPES


def one_line(text: str, newline: str = "\\n") -> str:
    """``text`` as one line a terminal shows as it is: line breaks become ``newline``, every
    other C0 and C1 control (CR, ESC, NEL...), DEL, U+2028/U+2029 and the bidirectional
    controls become visible escapes (``\\r``, ``\\x1b``, ``\\u2028``)."""
    text = text.replace("\r\n", "\n")
    if newline != "\\n":
        text = text.replace("\n", newline)
    return text.translate(_escapes())


def _redact_run(match: object) -> str:
    """Redact a long base64-looking run, but not a file path (many slashes, one case)."""
    run: str = match.group(0)  # type: ignore[attr-defined]
    if run.count("/") * 16 > len(run) or run.startswith("/"):
        return run
    kinds = (
        any(c.islower() for c in run),
        any(c.isupper() for c in run),
        any(c.isdigit() for c in run),
    )
    return REDACTED if all(kinds) else run


class Log:
    """Append lines to one file at or above a level; opened only when first needed."""

    def __init__(
        self, path: "str | None", level: str = "info", max_bytes: int = 1024 * 1024
    ) -> None:
        self.path = path  # None: ask path_provider on the first line written
        self.path_provider: Callable[[], str] | None = None
        self.threshold = LEVELS.get(level, 20)
        self.max_bytes = max_bytes
        self.secrets: set[str] = set()
        self._fd: int | None = None
        self._dir_fd: int | None = None
        self._name = ""
        # (directory descriptor, sub-directory name) the log lives in, instead of its path's
        # directory: set for the default log under the cache directory.
        self.anchor: tuple[int, str] | None = None
        self._broken = False
        self.echo: list[str] | None = None  # tests and doctor may capture lines here

    def enabled(self, level: str) -> bool:
        """Whether a message at ``level`` would be written anywhere."""
        if LEVELS[level] < self.threshold:
            return False
        return self.path != "" or self.echo is not None

    def add_secret(self, secret: str) -> None:
        """Never write this string (a token, password or key)."""
        if secret:
            self.secrets.add(secret)

    def debug(self, msg: str, *args: object) -> None:
        """Log at debug level."""
        self._log("debug", msg, args)

    def info(self, msg: str, *args: object) -> None:
        """Log at info level."""
        self._log("info", msg, args)

    def warning(self, msg: str, *args: object) -> None:
        """Log at warning level."""
        self._log("warning", msg, args)

    def error(self, msg: str, *args: object) -> None:
        """Log at error level."""
        self._log("error", msg, args)

    def _log(self, level: str, msg: str, args: "tuple[object, ...]") -> None:
        if not self.enabled(level):
            return
        try:
            text = msg % args if args else msg
        except (TypeError, ValueError):
            text = f"{msg} {args!r}"
        text = one_line(redact(text, self.secrets))
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e3):03d}Z"
        line = f'time="{stamp}" level={level} pid={os.getpid()} msg="{text}"\n'
        if self.echo is not None:
            self.echo.append(line)
        if self.path is None:
            self.path = self.path_provider() if self.path_provider else ""
        if self.path:
            self._write(line.encode("utf-8", "replace"))

    def _open(self) -> "int | None":
        path = self.path or ""
        if self._broken or not path:
            return None
        if self._fd is None:
            try:
                if self._dir_fd is None:
                    self._dir_fd = self._open_dir(path)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_NOFOLLOW | _O_CLOEXEC
                fd = os.open(self._name, flags | _lean.O_NONBLOCK, 0o600, dir_fd=self._dir_fd)
                st = os.fstat(fd)
                if not _lean.is_regular(st.st_mode):  # a FIFO or a device: never wait on it
                    os.close(fd)
                    self._broken = True
                    return None
                if st.st_mode & 0o077:
                    os.fchmod(fd, 0o600)
                self._fd = fd
            except OSError:
                self._broken = True  # logging must never break a request
                return None
        return self._fd

    def _open_dir(self, path: str) -> int:
        """The log's directory, opened once: every later open, rename and lock is relative to
        it. Under the cache directory (``anchor``) it is reached through the cache's own
        descriptor, so it is always the directory the cache checked."""
        flags = os.O_RDONLY | _lean.O_DIRECTORY | _O_CLOEXEC
        self._name = os.path.basename(path)
        if self.anchor is not None:
            base, sub = self.anchor
            try:
                os.mkdir(sub, 0o700, dir_fd=base)
            except FileExistsError:
                pass
            fd = os.open(sub, flags | _O_NOFOLLOW, dir_fd=base)
            if os.fstat(fd).st_mode & 0o777 != 0o700:
                os.fchmod(fd, 0o700)
            return fd
        parent = os.path.dirname(path) or "."
        if not os.path.isdir(parent):
            from docker_credential_ecr_py._lean.files import makedirs_private

            makedirs_private(parent)
        return os.open(parent, flags)

    def _write(self, data: bytes) -> None:
        fd = self._open()
        if fd is None:
            return
        try:
            if os.fstat(fd).st_size + len(data) > self.max_bytes:
                fd = self._rotate(fd)
                if fd is None:
                    return
            os.write(fd, data)
        except OSError:
            self._broken = True

    def _rotate(self, fd: int) -> "int | None":
        """Rename the full log to ``.1`` under a lock; every writer then reopens by name."""
        import fcntl

        where = self._dir_fd
        name = self._name
        try:
            lock = os.open(
                name + ".lock",
                os.O_RDWR | os.O_CREAT | _O_NOFOLLOW | _O_CLOEXEC,
                0o600,
                dir_fd=where,
            )
        except OSError:
            return fd
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return fd  # another writer is rotating: never wait for it
            try:
                st = os.stat(name, dir_fd=where, follow_symlinks=False)
                mine = os.fstat(fd)
                if (st.st_ino, st.st_dev) == (mine.st_ino, mine.st_dev) and (
                    st.st_size > self.max_bytes // 2
                ):
                    os.replace(name, name + ".1", src_dir_fd=where, dst_dir_fd=where)
            except FileNotFoundError:
                pass
            os.close(fd)
            self._fd = None
            return self._open()
        finally:
            os.close(lock)

    def close(self) -> None:
        """Close the file (and its directory) if open."""
        for fd in (self._fd, self._dir_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._dir_fd = None


def shown(text: str, secrets: "set[str] | frozenset[str]" = frozenset()) -> str:
    """``text`` as it may be shown to a user: secrets redacted, on one line, control characters
    escaped."""
    return one_line(redact(text, secrets), " ")


def stderr_line(
    text: str, secrets: "set[str] | frozenset[str]" = frozenset(), stream: "BinaryIO | None" = None
) -> None:
    """One redacted line on ``stream`` (stderr by default; clients pass it through to the user),
    control characters escaped (``one_line``): text from AWS or a host name cannot move the
    cursor, rewrite the line or fake another one in a CI log."""
    line = shown(text, secrets) + "\n"
    try:
        if stream is None:
            if not hasattr(sys.stderr, "buffer"):  # a library caller's replacement stream
                sys.stderr.write(line)
                return
            sys.stderr.flush()
            stream = sys.stderr.buffer
        # Python's own stderr escapes what UTF-8 cannot carry (lone surrogates) the same way.
        stream.write(line.encode("utf-8", "backslashreplace"))
        stream.flush()
    except (AttributeError, OSError, ValueError):
        pass
