"""What text people may store: the checks every model's validators share.

Bidirectional controls (e.g. U+202E RIGHT-TO-LEFT OVERRIDE) make "fdp.exe" read as "exe.pdf",
and invisible characters (zero-width space, joiner, BOM) make two names that look the same
compare different. A name, title or role is one line of visible text, so neither belongs there.
Free text (descriptions) may hold line breaks and tabs but no other controls and no bidi controls.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
INVISIBLE = frozenset(
    "\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u2060"
    "\u2061\u2062\u2063\u2064\u3164\ufeff\uffa0"
)


# C0 and C1 controls (and, in one line, the Unicode line and paragraph separators); free
# text keeps tab, line feed and carriage return.
_CONTROL_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _hidden(c: str) -> bool:
    # Cf (format) covers the bidi and zero-width characters and any added in later Unicode.
    return c in BIDI_CONTROLS or c in INVISIBLE or unicodedata.category(c) == "Cf"


def _any_hidden(value: str) -> bool:
    # No ASCII character is hidden; otherwise each distinct character is looked at once.
    return not value.isascii() and any(_hidden(c) for c in set(value))


def single_line(value: str) -> str:
    """One line of visible text, trimmed; raises ValueError (pydantic shows the message)."""
    if _CONTROL_IN_LINE.search(value):
        raise ValueError("must be a single line without control characters")
    if _any_hidden(value):
        raise ValueError("must not contain invisible or text-direction characters")
    return value.strip()


def free_text(value: str) -> str:
    """Paragraphs: line breaks and tabs allowed; other controls and hidden characters not."""
    if _CONTROL_IN_TEXT.search(value):
        raise ValueError("must not contain control characters")
    if _any_hidden(value):
        raise ValueError("must not contain invisible or text-direction characters")
    return value


def look_alike_key(text: str) -> str:
    """A key under which names that look alike collide: NFKC, case-folded, accents and spaces
    dropped, and the Cyrillic and Greek letters that look Latin mapped to them."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text)).casefold()
    plain = "".join(c for c in folded if not unicodedata.combining(c) and not c.isspace())
    return plain.translate(_CONFUSABLE)


_CONFUSABLE = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ѡ": "w",
        "ɑ": "a",
        "ı": "i",
        "ℓ": "l",
        "0": "o",
        "1": "l",
    }
)
