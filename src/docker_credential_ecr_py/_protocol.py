"""The docker-credential-helpers wire format, byte for byte as the Go library speaks it.

Only the standard library's C modules are used here: this module is on the cache-hit path, where
``import json`` (which pulls in ``re``) would cost more than the Go helper's whole run.
"""

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import BinaryIO

NAME = "docker-credential-ecr-login"
PACKAGE = "docker-credential-ecr-py"
USAGE = f"Usage: {NAME} <store|get|erase|list|version>"
# The kubelet's image credential provider (``_kubelet``): the program under this name (a link),
# or this first argument.
KUBELET_NAME = "ecr-credential-provider"
KUBELET_COMMAND = "kubelet-credential-provider"

# Exact messages of github.com/docker/docker-credential-helpers/credentials/error.go.
NOT_FOUND = "credentials not found in native keychain"
MISSING_SERVER_URL = "no credentials server URL"
MISSING_USERNAME = "no credentials username"
NOT_IMPLEMENTED = "not implemented"
TOKEN_TOO_LONG = "bufio.Scanner: token too long"


def write_answer(
    stdout: "BinaryIO", data: bytes, stderr: "BinaryIO | None" = None, program: str = NAME
) -> bool:
    """Write an answer to stdout; ``False`` (after one line on stderr) when it could not be
    delivered. A reader that went away (a broken pipe) is no failure: nothing could act on it."""
    try:
        stdout.write(data)
        stdout.flush()
        return True
    except BrokenPipeError:
        return True
    except (OSError, ValueError) as err:
        from docker_credential_ecr_py._log import stderr_line

        why = getattr(err, "strerror", None) or str(err)
        stderr_line(f"{program}: cannot write the answer to stdout: {why}", stream=stderr)
        return False


def _error(line: str) -> Exception:
    """A ``ProtocolError`` (imported only when there is one: it is not on the hit path)."""
    from docker_credential_ecr_py._errors import ProtocolError

    return ProtocolError(line)


# bufio.MaxScanTokenSize: a line (without its "\n") this long or longer fails the Go scanner.
# stdin is read in pieces of this size, so a line that starts and ends inside one piece is shorter:
# only the line a piece continues and the one it leaves open need measuring.
MAX_LINE = 64 * 1024

GLUED_MAX = 1024 * 1024
"""The most glued input held. Longer is answered ``bufio.Scanner: token too long`` (exit 1).

Go holds all of stdin, but a real server URL or ``store`` payload is a few KiB: this bound keeps
a runaway input (100 MB, say) to the memory of a normal call, and the answer is Go's own line for
input too long to hold, one answer for every verb whichever limit is met first. The length counts
each run of ASCII whitespace at either end as its distinct bytes (in order of first appearance),
all that ``strings.TrimSpace`` (it drops them) and Go's JSON decoder see of such a run: a host
followed by any number of blank or space-only lines still gets exactly Go's answer.
"""

_ASCII_SPACE = b"\t\n\v\f\r "

# unicode.IsSpace, which strings.TrimSpace uses: narrower than str.isspace (no \x1c-\x1f).
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def read_lines(stream: "BinaryIO") -> bytes:
    """Read stdin as ``bufio.Scanner`` with ``ScanLines`` does, gluing the lines together.

    Each line loses its ``\\n`` and one trailing ``\\r``. A line of 64 KiB or more (counted without
    its ``\\n``) stops the scan with Go's ``token too long`` error as soon as it is that long.
    stdin is read ``MAX_LINE`` bytes at a time; glued input longer than ``GLUED_MAX`` (1 MiB, the
    whitespace at its ends aside) stops the read with the same error, and whitespace runs at the
    ends of a longer input come back squeezed.
    """
    piece = stream.read(MAX_LINE)
    more = stream.read(MAX_LINE) if piece else b""
    if more:
        return _read_long(stream, [more, piece])
    # All of stdin in one piece (the usual case, kept fast): only a piece of MAX_LINE bytes
    # without "\n" holds a line that long, and it is shorter than GLUED_MAX.
    if len(piece) >= MAX_LINE and b"\n" not in piece:
        raise _error(TOKEN_TOO_LONG)
    if b"\r" in piece:
        piece = piece.replace(b"\r\n", b"\n")
        if piece.endswith(b"\r"):
            piece = piece[:-1]  # ScanLines drops the last line's "\r" at EOF too
    return piece.replace(b"\n", b"")


def _read_long(stream: "BinaryIO", pieces: "list[bytes]") -> bytes:
    """``read_lines`` for input that takes more than one read: ``pieces`` are the first reads,
    last one first; the rest is read as the lines are checked and glued."""
    glued = bytearray()
    line = 0  # bytes of the line being read, so far ("\r" included)
    cr = False  # the last piece ended in "\r": it ends its line if "\n" (or EOF) follows
    tail = -1  # where a squeezed whitespace run after content starts in ``glued``
    while True:
        piece = pieces.pop() if pieces else stream.read(MAX_LINE)
        if not piece:
            return bytes(glued)  # a held "\r" ends the last line: ScanLines drops it at EOF too
        nl = piece.find(b"\n")
        if nl < 0:
            line += len(piece)
        else:
            if line + nl >= MAX_LINE:
                raise _error(TOKEN_TOO_LONG)
            line = len(piece) - 1 - piece.rfind(b"\n")
        if line >= MAX_LINE:
            raise _error(TOKEN_TOO_LONG)
        if cr:
            piece = b"\r" + piece
        cr = piece.endswith(b"\r")
        if cr:
            piece = piece[:-1]
        if b"\r" in piece:
            piece = piece.replace(b"\r\n", b"\n")
        piece = piece.translate(None, b"\n")
        if tail >= 0:
            if piece and not piece.isspace():
                raise _error(TOKEN_TOO_LONG)  # content after squeezed whitespace
            glued[tail:] = _distinct(glued[tail:] + piece)
        else:
            glued += piece
            if len(glued) > GLUED_MAX:
                tail = _squeeze(glued)
        if len(glued) > GLUED_MAX:
            raise _error(TOKEN_TOO_LONG)


def _squeeze(glued: bytearray) -> int:
    """Squeeze the ASCII whitespace runs at the ends of ``glued`` (see ``GLUED_MAX``) as far as
    needed; where a squeezed run after content starts, or -1."""
    if glued.isspace():
        glued[:] = _distinct(glued)
        return -1
    if glued[0] in _ASCII_SPACE:
        start = len(glued) - len(glued.lstrip(_ASCII_SPACE))
        glued[:start] = _distinct(glued[:start])
    if len(glued) <= GLUED_MAX or glued[-1] not in _ASCII_SPACE:
        return -1
    end = len(glued.rstrip(_ASCII_SPACE))
    glued[end:] = _distinct(glued[end:])
    return end


def _distinct(run: "bytes | bytearray") -> bytes:
    """The bytes of a whitespace run, each once, in order of first appearance."""
    firsts = sorted((i, c) for c in _ASCII_SPACE if (i := run.find(c)) >= 0)
    return bytes(c for _, c in firsts)


def decode(raw: bytes) -> str:
    """Bytes to str keeping invalid UTF-8 as lone surrogates (re-encoded as Go would)."""
    return raw.decode("utf-8", "surrogateescape")


def read_server_url(stream: "BinaryIO") -> str:
    """The ``get``/``erase`` payload: all lines glued, then ``strings.TrimSpace``."""
    url = decode(read_lines(stream)).strip(_GO_SPACE)
    if not url:
        raise _error(MISSING_SERVER_URL)
    return url


_HEX = "0123456789abcdef"
_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _escape_char(ch: str) -> str:
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"  # invalid UTF-8: Go writes the escape, one per bad byte
    return "\\u00" + _HEX[code >> 4] + _HEX[code & 0xF] if code < 0x20 else f"\\u{code:04x}"


_NEEDS_ESCAPE = frozenset('"\\<>&\u2028\u2029') | frozenset(chr(c) for c in range(0x20))


def go_string(text: str) -> str:
    """A JSON string literal exactly as Go's ``encoding/json`` writes it (HTML-safe, raw UTF-8)."""
    if text.isascii() and _NEEDS_ESCAPE.isdisjoint(text):
        return '"' + text + '"'
    parts = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _NEEDS_ESCAPE or 0xD800 <= code <= 0xDFFF:
            parts.append(_escape_char(ch))
        else:
            parts.append(ch)
    parts.append('"')
    return "".join(parts)


def encode_credentials(server_url: str, username: str, secret: str) -> bytes:
    """``json.NewEncoder(w).Encode(Credentials{...})``: compact, fixed key order, final newline."""
    body = (
        '{"ServerURL":'
        + go_string(server_url)
        + ',"Username":'
        + go_string(username)
        + ',"Secret":'
        + go_string(secret)
        + "}\n"
    )
    return body.encode("utf-8")


def encode_string_map(mapping: "Mapping[str, str]") -> bytes:
    """``Encode(map[string]string)``: keys sorted bytewise, ``{}`` when empty, trailing newline."""
    keys = sorted(mapping, key=lambda k: k.encode("utf-8", "surrogateescape"))
    items = ",".join(go_string(k) + ":" + go_string(mapping[k]) for k in keys)
    return ("{" + items + "}\n").encode("utf-8")


class StoreRequest:
    """The decoded ``store`` payload."""

    __slots__ = ("secret", "server_url", "username")

    def __init__(self, server_url: str, username: str, secret: str) -> None:
        self.server_url = server_url
        self.username = username
        self.secret = secret


def read_store_request(stream: "BinaryIO") -> "StoreRequest":
    """Decode ``store`` input as ``json.NewDecoder(...).Decode(&Credentials{})`` does.

    Field names match case-insensitively, the last duplicate wins, unknown fields are ignored,
    only the first JSON value is read. Errors carry Go's message text where it is predictable.
    """
    import json

    from docker_credential_ecr_py._lean.gojson import GoSyntaxError, first_value

    try:
        raw = first_value(read_lines(stream))
    except GoSyntaxError as err:
        raise _error(str(err)) from None
    # Syntax is Go-checked; Python decodes the value (Go too replaces invalid UTF-8 with U+FFFD).
    value = json.loads(raw.decode("utf-8", "replace"), object_pairs_hook=_Object)
    if value is None:
        value = _Object()  # Go: decoding null into a struct leaves it unchanged
    if not isinstance(value, _Object):
        kind = _go_type_name(value)
        raise _error(f"json: cannot unmarshal {kind} into Go value of type credentials.Credentials")
    fields = {"serverurl": "", "username": "", "secret": ""}
    names = {"serverurl": "ServerURL", "username": "Username", "secret": "Secret"}
    for key, item in value:
        folded = key.casefold()  # Go matches field names with Unicode case folding
        if folded not in fields:
            continue
        if item is None:
            continue  # JSON null leaves a Go string unchanged
        if not isinstance(item, str):
            raise _error(
                f"json: cannot unmarshal {_go_type_name(item)} into Go struct field "
                f"Credentials.{names[folded]} of type string"
            )
        fields[folded] = item
    if not fields["serverurl"]:
        raise _error(MISSING_SERVER_URL)
    if not fields["username"]:
        raise _error(MISSING_USERNAME)
    return StoreRequest(fields["serverurl"], fields["username"], fields["secret"])


class _Object(list[tuple[str, object]]):
    """A decoded JSON object as its (key, value) pairs, told apart from a JSON array."""


def _go_type_name(value: object) -> str:
    if isinstance(value, _Object):
        return "object"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
