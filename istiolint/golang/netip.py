"""Go's ``net/netip`` address and prefix parsing, with its acceptance rules and error texts.

Python's :mod:`ipaddress` differs from Go in details that matter here (netmask-style prefixes,
prefix lengths with leading zeros or signs, zone handling, error wording), so the grammar is
implemented directly: dotted-quad IPv4 without leading zeros, IPv6 with at most one ``::``, an
optional embedded IPv4 tail and an optional non-empty ``%zone``. The parsers work on the bytes
of the Go string, as Go does, so that they also serve for unescaped URL hosts.
"""

from __future__ import annotations

from dataclasses import dataclass

from istiolint.golang.errors import GoError
from istiolint.golang.strconv import atoi, quote
from istiolint.golang.text import go_bytes

__all__ = ["Addr", "Prefix", "parse_addr", "parse_prefix"]


@dataclass(frozen=True)
class Addr:
    """What istiolint reads of a ``netip.Addr``."""

    is4: bool  # Addr.Is4(): an IPv4 address (an IPv4-mapped IPv6 address is IPv6)
    zone: bytes  # Addr.Zone(): the IPv6 zone, b"" when there is none

    @property
    def is6(self) -> bool:
        """``Addr.Is6()``."""
        return not self.is4

    @property
    def bit_len(self) -> int:
        """``Addr.BitLen()``."""
        return 32 if self.is4 else 128


@dataclass(frozen=True)
class Prefix:
    """What istiolint reads of a ``netip.Prefix``."""

    addr: Addr
    bits: int


def _addr_error(whole: bytes, reason: str, at: bytes = b"") -> GoError:
    """Go's ``parseAddrError``: ``ParseAddr("in"): reason``, then `` (at "rest")`` if given."""
    text = f"ParseAddr({quote(whole)}): {reason}"
    if at:
        text += f" (at {quote(at)})"
    return GoError(text)


def _check_ipv4_fields(whole: bytes, start: int, end: int) -> None:
    """Go's ``parseIPv4Fields``: ``whole[start:end]`` must be four dotted decimal octets."""
    part = whole[start:end]
    value = 0
    digits = 0
    dots = 0
    for index, byte in enumerate(part):
        if 0x30 <= byte <= 0x39:
            if digits == 1 and value == 0:
                raise _addr_error(whole, "IPv4 field has octet with leading zero")
            value = value * 10 + byte - 0x30
            digits += 1
            if value > 255:
                raise _addr_error(whole, "IPv4 field has value >255")
        elif byte == ord("."):
            if index == 0 or index == len(part) - 1 or part[index - 1] == ord("."):
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


_HEX_VALUES = {byte: int(chr(byte), 16) for byte in b"0123456789abcdefABCDEF"}


def _check_ipv6(whole: bytes) -> bytes:
    """Go's ``parseIPv6``: validate an IPv6 address (optionally with a zone); return the zone."""
    text = whole
    zone = b""
    if b"%" in text:
        text, zone = text.split(b"%", 1)
        if not zone:
            raise _addr_error(whole, "zone must be a non-empty string")
    filled = 0  # bytes of the 16-byte address produced so far
    ellipsis = -1
    if text.startswith(b"::"):
        ellipsis = 0
        text = text[2:]
        if not text:
            return zone
    while filled < 16:
        count = 0
        accumulated = 0
        while count < len(text) and text[count] in _HEX_VALUES:
            accumulated = accumulated * 16 + _HEX_VALUES[text[count]]
            if count > 3:
                raise _addr_error(whole, "each group must have 4 or less digits", text)
            if accumulated > 0xFFFF:
                raise _addr_error(whole, "IPv6 field has value >=2^16", text)
            count += 1
        if count == 0:
            raise _addr_error(
                whole, "each colon-separated field must have at least one digit", text
            )
        if count < len(text) and text[count] == ord("."):
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
            text = b""
            filled += 4
            break
        filled += 2
        text = text[count:]
        if not text:
            break
        if text[0] != ord(":"):
            raise _addr_error(whole, "unexpected character, want colon", text)
        if len(text) == 1:
            raise _addr_error(whole, "colon must be followed by more characters", text)
        text = text[1:]
        if text[0] == ord(":"):
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


def parse_addr(text: str | bytes) -> Addr:
    """Go's ``netip.ParseAddr``; raises :class:`GoError` with Go's ``ParseAddr(...)`` text.

    The first ``.``, ``:`` or ``%`` decides: IPv4, IPv6, or a zone without an address.
    """
    data = go_bytes(text)
    for byte in data:
        if byte == ord("."):
            _check_ipv4_fields(data, 0, len(data))
            return Addr(is4=True, zone=b"")
        if byte == ord(":"):
            return Addr(is4=False, zone=_check_ipv6(data))
        if byte == ord("%"):
            raise _addr_error(data, "missing IPv6 address")
    raise _addr_error(data, "unable to parse IP")


def parse_prefix(text: str | bytes) -> Prefix:
    """Go's ``netip.ParsePrefix``; raises :class:`GoError` with Go's text.

    The text is ``netip.ParsePrefix("in"): reason``: no ``/``, the ``ParseAddr`` error of the
    address, a zone, bits that ``strconv.Atoi`` rejects or that have a sign or leading zero,
    or a length beyond the address size.
    """
    data = go_bytes(text)

    def fail(reason: str) -> GoError:
        return GoError(f"netip.ParsePrefix({quote(data)}): {reason}")

    slash = data.rfind(b"/")
    if slash < 0:
        raise fail("no '/'")
    try:
        addr = parse_addr(data[:slash])
    except GoError as error:
        raise fail(str(error)) from None
    if addr.is6 and addr.zone:
        raise fail("IPv6 zones cannot be present in a prefix")
    bits_text = data[slash + 1 :]
    bad_bits = fail("bad bits after slash: " + quote(bits_text))
    # Atoi would accept a sign and leading zeros; ParsePrefix does not.
    if len(bits_text) > 1 and not 0x31 <= bits_text[0] <= 0x39:
        raise bad_bits
    try:
        bits = atoi(bits_text.decode("utf-8", "surrogateescape"))
    except GoError:
        raise bad_bits from None
    if not 0 <= bits <= addr.bit_len:
        raise fail("prefix length out of range")
    return Prefix(addr, bits)
