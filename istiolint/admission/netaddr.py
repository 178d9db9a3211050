"""IP address and CIDR parsing with the acceptance rules and error texts of Go's ``net/netip``.

Python's :mod:`ipaddress` differs from Go in details that matter here (netmask-style prefixes,
prefix lengths with leading zeros or signs, zone handling), so the grammar is implemented
directly: dotted-quad IPv4 without leading zeros, IPv6 with at most one ``::``, an optional
embedded IPv4 tail and an optional non-empty ``%zone``.
"""

from __future__ import annotations

from dataclasses import dataclass

from istiolint.admission.golang import quote


@dataclass(frozen=True)
class ParsedAddr:
    version: int  # 4 or 6
    zone: str


class AddrError(ValueError):
    """A ``netip.ParseAddr`` failure; ``str()`` is Go's message."""


def _addr_error(whole: str, reason: str, at: str = "") -> AddrError:
    text = f"ParseAddr({quote(whole)}): {reason}"
    if at:
        text += f" (at {quote(at)})"
    return AddrError(text)


def _check_ipv4_fields(whole: str, start: int, end: int) -> None:
    """Validate ``whole[start:end]`` as four dotted decimal octets, raising Go's errors."""
    part = whole[start:end]
    value = 0
    digits = 0
    dots = 0
    for index, char in enumerate(part):
        if "0" <= char <= "9":
            if digits == 1 and value == 0:
                raise _addr_error(whole, "IPv4 field has octet with leading zero")
            value = value * 10 + int(char)
            digits += 1
            if value > 255:
                raise _addr_error(whole, "IPv4 field has value >255")
        elif char == ".":
            if index == 0 or index == len(part) - 1 or part[index - 1] == ".":
                raise _addr_error(whole, "IPv4 field must have at least one digit", part[index:])
            if dots == 3:
                raise _addr_error(whole, "IPv4 address too long")
            dots += 1
            value = 0
            digits = 0
        else:
            raise _addr_error(whole, "unexpected character", part[index:])
    if dots < 3:
        raise _addr_error(whole, "IPv4 address too short")


_HEX = "0123456789abcdefABCDEF"


def _check_ipv6(whole: str) -> str:
    """Validate an IPv6 address (optionally with a zone); return the zone."""
    text = whole
    zone = ""
    if "%" in text:
        text, zone = text.split("%", 1)
        if not zone:
            raise _addr_error(whole, "zone must be a non-empty string")
    filled = 0  # bytes of the 16-byte address produced so far
    ellipsis = -1
    if text.startswith("::"):
        ellipsis = 0
        text = text[2:]
        if not text:
            return zone
    while filled < 16:
        count = 0
        accumulated = 0
        while count < len(text) and text[count] in _HEX:
            accumulated = accumulated * 16 + int(text[count], 16)
            if count > 3:
                raise _addr_error(whole, "each group must have 4 or less digits", text)
            if accumulated > 0xFFFF:
                raise _addr_error(whole, "IPv6 field has value >=2^16", text)
            count += 1
        if count == 0:
            raise _addr_error(
                whole, "each colon-separated field must have at least one digit", text
            )
        if count < len(text) and text[count] == ".":
            if ellipsis < 0 and filled != 12:
                raise _addr_error(
                    whole,
                    "embedded IPv4 address must replace the final 2 fields of the address",
                    text,
                )
            if filled + 4 > 16:
                raise _addr_error(
                    whole,
                    "too many hex fields to fit an embedded IPv4 at the end of the address",
                    text,
                )
            end = len(whole) - (len(zone) + 1 if zone else 0)
            _check_ipv4_fields(whole, end - len(text), end)
            text = ""
            filled += 4
            break
        filled += 2
        text = text[count:]
        if not text:
            break
        if text[0] != ":":
            raise _addr_error(whole, "unexpected character, want colon", text)
        if len(text) == 1:
            raise _addr_error(whole, "colon must be followed by more characters", text)
        text = text[1:]
        if text[0] == ":":
            if ellipsis >= 0:
                raise _addr_error(whole, "multiple :: in address", text)
            ellipsis = filled
            text = text[1:]
            if not text:
                break
    if text:
        raise _addr_error(whole, "trailing garbage after address", text)
    if filled < 16:
        if ellipsis < 0:
            raise _addr_error(whole, "address string too short")
    elif ellipsis >= 0:
        raise _addr_error(whole, "the :: must expand to at least one field of zeros")
    return zone


def parse_addr(text: str) -> ParsedAddr:
    """Go's ``netip.ParseAddr``; raises :class:`AddrError` with Go's message."""
    for char in text:
        if char == ".":
            _check_ipv4_fields(text, 0, len(text))
            return ParsedAddr(4, "")
        if char == ":":
            return ParsedAddr(6, _check_ipv6(text))
        if char == "%":
            raise _addr_error(text, "missing IPv6 address")
    raise _addr_error(text, "unable to parse IP")


def prefix_error(text: str) -> str | None:
    """The error of Go's ``netip.ParsePrefix(text)``, or ``None`` when it parses."""

    def fail(reason: str) -> str:
        return f"netip.ParsePrefix({quote(text)}): {reason}"

    slash = text.rfind("/")
    if slash < 0:
        return fail("no '/'")
    try:
        addr = parse_addr(text[:slash])
    except AddrError as error:
        return fail(str(error))
    if addr.version == 6 and addr.zone:
        return fail("IPv6 zones cannot be present in a prefix")
    bits_text = text[slash + 1 :]
    bad_bits = fail("bad bits after slash: " + quote(bits_text))
    if len(bits_text) > 1 and not "1" <= bits_text[0] <= "9":
        return bad_bits
    if not bits_text or not all("0" <= char <= "9" for char in bits_text):
        return bad_bits
    bits = int(bits_text)
    if bits > (1 << 63) - 1:  # strconv.Atoi overflows
        return bad_bits
    if bits > (128 if addr.version == 6 else 32):
        return fail("prefix length out of range")
    return None


def addr_ok(text: str) -> bool:
    try:
        parse_addr(text)
    except AddrError:
        return False
    return True
