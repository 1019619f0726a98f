"""JSON decoding through CPython's C scanner without importing ``json`` (which imports ``re``).

Used on the cache-hit path; error paths may import ``json.decoder`` lazily, which is fine.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_json: Any
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


_scan: Any = _json.make_scanner(_Context()) if _json is not None else None
_WS = " \t\n\r"


class DecodeError(ValueError):
    """The text is not exactly one JSON value."""


def loads(text: str) -> Any:
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


def _slow_loads(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise DecodeError("JSON nested too deeply") from None
    except ValueError as err:
        raise DecodeError(str(err)) from None
