""""Did you mean" suggestions for misspelt names, computed one way everywhere.

A scenario key, a distribution name, a category in a CSV header, a role of a
case-log column: when a name is unknown, the message names the closest known
one. :func:`closest` finds the candidates; :func:`did_you_mean` formats the
usual tail of an error message::

    >>> closest("spede_kmh", ["speed_kmh", "per_grid"])
    ['speed_kmh']
    >>> "unknown key" + did_you_mean("spede_kmh", ["speed_kmh", "per_grid"], style="clause")
    "unknown key; did you mean 'speed_kmh'?"
    >>> "unknown category 'nosie'" + did_you_mean("nosie", ["noise", "litter"])
    "unknown category 'nosie' (did you mean 'noise'?)"
    >>> did_you_mean("zzz", ["noise", "litter"])
    ''

Similarity is :func:`difflib.get_close_matches` (ratio >= ``cutoff``, best
first, ties broken by the larger string), so suggestions are deterministic.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Literal

__all__ = ["Case", "Style", "closest", "did_you_mean"]

#: How letter case is treated (see :func:`closest`).
Case = Literal["sensitive", "exact_first", "fold_fallback"]
#: How :func:`did_you_mean` phrases the suggestion.
Style = Literal["paren", "clause"]


def closest(
    word: object,
    choices: Iterable[str],
    *,
    n: int = 1,
    cutoff: float = 0.6,
    case: Case = "sensitive",
) -> list[str]:
    """Up to ``n`` of ``choices`` close to ``word``, best first (empty if none is close).

    ``cutoff`` is the least :class:`difflib.SequenceMatcher` ratio (0 to 1) a
    choice needs. A ``word`` that is not a string has no suggestions.

    ``case`` chooses how letter case counts:

    * ``"sensitive"``: compare the text as written.
    * ``"exact_first"``: a choice equal to ``word`` but for case is the only
      suggestion (``"Patrol"`` → ``"patrol"``); else as ``"sensitive"``.
    * ``"fold_fallback"``: as ``"sensitive"``; if nothing is close, compare
      lower-cased text and suggest the choice as written (``"SLA_HOURS"`` →
      ``"sla_hours"``).
    """
    if not isinstance(word, str):
        return []
    options = list(choices)
    if case == "exact_first":
        by_lower = {c.lower(): c for c in options}
        if word.lower() in by_lower:
            return [by_lower[word.lower()]]
    close = difflib.get_close_matches(word, options, n=n, cutoff=cutoff)
    if not close and case == "fold_fallback":
        by_lower = {c.lower(): c for c in options}
        close = [by_lower[c] for c in difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=cutoff)]
    return close


def did_you_mean(
    word: object,
    choices: Iterable[str],
    *,
    style: Style = "paren",
    n: int = 1,
    cutoff: float = 0.6,
    case: Case = "sensitive",
) -> str:
    """The tail of an error message suggesting the choices closest to ``word``, or ``""``.

    ``style="paren"`` gives ``" (did you mean 'x'?)"``; ``style="clause"``
    gives ``"; did you mean 'x'?"``. With ``n > 1`` every close choice is named
    (``"; did you mean 'a', 'b'?"``). ``n``, ``cutoff`` and ``case`` are as in
    :func:`closest`.
    """
    close = closest(word, choices, n=n, cutoff=cutoff, case=case)
    if not close:
        return ""
    names = ", ".join(repr(c) for c in close)
    return f" (did you mean {names}?)" if style == "paren" else f"; did you mean {names}?"
