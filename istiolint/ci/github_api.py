"""Calls to GitHub's REST API for :mod:`istiolint.ci.github_comment`; only ``urllib.request``.

Errors and retries
    429 and rate-limit 403s (``X-RateLimit-Remaining: 0`` or ``Retry-After``) are retried up to
    3 times after ``Retry-After`` seconds or until ``X-RateLimit-Reset`` (at most 60 s a wait);
    5xx up to 3 times after 1, 2 and 4 s. A retried POST whose first attempt did reach GitHub
    can leave a second comment; the next ``update`` then edits the newest. Other failures raise
    :class:`~istiolint.errors.UsageError`. The token is sent only to the API's origin
    (pagination links and redirects to another origin do not get it) and is redacted from
    anything the server says before it goes into a message.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.utils import parsedate_to_datetime
from http.client import HTTPException, HTTPMessage
from typing import IO, Any, Generic, Protocol, TypeVar
from urllib.error import HTTPError
from urllib.parse import urlsplit

from istiolint.errors import UsageError

FORK_DOCS = "docs/ci/github.md (Pull requests from forks)"
API_VERSION = "2022-11-28"
MAX_RETRIES = 3
MAX_WAIT = 60.0
TIMEOUT = 30.0


class _Target(Protocol):
    """What the client needs of the pull request it comments on (a ``CommentTarget``)."""

    @property
    def api_url(self) -> str:
        ...

    @property
    def repo(self) -> str:
        ...

    @property
    def pr(self) -> int:
        ...


_TargetT = TypeVar("_TargetT", bound=_Target)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, carrying the Authorization header only to the same origin."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        authorization = req.get_header("Authorization")
        if new is not None and authorization and _origin(newurl) == _origin(req.full_url):
            new.add_unredirected_header("Authorization", authorization)
        return new


def default_opener() -> urllib.request.OpenerDirector:
    """urllib's opener (proxies from the environment) with origin-checked redirects."""
    return urllib.request.build_opener(_SameOriginRedirects())


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Message
    data: Any


def _rate_limited(status: int, headers: Message) -> bool:
    return status == 429 or (status == 403 and (headers.get("X-RateLimit-Remaining") == "0"
                                                or headers.get("Retry-After") is not None))


def _rate_limit_wait(headers: Message, now: float) -> float:
    """Seconds to wait as GitHub asks (``Retry-After``, else the reset time), at most 60."""
    retry_after = (headers.get("Retry-After") or "").strip()
    wait = MAX_WAIT  # GitHub: without either header, wait at least a minute
    if retry_after.isdigit():
        wait = float(retry_after)
    elif retry_after:
        with contextlib.suppress(TypeError, ValueError):
            wait = parsedate_to_datetime(retry_after).timestamp() - now
    elif (headers.get("X-RateLimit-Reset") or "").strip().isdigit():
        wait = float(headers["X-RateLimit-Reset"].strip()) - now + 1
    return min(max(wait, 0.0), MAX_WAIT)


def _server_message(body: bytes) -> str:
    """GitHub's explanation from an error body (``message`` and ``errors``), one short line."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        parts = [data["message"]]
        errors = data.get("errors")
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                parts.append(error["message"])
            elif isinstance(error, str):
                parts.append(error)
        text = "; ".join(parts)
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


class Api(Generic[_TargetT]):
    """Calls to one GitHub API with one token, which no repr, message or exception shows."""

    __slots__ = ("_opener", "_sleep", "_token", "base", "target")

    def __init__(self, target: _TargetT, token: str,
                 opener: urllib.request.OpenerDirector, sleep: Callable[[float], None]) -> None:
        self.target = target
        self.base = target.api_url
        self._token = token
        self._opener = opener
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"Api({self.base!r})"

    def same_origin(self, url: str) -> bool:
        return _origin(url) == _origin(self.base)

    def call(self, method: str, url: str, payload: dict[str, Any] | None = None, *,
             what: str, tolerate: frozenset[int] = frozenset()) -> _Response:
        """The answer to one request, after polite retries; ``tolerate``: statuses to return."""
        rate_retries = server_retries = 0
        while True:
            try:
                return self._send(method, url, payload)
            except HTTPError as err:
                status, headers, body = err.code, err.headers, _read_error(err)
            limited = _rate_limited(status, headers)
            if status in tolerate and not limited:
                return _Response(status, headers, None)
            if limited and rate_retries < MAX_RETRIES:
                rate_retries += 1
                self._sleep(_rate_limit_wait(headers, time.time()))
            elif status >= 500 and server_retries < MAX_RETRIES:
                self._sleep(float(2 ** server_retries))
                server_retries += 1
            else:
                raise self._failure(method, url, status, headers, body, what)

    def _send(self, method: str, url: str, payload: dict[str, Any] | None) -> _Response:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "istiolint"})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        request.add_unredirected_header("Authorization", f"Bearer {self._token}")
        try:
            with self._opener.open(request, timeout=TIMEOUT) as response:
                return _Response(response.status, response.headers, _json(response.read(), url))
        except HTTPError:
            raise
        except (OSError, HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise UsageError(f"cannot reach the GitHub API at {self.base} ({method} "
                             f"{url_path(url)}): {self._redact(str(reason))}") from None

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[token]")

    def _failure(self, method: str, url: str, status: int, headers: Message, body: bytes,
                 what: str) -> UsageError:
        detail = self._redact(_server_message(body))
        said = f" ({status}: {detail})" if detail else f" ({status})"
        where = f"{method} {url_path(url)}"
        if _rate_limited(status, headers):
            return UsageError(f"GitHub's API rate limit still holds after {MAX_RETRIES} waits "
                              f"while {what}{said}: try again later")
        if status == 401:
            return UsageError(f"GitHub rejected the token{said} while {what}: set GITHUB_TOKEN "
                              "to a valid, unexpired token")
        if status == 403:
            accepted = headers.get("X-Accepted-GitHub-Permissions")
            needs = f" (GitHub accepts: {accepted})" if accepted else ""
            return UsageError(
                f"GitHub refused {where}{said} while {what}: the token needs the "
                f"`pull-requests: write` permission{needs}. Pull requests from forks get a "
                "read-only GITHUB_TOKEN whatever the workflow asks for: post the comment from a "
                f"separate workflow_run workflow instead, see {FORK_DOCS}")
        if status == 404:
            return UsageError(f"GitHub answered 404 Not Found for {where} while {what}: the "
                              f"repository {self.target.repo} or pull request #{self.target.pr} "
                              "does not exist, or the token has no access to it")
        if status >= 500:
            return UsageError(f"the GitHub API kept failing{said} for {where} while {what}, "
                              f"{MAX_RETRIES} retries")
        return UsageError(f"GitHub answered{said} for {where} while {what}")


def _read_error(err: HTTPError) -> bytes:
    try:
        return err.read()
    except (OSError, HTTPException):
        return b""
    finally:
        err.close()


def _json(raw: bytes, url: str) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise UsageError(f"the GitHub API answered {url_path(url)} with something that is not "
                         "JSON: is the API URL (GITHUB_API_URL) right?") from None


def url_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def check_token(token: str | None) -> str:
    token = (token or "").strip()
    if not token:
        raise UsageError("no GitHub token: set GITHUB_TOKEN")
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise UsageError("the GitHub token (GITHUB_TOKEN) contains spaces or control characters")
    return token

