"""The ``jwksUri`` check: Istio's ``ParseJwksURI``.

Istio parses the URI with Go's ``url.Parse`` (:func:`istiolint.golang.urls.parse`) and then
requires the scheme ``http`` or ``https`` and, if a port is given, one ``strconv.Atoi`` accepts.
:func:`jwks_uri_error` returns the message Istio would report, or ``None``.
"""

from __future__ import annotations

from istiolint.golang.errors import GoError
from istiolint.golang.strconv import atoi, quote
from istiolint.golang.urls import parse

# Istio 1.30 is built with Go 1.25, which predates urlstrictcolons: the last colon of an
# http(s) host starts the port.
_STRICT_COLONS = False


def jwks_uri_error(uri: str) -> str | None:
    """The error Istio's ``ParseJwksURI`` reports for ``uri``, or ``None``."""
    try:
        url = parse(uri, strict_colons=_STRICT_COLONS)
    except GoError as error:
        return str(error)
    if url.scheme not in ("http", "https"):
        return f"URI scheme {quote(url.scheme)} is not supported"
    port = url.port()
    if port:
        try:
            atoi(port)
        except GoError as error:
            return str(error)
    return None
