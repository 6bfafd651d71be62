"""JSON from strangers: bounded nesting, bounded numbers, and errors that quote little.

Python's parser recurses once per level and gives up near 1,000 with a ``RecursionError``;
it refuses integers over 4,300 digits with a ``ValueError``; both are bugs waiting as 500s.
Label Studio's bodies nest a dozen levels and carry ids of a few digits, so anything far
beyond that is refused here with a 400 before it is parsed. Error messages quote at most a
short prefix of what was sent: a 50 MB value must not come back in a 50 MB answer or log line.
"""

from __future__ import annotations

import json
import re
from typing import Any

from backend.errors import BadRequest

#: Deepest nesting of objects and arrays accepted (Label Studio's bodies use about 10).
MAX_DEPTH = 64
#: Longest integer or number literal accepted, in characters.
MAX_NUMBER_CHARS = 40
#: Characters of a bad value quoted back in an error message.
QUOTE_CHARS = 60
_OPEN_OR_CLOSE_OR_QUOTE = re.compile(rb'[\[\]{}"\\]')


def brief(value: Any, limit: int = QUOTE_CHARS) -> str:
    """``repr`` of ``value``, cut to ``limit`` characters (with how much was left out)."""
    text = repr(value) if not isinstance(value, str) else repr(value[: limit + 1])
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(value) if isinstance(value, str | bytes) else 'more'} characters)"


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings, found without parsing.

    Only brackets, quotes and backslashes are visited, so a body of long texts scans fast.
    """
    depth = deepest = 0
    in_string = False
    escaped_until = -1
    for match in _OPEN_OR_CLOSE_OR_QUOTE.finditer(raw):
        at, char = match.start(), match.group()
        if at < escaped_until:
            continue  # the character after a backslash inside a string
        if in_string:
            if char == b"\\":
                escaped_until = at + 2
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif char in (b"]", b"}"):
            depth -= 1
    return deepest


def _number(text: str) -> float | int:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest(f"a number in the JSON body has {len(text)} characters; at most {MAX_NUMBER_CHARS} "
                         "are accepted")
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


def loads(raw: bytes | str, what: str = "the request body") -> Any:
    """Parse ``raw`` as JSON within the limits above, or raise :class:`BadRequest` saying why."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not data.strip():
        raise BadRequest(f"{what} is empty; send a JSON object")
    depth = nesting_depth(data)
    if depth > MAX_DEPTH:
        raise BadRequest(f"{what} nests {depth} levels deep; at most {MAX_DEPTH} are accepted")
    try:
        return json.loads(data, parse_int=_number, parse_float=_number, parse_constant=_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON in {what}: {brief(str(exc), 120)}") from None
    except (ValueError, RecursionError):
        raise BadRequest(f"{what} holds a value this service cannot read; send plain JSON") from None


def _constant(name: str) -> Any:
    raise BadRequest(f"{name} is not JSON; send numbers as numbers")
