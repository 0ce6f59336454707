"""Memory sizes as people write them, and back.

In: a size such as ``"24GiB"``, ``"24GB"``, ``"80 GiB"``, ``"512MiB"`` or a byte count.
Out: bytes (``parse_memory_size``), or a short human text (``format_bytes``). Pure.
"""

from __future__ import annotations

import re

from zero_llm.errors import ConfigurationError

__all__ = ["format_bytes", "parse_memory_size"]

_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_memory_size(value: str | int | float, *, what: str = "memory size") -> int:
    """Turn ``"24GiB"`` / ``"24GB"`` / ``"80 GiB"`` / a byte count into bytes.

    Decimal units (kB, MB, GB, TB) are powers of 1000, binary ones (KiB, MiB, GiB, TiB)
    powers of 1024, as on a GPU's box and in ``nvidia-smi`` respectively.

    Raises:
        ConfigurationError: the value is not a positive size; the message names it.
    """
    if isinstance(value, bool):
        raise ConfigurationError(f"{what} {value!r} is not a size (use e.g. '24GiB' or bytes)")
    if isinstance(value, int | float):
        if value <= 0:
            raise ConfigurationError(f"{what} {value!r} must be a positive number of bytes")
        return int(value)
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None or match.group(2).casefold() not in _UNITS:
        raise ConfigurationError(
            f"{what} {value!r} is not a size: write a number and a unit such as "
            "'24GiB', '24GB', '512MiB', or a plain byte count"
        )
    size = int(float(match.group(1)) * _UNITS[match.group(2).casefold()])
    if size <= 0:
        raise ConfigurationError(f"{what} {value!r} must be more than zero bytes")
    return size


def format_bytes(size: int | None) -> str:
    """Write a byte count the way ``zero-llm models`` shows it (``"18.5 GiB"``)."""
    if size is None:
        return "unlimited"
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(size) >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"
