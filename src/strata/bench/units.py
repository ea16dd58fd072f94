"""Human units on the command line ("4KiB", "15s") to numbers, and back for reports."""

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1000,
    "kib": 1024,
    "ki": 1024,
    "m": 1024**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "mi": 1024**2,
    "g": 1024**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "gi": 1024**3,
    "t": 1024**4,
    "tb": 1000**4,
    "tib": 1024**4,
    "ti": 1024**4,
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)?", re.IGNORECASE)
_DURATION_FACTORS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "": 1.0}


def parse_size(text: str) -> int:
    """Bytes from "4KiB", "1MiB", "256m", "4096". Bare K/M/G are binary, as in `dd`."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r}")
    number, unit = match.group(1), (match.group(2) or "").lower()
    if unit not in _SIZE_FACTORS:
        raise ValueError(f"unknown size unit in {text!r}")
    value = float(number) * _SIZE_FACTORS[unit]
    if value != int(value) or value < 0:
        raise ValueError(f"size must be a whole number of bytes: {text!r}")
    return int(value)


def parse_duration(text: str) -> float:
    """Seconds from "15s", "500ms", "2m", "1m30s" or a bare number of seconds."""
    text = text.strip()
    total, position = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_FACTORS[(match.group(2) or "").lower()]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"not a duration: {text!r}")
    return total


def format_size(size_bytes: int) -> str:
    """The shortest exact binary spelling: 4096 -> "4KiB", 1000 -> "1000B"."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size_bytes >= factor and size_bytes % factor == 0:
            return f"{size_bytes // factor}{unit}"
    return f"{size_bytes}B"
