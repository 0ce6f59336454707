"""Stored or typed text made safe for a terminal: no control sequences get through.

In: any text (a stored message, a session title, a typed line). Out: the same text with
every escape sequence (CSI such as colours and cursor moves, OSC such as a window title,
and the rest) and every control character but newline and tab removed. Pure.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

_ESCAPES = re.compile(
    r"""
    \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?      # OSC ... BEL or ST (window title, hyperlinks)
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?          # DCS, SOS, PM, APC ... ST
    | \x1b\[[0-?]*[ -/]*[@-~]                # CSI: colours, cursor moves, erasing
    | \x1b[ -/]*[0-~]                        # two-byte escapes (charset, keypad, ...)
    | \x9b[0-?]*[ -/]*[@-~]                  # 8-bit CSI
    | \x9d[^\x07\x9c]*(?:\x07|\x9c)?         # 8-bit OSC
    """,
    re.VERBOSE,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without escape sequences or control characters (newline and tab kept)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))
