"""Go's ``encoding/json`` syntax checking, for byte-exact ``store`` error messages.

A port of the state machine in Go's ``encoding/json/scanner.go`` as ``json.Decoder`` drives it:
it finds the end of the first JSON value in a byte string, or the exact error Go reports
(``invalid character 'x' after object key``, ``unexpected EOF``, ``EOF``). Only ``store`` uses it,
on input the Docker CLI sends when ``docker login`` succeeds; it is never on the ``get`` path.
"""

from __future__ import annotations

from collections.abc import Callable

_SPACE = b" \t\r\n"
_DIGITS = b"0123456789"
_HEX = b"0123456789abcdefABCDEF"
_MAX_DEPTH = 10000

_OBJECT_KEY, _OBJECT_VALUE, _ARRAY_VALUE = 0, 1, 2


class GoSyntaxError(ValueError):
    """The text Go's decoder would return."""


def quote_char(c: int) -> str:
    """Go's ``quoteChar``: the byte as a Latin-1 rune, quoted with ``strconv.Quote`` rules."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    ch = chr(c)
    short = {0x07: "\\a", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}
    if c in short:
        return "'" + short[c] + "'"
    if c == 0x0B:
        return "'\\v'"
    if c == 0x5C:
        return "'\\\\'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    if c < 0x80 or ch.isprintable():
        return "'" + ch + "'"
    return f"'\\u{c:04x}'"


class _Scanner:
    def __init__(self) -> None:
        self.stack: list[int] = []
        self.step: Callable[[int], None] = self.begin_value
        self.pos = 0
        self.end: int | None = None  # where the first value ends, once known

    def error(self, c: int, context: str) -> None:
        raise GoSyntaxError(f"invalid character {quote_char(c)} {context}")

    # values
    def begin_value_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x5D:  # ]
            self.end_value(c)
            return
        self.begin_value(c)

    def begin_value(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x7B:  # {
            self.push(_OBJECT_KEY)
            self.step = self.begin_string_or_empty
        elif c == 0x5B:  # [
            self.push(_ARRAY_VALUE)
            self.step = self.begin_value_or_empty
        elif c == 0x22:
            self.step = self.in_string
        elif c == 0x2D:  # -
            self.step = self.neg
        elif c == 0x30:
            self.step = self.zero
        elif c == 0x74:
            self.step = self.literal("true", 1)
        elif c == 0x66:
            self.step = self.literal("false", 1)
        elif c == 0x6E:
            self.step = self.literal("null", 1)
        elif 0x31 <= c <= 0x39:
            self.step = self.one
        else:
            self.error(c, "looking for beginning of value")

    def push(self, kind: int) -> None:
        self.stack.append(kind)
        if len(self.stack) > _MAX_DEPTH:
            raise GoSyntaxError("exceeded max depth")

    def begin_string_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x7D:  # }
            self.stack[-1] = _OBJECT_VALUE
            self.end_value(c)
            return
        self.begin_string(c)

    def begin_string(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x22:
            self.step = self.in_string
            return
        self.error(c, "looking for beginning of object key string")

    def end_value(self, c: int) -> None:
        if not self.stack:
            self.end = self.pos  # a number ends before the byte that ends it
            return
        if c in _SPACE:
            self.step = self.end_value
            return
        top = self.stack[-1]
        if top == _OBJECT_KEY:
            if c == 0x3A:  # :
                self.stack[-1] = _OBJECT_VALUE
                self.step = self.begin_value
                return
            self.error(c, "after object key")
        elif top == _OBJECT_VALUE:
            if c == 0x2C:  # ,
                self.stack[-1] = _OBJECT_KEY
                self.step = self.begin_string
                return
            if c == 0x7D:
                self.pop()
                return
            self.error(c, "after object key:value pair")
        else:
            if c == 0x2C:
                self.step = self.begin_value
                return
            if c == 0x5D:
                self.pop()
                return
            self.error(c, "after array element")

    def pop(self) -> None:
        self.stack.pop()
        self.step = self.end_value
        if not self.stack:
            self.end = self.pos + 1  # the closing bracket ends a top-level value

    # strings
    def in_string(self, c: int) -> None:
        if c == 0x22:
            self.step = self.end_value
            if not self.stack:
                self.end = self.pos + 1
        elif c == 0x5C:
            self.step = self.in_string_esc
        elif c < 0x20:
            self.error(c, "in string literal")

    def in_string_esc(self, c: int) -> None:
        if c in b'bfnrt\\/"':
            self.step = self.in_string
        elif c == 0x75:  # u
            self.step = self.esc_u(4)
        else:
            self.error(c, "in string escape code")

    def esc_u(self, left: int) -> Callable[[int], None]:
        def step(c: int) -> None:
            if c not in _HEX:
                self.error(c, "in \\u hexadecimal character escape")
            self.step = self.esc_u(left - 1) if left > 1 else self.in_string

        return step

    # numbers
    def neg(self, c: int) -> None:
        if c == 0x30:
            self.step = self.zero
        elif 0x31 <= c <= 0x39:
            self.step = self.one
        else:
            self.error(c, "in numeric literal")

    def one(self, c: int) -> None:
        if c in _DIGITS:
            return
        self.zero(c)

    def zero(self, c: int) -> None:
        if c == 0x2E:  # .
            self.step = self.dot
        elif c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def dot(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.dot0
        else:
            self.error(c, "after decimal point in numeric literal")

    def dot0(self, c: int) -> None:
        if c in _DIGITS:
            return
        if c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def exp(self, c: int) -> None:
        if c in b"+-":
            self.step = self.exp_sign
            return
        self.exp_sign(c)

    def exp_sign(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.exp0
        else:
            self.error(c, "in exponent of numeric literal")

    def exp0(self, c: int) -> None:
        if c in _DIGITS:
            return
        self.end_value(c)

    # literals
    def literal(self, word: str, index: int) -> Callable[[int], None]:
        def step(c: int) -> None:
            expected = word[index]
            if c != ord(expected):
                self.error(c, f"in literal {word} (expecting {quote_char(ord(expected))})")
            self.step = self.literal(word, index + 1) if index + 1 < len(word) else self.end_value
            if index + 1 == len(word) and not self.stack:
                self.end = self.pos + 1

        return step


def first_value(data: bytes) -> bytes:
    """The first JSON value in ``data`` as Go's ``Decoder.Decode`` reads it, or GoSyntaxError.

    Bytes after the value are not looked at, as with Go's decoder.
    """
    start = 0
    while start < len(data) and data[start] in _SPACE:
        start += 1
    if start == len(data):
        raise GoSyntaxError("EOF")
    scanner = _Scanner()
    for index in range(start, len(data)):
        scanner.pos = index
        scanner.step(data[index])
        if scanner.end is not None:
            return data[start : scanner.end]
    scanner.pos = len(data)
    try:
        scanner.step(0x20)  # at EOF Go's decoder feeds a space: it ends a number
    except GoSyntaxError:
        pass  # Go ignores this step's error and reports the truncation
    if scanner.end is not None:
        return data[start : scanner.end]
    raise GoSyntaxError("unexpected EOF")
