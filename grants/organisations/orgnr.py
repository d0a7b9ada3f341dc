"""Swedish organisation numbers (organisationsnummer): 10 digits, the last a Luhn check digit."""

from __future__ import annotations

import re

_SHAPE = re.compile(r"^\d{6}-?\d{4}$")


def luhn_check_digit(nine_digits: str) -> int:
    """The Luhn check digit for the first nine digits (weights 2,1,2,1,... from the left)."""
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def normalise(value: str) -> str:
    """'212000-0142' or '2120000142' → '212000-0142'. Raises ValueError when invalid."""
    cleaned = (value or "").strip().replace(" ", "")
    if not _SHAPE.match(cleaned):
        raise ValueError("shape")
    digits = cleaned.replace("-", "")
    if luhn_check_digit(digits[:9]) != int(digits[9]):
        raise ValueError("check digit")
    return f"{digits[:6]}-{digits[6:]}"


def is_valid(value: str) -> bool:
    try:
        normalise(value)
    except ValueError:
        return False
    return True


def make_fictional(seed: int) -> str:
    """A valid-looking number for demo data, in the 80xxxx range Skatteverket gives to
    foundations and associations; the caller marks such data as fictional."""
    nine = f"80{seed % 10_000_000:07d}"
    return normalise(nine + str(luhn_check_digit(nine)))
