"""Inline ``jwks`` checks: the JWK-set parse Istio runs, and the private-key warning.

Istio hands the ``jwks`` string to ``jwk.Parse`` of ``lestrrat-go/jwx`` (v1) and reports
``jwks parse error: <error>`` when it fails; when it succeeds, every key that is an RSA, EC or
OKP *private* key, or a symmetric (``kty: oct``) key, draws a warning.

What is checked here, in the order the library would find it:

1. the text is valid JSON by Go's rules (syntax errors carry Go's ``encoding/json`` wording);
2. the top-level value is an object;
3. with a ``"keys"`` member, that member is an array (or ``null``) and every element is a key;
   without one, the whole object is parsed as a single key;
4. a key is an object whose ``kty`` is ``RSA``, ``EC``, ``OKP`` or ``oct``; a ``d`` member
   (matched case-insensitively, any value) makes an RSA/EC/OKP key a private key;
5. the key's known members have the right JSON types: string members (``kid``, ``alg``,
   ``use``, ``x5u``, ``x5t``, ``x5t#S256``, ``crv``) are strings or ``null``; binary members
   (``n``, ``e``, ``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``x``, ``y``, ``k``) are base64
   strings (standard or URL alphabet, padded or not, as the library's decoder picks);
   ``key_ops`` is a list of strings; ``x5c`` is a list of base64 strings;
6. the required members are present: ``e``/``n`` (RSA), ``crv``/``x``/``y`` (EC),
   ``crv``/``x`` (OKP), ``k`` (oct), plus ``d`` for private keys.

Limits: ``x5c`` certificates are only base64-checked, not parsed as X.509 DER; curve names
and key sizes are not checked (the library does not check them at parse time either); the
wording of type errors approximates Go's ``json: cannot unmarshal ...`` messages; input
nested so deeply that Python's JSON decoder gives up is accepted without analysis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from istiolint.golang.strconv import quote, quote_char

# ---------------------------------------------------------------------------------------------
# JSON syntax, with Go's error texts


class JSONSyntaxError(ValueError):
    pass


_MAX_DEPTH = 10000
_WHITESPACE = b" \t\r\n"
_ESCAPES = b'bfnrt\\/"'
_HEX = b"0123456789abcdefABCDEF"
_UNEXPECTED_END = "unexpected end of JSON input"


class _Scanner:
    """Checks JSON syntax the way Go's ``encoding/json`` does, without recursion."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def fail(self, byte: int, context: str) -> JSONSyntaxError:
        return JSONSyntaxError(f"invalid character {quote_char(byte)} {context}")

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def skip_space(self) -> int | None:
        while self.pos < len(self.data) and self.data[self.pos] in _WHITESPACE:
            self.pos += 1
        return self.peek()

    def take(self, context: str) -> int:
        """Consume one byte of a token; at the end of input Go reports a space."""
        byte = self.peek()
        if byte is None:
            raise self.fail(ord(" "), context)
        self.pos += 1
        return byte

    def literal(self, word: bytes) -> None:
        name = word.decode()
        for expected in word[1:]:
            byte = self.take(f"in literal {name} (expecting {quote_char(expected)})")
            if byte != expected:
                raise self.fail(byte, f"in literal {name} (expecting {quote_char(expected)})")

    def string(self) -> None:
        # The opening quote has been consumed.
        while True:
            byte = self.peek()
            if byte is None:
                raise JSONSyntaxError(_UNEXPECTED_END)
            self.pos += 1
            if byte == ord('"'):
                return
            if byte == ord("\\"):
                escape = self.take("in string escape code")
                if escape == ord("u"):
                    for _ in range(4):
                        digit = self.take("in \\u hexadecimal character escape")
                        if digit not in _HEX:
                            raise self.fail(digit, "in \\u hexadecimal character escape")
                elif escape not in _ESCAPES:
                    raise self.fail(escape, "in string escape code")
            elif byte < 0x20:
                raise self.fail(byte, "in string literal")

    def digits(self) -> int:
        start = self.pos
        while self.pos < len(self.data) and 0x30 <= self.data[self.pos] <= 0x39:
            self.pos += 1
        return self.pos - start

    def number(self, first: int) -> None:
        if first == ord("-"):
            byte = self.take("in numeric literal")
            if not 0x30 <= byte <= 0x39:
                raise self.fail(byte, "in numeric literal")
            first = byte
        if first != ord("0"):
            self.digits()
        if self.peek() == ord("."):
            self.pos += 1
            byte = self.take("after decimal point in numeric literal")
            if not 0x30 <= byte <= 0x39:
                raise self.fail(byte, "after decimal point in numeric literal")
            self.digits()
        if self.peek() in (ord("e"), ord("E")):
            self.pos += 1
            if self.peek() in (ord("+"), ord("-")):
                self.pos += 1
            byte = self.take("in exponent of numeric literal")
            if not 0x30 <= byte <= 0x39:
                raise self.fail(byte, "in exponent of numeric literal")
            self.digits()

    def value(self) -> bytes | None:
        """Scan one value; returns the container it opened (b"{" or b"[") if any."""
        byte = self.skip_space()
        if byte is None:
            raise JSONSyntaxError(_UNEXPECTED_END)
        self.pos += 1
        if byte in (ord("{"), ord("[")):
            return bytes([byte])
        if byte == ord('"'):
            self.string()
        elif byte == ord("-") or 0x30 <= byte <= 0x39:
            self.number(byte)
        elif byte == ord("t"):
            self.literal(b"true")
        elif byte == ord("f"):
            self.literal(b"false")
        elif byte == ord("n"):
            self.literal(b"null")
        else:
            raise self.fail(byte, "looking for beginning of value")
        return None

    def object_key(self) -> None:
        byte = self.skip_space()
        if byte is None:
            raise JSONSyntaxError(_UNEXPECTED_END)
        if byte != ord('"'):
            raise self.fail(byte, "looking for beginning of object key string")
        self.pos += 1
        self.string()
        byte = self.skip_space()
        if byte is None:
            raise JSONSyntaxError(_UNEXPECTED_END)
        if byte != ord(":"):
            raise self.fail(byte, "after object key")
        self.pos += 1

    def run(self) -> None:
        stack: list[bytes] = []
        opened = self.value()
        while True:
            if opened is not None:
                stack.append(opened)
                if len(stack) > _MAX_DEPTH:
                    raise self.fail(opened[0], "exceeded max depth")
                closer = ord("}") if opened == b"{" else ord("]")
                byte = self.skip_space()
                if byte is None:
                    raise JSONSyntaxError(_UNEXPECTED_END)
                if byte == closer:
                    self.pos += 1
                    stack.pop()
                else:
                    if opened == b"{":
                        self.object_key()
                    opened = self.value()
                    continue
            # A value has just ended.
            byte = self.skip_space()
            if not stack:
                if byte is not None:
                    raise self.fail(byte, "after top-level value")
                return
            if byte is None:
                raise JSONSyntaxError(_UNEXPECTED_END)
            self.pos += 1
            inside_object = stack[-1] == b"{"
            if byte == ord(","):
                if inside_object:
                    self.object_key()
                opened = self.value()
            elif byte == (ord("}") if inside_object else ord("]")):
                stack.pop()
                opened = None
            else:
                context = "after object key:value pair" if inside_object else "after array element"
                raise self.fail(byte, context)


def check_json_syntax(text: str) -> None:
    """Raise :class:`JSONSyntaxError` with Go's message if ``text`` is not valid JSON."""
    _Scanner(text.encode("utf-8", "surrogatepass")).run()


# ---------------------------------------------------------------------------------------------
# JWK sets


class _Obj(tuple[tuple[str, Any], ...]):
    """A decoded JSON object, kept as ordered ``(name, value)`` pairs (duplicates included)."""


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Obj:
    return _Obj(pairs)


class JWKSError(ValueError):
    pass


def _kind(value: Any) -> str:
    if isinstance(value, _Obj):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _type_error(value: Any, go_type: str) -> str:
    return f"json: cannot unmarshal {_kind(value)} into Go value of type {go_type}"


_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_URL = _STD[:-2] + "-_"


def base64_ok(text: str) -> bool:
    """Whether the jwx decoder accepts ``text`` (it picks the alphabet and padding itself)."""
    padded = text.endswith("=")
    alphabet = _STD if ("+" in text or "/" in text) else _URL
    body = text.replace("\r", "").replace("\n", "")
    if padded:
        if len(body) % 4:
            return False
        stripped = body.rstrip("=")
        if len(body) - len(stripped) > 2:
            return False
        body = stripped
    elif len(body) % 4 == 1:
        return False
    return all(char in alphabet for char in body)


_STRING_MEMBERS = frozenset({"kty", "alg", "kid", "use", "x5u", "x5t", "x5t#S256"})
_BYTES_MEMBERS: dict[str, frozenset[str]] = {
    "RSA": frozenset({"e", "n"}),
    "RSA-private": frozenset({"d", "dp", "dq", "e", "n", "p", "q", "qi"}),
    "EC": frozenset({"x", "y"}),
    "EC-private": frozenset({"d", "x", "y"}),
    "OKP": frozenset({"x"}),
    "OKP-private": frozenset({"d", "x"}),
    "oct": frozenset({"k"}),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "RSA": ("e", "n"),
    "RSA-private": ("d", "e", "n"),
    "EC": ("crv", "x", "y"),
    "EC-private": ("crv", "d", "x", "y"),
    "OKP": ("crv", "x"),
    "OKP-private": ("crv", "d", "x"),
    "oct": ("k",),
}
_GO_TYPE = {
    "RSA": "*jwk.rsaPublicKey",
    "RSA-private": "*jwk.rsaPrivateKey",
    "EC": "*jwk.ecdsaPublicKey",
    "EC-private": "*jwk.ecdsaPrivateKey",
    "OKP": "*jwk.okpPublicKey",
    "OKP-private": "*jwk.okpPrivateKey",
    "oct": "*jwk.symmetricKey",
}
_HINT_TYPE = 'struct { Kty string "json:\\"kty\\""; D json.RawMessage "json:\\"d\\"" }'


def _member_error(name: str, value: Any, variant: str) -> str | None:
    """Type check of one member inside a key; returns the library's (wrapped) error."""
    if name == "kty":
        if value is not None and not isinstance(value, str):
            return "error reading token: error reading next value: " + _type_error(value, "string")
        return None
    if name in _STRING_MEMBERS or (name == "crv" and variant != "oct" and variant[:3] != "RSA"):
        go_type = "jwa.EllipticCurveAlgorithm" if name == "crv" else "string"
        if value is not None and not isinstance(value, str):
            prefix = "" if name == "crv" else "error reading next value: "
            return f"failed to decode value for key {name}: {prefix}{_type_error(value, go_type)}"
        return None
    if name in _BYTES_MEMBERS[variant]:
        if value is None:
            return None
        if not isinstance(value, str):
            return f"failed to decode value for key {name}: error reading next value: " + (
                _type_error(value, "string")
            )
        if not base64_ok(value):
            return f"failed to decode value for key {name}: expected base64 encoded []byte (string)"
        return None
    if name == "key_ops":
        if value is None:
            return None
        if not isinstance(value, list):
            return f"failed to decode value for key {name}: " + _type_error(
                value, "jwk.KeyOperationList"
            )
        for element in value:
            if element is not None and not isinstance(element, str):
                return f"failed to decode value for key {name}: " + _type_error(
                    element, "jwk.KeyOperation"
                )
        return None
    if name == "x5c":
        if value is None:
            return None
        wrap = f"failed to decode value for key {name}: "
        if not isinstance(value, list):
            inner = _type_error(value, "[]string")
            return wrap + "failed to unmarshal JSON into []string: " + inner
        for element in value:
            if element is not None and not isinstance(element, str):
                inner = _type_error(element, "string")
                return wrap + "failed to unmarshal JSON into []string: " + inner
            if not base64_ok(element or ""):
                return wrap + "failed to base64 decode list element: failed to decode source"
        return None
    return None  # unknown members are kept as private parameters


@dataclass(frozen=True)
class ParsedKey:
    kty: str
    private: bool


def _parse_key(source: Any) -> ParsedKey:
    """``jwk.ParseKey`` for one decoded JSON value."""
    if source is not None and not isinstance(source, _Obj):
        raise JWKSError(
            "failed to unmarshal JSON into key hint: " + _type_error(source, _HINT_TYPE)
        )
    members: _Obj = source if source is not None else _Obj(())
    kty = ""
    has_d = False
    for name, value in members:
        folded = name.lower()
        if folded == "kty":
            if value is not None and not isinstance(value, str):
                raise JWKSError(
                    "failed to unmarshal JSON into key hint: json: cannot unmarshal "
                    f"{_kind(value)} into Go struct field .kty of type string"
                )
            kty = value or ""
        elif folded == "d":
            has_d = True
    if kty not in ("RSA", "EC", "OKP", "oct"):
        raise JWKSError(f"invalid key type from JSON ({kty})")
    private = has_d and kty != "oct"
    variant = kty + ("-private" if private else "")
    present: set[str] = set()
    for name, value in members:
        error = _member_error(name, value, variant)
        if error is not None:
            raise JWKSError(f"failed to unmarshal JSON into key ({_GO_TYPE[variant]}): {error}")
        if name == "kty" and isinstance(value, str) and value != kty:
            raise JWKSError(
                f"failed to unmarshal JSON into key ({_GO_TYPE[variant]}): "
                f"invalid kty value for RSAPublicKey ({value})"
            )
        present.add(name)
    for name in _REQUIRED[variant]:
        if name not in present:
            raise JWKSError(
                f"failed to unmarshal JSON into key ({_GO_TYPE[variant]}): "
                f"required field {name} is missing"
            )
    return ParsedKey(kty, private or kty == "oct")


def _parse_set(document: Any) -> list[ParsedKey]:
    if isinstance(document, list):
        raise JWKSError("expected '{', but got '['")
    if isinstance(document, str):
        if document == "keys":
            raise JWKSError('failed to decode "keys": EOF')
        raise JWKSError(f"failed to decode value for key {quote(document)}: EOF")
    if not isinstance(document, _Obj):
        raise JWKSError("error reading token: EOF")
    keys: list[ParsedKey] = []
    saw_keys = False
    for name, value in document:
        if name != "keys":
            continue
        saw_keys = True
        if value is None:
            continue
        if not isinstance(value, list):
            raise JWKSError('failed to decode "keys": ' + _type_error(value, "[]json.RawMessage"))
        for index, element in enumerate(value):
            try:
                keys.append(_parse_key(element))
            except JWKSError as error:
                raise JWKSError(f'failed to decode key #{index} in "keys": {error}') from None
    if not saw_keys:
        try:
            keys.append(_parse_key(document))
        except JWKSError as error:
            raise JWKSError(f"failed to parse sole key in key set: {error}") from None
    return keys


def _decode(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_object_pairs)


def parse_jwks(text: str) -> tuple[list[ParsedKey] | None, str | None]:
    """Parse an inline JWKS like ``jwk.Parse``.

    Returns ``(keys, None)`` on success, ``(None, error)`` with the library's error text on
    failure, and ``(None, None)`` when the input is too deeply nested to analyse.
    """
    try:
        check_json_syntax(text)
    except JSONSyntaxError as error:
        return None, f"failed to unmarshal JWK set: {error}"
    try:
        document = _decode(text)
    except (ValueError, RecursionError):
        return None, None
    try:
        return _parse_set(document), None
    except JWKSError as error:
        return None, f"failed to unmarshal JWK set: {error}"
