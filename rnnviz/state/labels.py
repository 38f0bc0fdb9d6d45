"""Names for the rows, steps and classes the plots show: characters when the input is a text
(the text preset's one-hot alphabet), else None (the views number them 1, 2, ...). Qt-free."""
from __future__ import annotations

from rnnviz.engine.data import text_alphabet
from rnnviz.state.config import Config

# Characters that would be invisible or break a tick label, shown as visible stand-ins.
VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}


def visible(ch: str) -> str:
    """A character as a tick label shows it (a space as '␣', control characters as their code)."""
    if ch in VISIBLE:
        return VISIBLE[ch]
    if not ch.isprintable():
        return f"U+{ord(ch):04X}"
    return ch


def is_text(config: Config) -> bool:
    """Whether the inputs are the characters of the config's text."""
    return config.input_pattern == "text" and bool(config.text)


def alphabet(config: Config) -> str | None:
    """The text's one-hot alphabet (input row i and, for next/copy targets, class k is its i-th
    character), or None when the input is not a text."""
    return text_alphabet(config.text) if is_text(config) else None


def input_rows(config: Config) -> list[str] | None:
    """The name of each input unit (row of x): its character for text inputs, else None."""
    chars = alphabet(config)
    return None if chars is None else [visible(c) for c in chars]


def classes(config: Config) -> list[str] | None:
    """The name of each output class k: the character it predicts (text input with next or copy
    targets, whose classes are the input's characters), else None."""
    chars = alphabet(config)
    if chars is None or config.target_pattern not in ("next", "copy") or len(chars) != config.n_y:
        return None
    return [visible(c) for c in chars]


def window_start(config: Config, b: int) -> int:
    """Where sequence b starts reading the text (engine.data: sliding windows one apart)."""
    return b % (len(config.text) - config.T + 1)


def steps(config: Config, b: int = 0) -> list[str] | None:
    """The character sequence b reads at each step t = 1..T, or None when the input is no text."""
    if not is_text(config) or config.T > len(config.text):
        return None
    start = window_start(config, b)
    return [visible(c) for c in config.text[start:start + config.T]]


def sentence(config: Config, b: int = 0) -> str | None:
    """The text sequence b reads (as typed), or None when the input is no text."""
    if not is_text(config) or config.T > len(config.text):
        return None
    start = window_start(config, b)
    return config.text[start:start + config.T]
