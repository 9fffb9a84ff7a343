"""What ``GET /v1/clients?q=`` matches, defined once: a card's search terms, and a query's words.

A card's terms (all lower-cased):
- each word of its name and of its username (split at spaces), and each run of letters and
  digits inside such a word (``anne-marie`` gives ``anne-marie``, ``anne`` and ``marie``;
  ``@ann_x`` gives ``@ann_x``, ``ann`` and ``x``);
- its e-mail address whole, its local part (before ``@``), and the runs of letters and
  digits of the local part;
- the digits of its phone, and every ending of them (so any digits of the number match);
- each of its tags whole, and each word of a tag.

``q`` is split at spaces into words; a card matches when every word is the beginning of one
of its terms (any case). A word made only of digits and ``+ - ( ) .`` (a phone as people
write it) also matches by its digits alone. ``%`` and ``_`` are plain characters.

The terms live in a table of their own, ``(term, client_id)`` in the C collation, so that a
btree serves "begins with" as a range scan on plain PostgreSQL (no pg_trgm needed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_RUNS = re.compile(r"[^\W_]+")  # letters and digits (any script), without the underscore
_PHONE_LIKE = re.compile(r"^[0-9+\-().]*[0-9][0-9+\-().]*$")
MAX_WORDS = 8  # words of ``q`` that count (the API limits ``q`` to 200 characters)
MAX_TERM = 200  # longer terms are cut (the btree's entries stay small)


def _words(text: str) -> Iterable[str]:
    for word in text.lower().split():
        yield word
        runs = _RUNS.findall(word)
        if runs != [word]:
            yield from runs


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def digits(text: str) -> str:
    return "".join(c for c in text if c.isascii() and c.isdigit())


def terms_of(profile: dict[str, Any], tags: Iterable[str]) -> set[str]:
    """A card's search terms (see the module's docstring)."""
    found: set[str] = set()
    for field in ("name", "username"):
        found.update(_words(_text(profile.get(field))))
    email = _text(profile.get("email")).lower().strip()
    if email:
        local = email.rpartition("@")[0] or email
        found.update((email, local, *_RUNS.findall(local)))
    number = digits(_text(profile.get("phone")))
    found.update(number[start:] for start in range(len(number)))
    for tag in tags:
        found.add(tag.lower())
        found.update(tag.lower().split())
    return {term[:MAX_TERM] for term in found if term}


def query_words(q: str) -> list[list[str]]:
    """For each word of ``q``: the beginnings it matches by (itself; for a phone-like word,
    its digits too)."""
    words = []
    for word in q.lower().split()[:MAX_WORDS]:
        ways = [word[:MAX_TERM]]
        if _PHONE_LIKE.match(word) and digits(word) != word:
            ways.append(digits(word))
        words.append(ways)
    return words


def like_prefix(word: str) -> str:
    """``word%`` for LIKE, with ``\\``, ``%`` and ``_`` taken literally."""
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
