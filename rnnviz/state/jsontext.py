"""Strict JSON reading for session files and share codes: bounded before it is parsed.

`read(buffer, limits)` refuses, before json.loads builds a single object, a text whose
structure no valid document has: nesting deeper than the format, more objects, lists, values
or string bytes than the largest valid document. It also refuses invalid UTF-8, lone
surrogates (text that cannot be saved again) and duplicate keys, and accepts a UTF-8 BOM.

The structure is scanned on the raw bytes with NumPy, a block at a time (bounded temporaries):
the unescaped quotes delimit the strings (a quote is escaped when an odd run of backslashes
precedes it), and the brackets outside them give the depth. This is exact for valid JSON; for
invalid JSON it may refuse with a structure message where json.loads would have named the
syntax error, which is still a refusal.
"""
from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

BOM = b"\xef\xbb\xbf"
BLOCK = 1 << 22                   # bytes scanned at a time
_QUOTE, _BACKSLASH, _COMMA = 34, 92, 44
_OPEN, _CLOSE = (91, 123), (93, 125)      # [ {   ] }
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


class JSONTextError(ValueError):
    """A text that is not strict, bounded JSON, with a message saying why."""


@dataclass(frozen=True)
class Limits:
    """The most that a valid document of some format holds (each a hard limit)."""
    depth: int            # containers nested in containers: {"a": [1]} nests 2 deep
    objects: int          # {...}
    lists: int            # [...]
    values: int           # commas outside strings (every value but the first of each container)
    quotes: int           # '"' bytes, escaped ones included
    backslashes: int      # '\' bytes
    string_bytes: int     # bytes inside strings, quotes included
    noun: str = "file"    # what a valid document is, for messages: "session file", "share code"


@dataclass(frozen=True)
class Structure:
    """What the scan found (for tests and messages)."""
    depth: int
    objects: int
    lists: int
    values: int
    strings: list[tuple[int, int]]      # (start, end) byte offsets of each string, quotes included


def _line(data, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _too_many(what: str, limit: int, limits: Limits) -> JSONTextError:
    return JSONTextError(f"the JSON holds more {what} than a {limits.noun} can (over {limit:,})")


def _positions(arr: np.ndarray, byte: int, limit: int, what: str, limits: Limits) -> np.ndarray:
    """The offsets of one byte value, refused beyond `limit` of them."""
    found, count = [], 0
    for start in range(0, arr.size, BLOCK):
        block = arr[start:start + BLOCK] == byte
        count += int(np.count_nonzero(block))
        if count > limit:
            raise _too_many(what, limit, limits)
        found.append(np.flatnonzero(block) + start)
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def _strings(arr: np.ndarray, limits: Limits) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of every string: the offsets of its opening and closing quotes."""
    quotes = _positions(arr, _QUOTE, limits.quotes, "quote marks", limits)
    slashes = _positions(arr, _BACKSLASH, limits.backslashes, "backslashes", limits)
    if slashes.size and quotes.size:
        # runs of consecutive backslashes: where each ends and how long it is
        breaks = np.flatnonzero(np.diff(slashes) != 1)
        run_end = np.append(slashes[breaks], slashes[-1])
        run_start = np.insert(slashes[breaks + 1], 0, slashes[0])
        k = np.searchsorted(run_end, quotes - 1)
        k_ok = np.minimum(k, run_end.size - 1)
        after_run = (k < run_end.size) & (run_end[k_ok] == quotes - 1)
        odd = (run_end[k_ok] - run_start[k_ok] + 1) % 2 == 1
        quotes = quotes[~(after_run & odd)]
    starts, ends = quotes[0::2], quotes[1::2]
    if ends.size < starts.size:                  # an unterminated string: json.loads says so
        ends = np.append(ends, arr.size - 1)
    if int(np.sum(ends - starts + 1)) > limits.string_bytes:
        raise _too_many("bytes of text in strings", limits.string_bytes, limits)
    return starts, ends


def scan(data, limits: Limits) -> Structure:
    """The structure of a JSON text (bytes-like), refused as soon as it passes a limit."""
    arr = np.frombuffer(data, dtype=np.uint8)
    starts, ends = _strings(arr, limits)

    def outside(pos: np.ndarray) -> np.ndarray:
        k = np.searchsorted(starts, pos, side="right") - 1
        inside = (k >= 0) & (pos <= ends[np.maximum(k, 0)]) if starts.size else \
            np.zeros(pos.size, bool)
        return pos[~inside]

    depth = max_depth = objects = lists = values = 0
    for start in range(0, arr.size, BLOCK):
        block = arr[start:start + BLOCK]
        values += int(np.count_nonzero(block == _COMMA))
        opens = (block == _OPEN[0]) | (block == _OPEN[1])
        marks = opens | (block == _CLOSE[0]) | (block == _CLOSE[1])
        pos = outside(np.flatnonzero(marks) + start)
        if not pos.size:
            continue
        kinds = arr[pos]
        is_open = (kinds == _OPEN[0]) | (kinds == _OPEN[1])
        objects += int(np.count_nonzero(kinds == _OPEN[1]))
        lists += int(np.count_nonzero(kinds == _OPEN[0]))
        levels = depth + np.cumsum(np.where(is_open, 1, -1), dtype=np.int64)
        deepest = int(levels.argmax())
        if levels[deepest] > limits.depth:
            levels_word = "level" if limits.depth == 1 else "levels"
            raise JSONTextError(f"the JSON nests deeper than a {limits.noun} ever does (at "
                                f"most {limits.depth} {levels_word}; deeper at line "
                                f"{_line(data, int(pos[deepest]))})")
        max_depth, depth = max(max_depth, int(levels[deepest])), int(levels[-1])
        for count, limit, what in ((objects, limits.objects, "objects {...}"),
                                   (lists, limits.lists, "lists [...]")):
            if count > limit:
                raise _too_many(what, limit, limits)
    values -= sum(data.count(b",", s, e + 1) for s, e in zip(starts.tolist(), ends.tolist()))
    if values > limits.values:
        raise _too_many("values", limits.values, limits)
    return Structure(max_depth, objects, lists, values,
                     [(int(s), int(e)) for s, e in zip(starts, ends)])


def _check_utf8(data, limits: Limits) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), BLOCK):
            decoder.decode(view[start:start + BLOCK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise JSONTextError(f"not a text (UTF-8) {limits.noun}: byte {start + exc.start:,} is "
                            f"not UTF-8") from None


def _escape(char: re.Match) -> str:
    return json.dumps(char.group())[1:-1]      # \uXXXX, or a surrogate pair of them


def _check_strings(data, strings: list[tuple[int, int]],
                   limits: Limits) -> list[tuple[int, int, bytes]]:
    """Refuse lone surrogates; the ASCII form of each string holding other characters."""
    replace = []
    for s, e in strings:
        literal = bytes(data[s:e + 1]).decode("utf-8")
        try:
            value, _ = json.decoder.scanstring(literal, 1)
        except json.JSONDecodeError:
            continue                            # json.loads reports it, with its position
        if _SURROGATE.search(value):
            raise JSONTextError(f"line {_line(data, s)} holds text that is not valid Unicode "
                                f"(a lone surrogate such as \\ud800): a {limits.noun} never "
                                f"does, and it could not be saved again")
        if not literal.isascii():
            replace.append((s, e, _NON_ASCII.sub(_escape, literal).encode("ascii")))
    return replace


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise JSONTextError(f"the key {key[:40]!r} appears twice in one object: which one "
                            f"counts would be a guess")
    return out


def _reject_constant(name: str):
    raise JSONTextError(f"it holds {name}, which is not a valid number here")


def read(buffer: bytearray, limits: Limits) -> Any:
    """The JSON document in a buffer, checked as the module docstring says; JSONTextError.

    The buffer is emptied once its text is decoded, so a load holds at most two copies of the
    text at a time. The text is decoded to a str of one byte per character: characters
    outside ASCII (only valid inside strings) are written as their \\u escapes first.
    """
    if buffer[:3] == BOM:
        del buffer[:3]
    if not buffer.isascii():
        _check_utf8(buffer, limits)
    structure = scan(buffer, limits)
    replace = _check_strings(buffer, structure.strings, limits)
    data = buffer
    if replace:
        view, pieces, at = memoryview(buffer), [], 0
        for s, e, ascii_literal in replace:
            pieces += [view[at:s], ascii_literal]
            at = e + 1
        pieces.append(view[at:])
        data = b"".join(pieces)
        del pieces, view
        buffer.clear()
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise JSONTextError(f"not valid JSON: a character outside quotes at line "
                            f"{_line(data, exc.start)}") from None
    buffer.clear()
    del data
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise JSONTextError(f"not valid JSON (the {limits.noun} may be truncated or damaged): "
                            f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except JSONTextError:
        raise
    except (ValueError, RecursionError) as exc:     # e.g. an integer of over 4300 digits
        raise JSONTextError(f"not readable as JSON: {str(exc)[:200]}") from None
