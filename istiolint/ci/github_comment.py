"""Keep one istiolint comment per pull request (and key) up to date through GitHub's REST API.

The engine of ``istiolint comment github``; only the standard library (``urllib.request``).

Finding the earlier comment
    Every body ends with a hidden marker line, ``<!-- istiolint:comment key=KEY -->``. The
    pull request's comments are listed page by page (``per_page=100``, following the ``Link``
    header's ``rel="next"``), and a comment is ours when its body contains this key's marker
    **and** its author is the token's account, as ``GET /user`` tells. GitHub Actions'
    ``GITHUB_TOKEN`` (and GitHub App installation tokens) cannot read ``/user``: on that 403 the
    author must be the ``github-actions[bot]`` bot account, which is who posts with
    ``GITHUB_TOKEN``. (A GitHub App token posts as its own ``APP[bot]``; use a personal or
    ``GITHUB_TOKEN`` token, or earlier comments of the app are not recognised.) Comments of
    other accounts are never edited or deleted, even when they contain the marker: a pull
    request's author could otherwise make the bot overwrite or delete anyone's comment.
    ``/user`` is only asked when some comment carries the marker.

Several matching comments (concurrent runs can leave two)
    ``update`` edits the newest (highest id) and leaves the others alone, so an update makes
    at most one write; ``recreate`` and ``delete`` delete all of them, which cleans up.

Modes
    ``update``: PATCH the newest match when its body differs after normalisation (line endings,
    marker lines, trailing white space), ``unchanged`` and no write when equal, POST when there
    is none. ``recreate``: delete every match, then POST (the comment moves to the bottom of the
    conversation), even when the body is unchanged. ``delete``: delete every match
    (``absent`` when there is none; a comment already gone, 404, counts as deleted).

Truncation
    Bodies longer than ``max_chars`` (marker included) are cut at the last line boundary that is
    outside an HTML tag or comment and leaves room for what closes the open blocks: a fenced
    code block is closed, then the open ``<details>`` (and other container elements such as
    ``<table>``) get their closing tags; a notice pointing to the full report ends the body.

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
import re
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parsedate_to_datetime
from enum import Enum
from http.client import HTTPException, HTTPMessage
from pathlib import Path
from typing import IO, Any
from urllib.error import HTTPError
from urllib.parse import urlsplit

from istiolint.errors import UsageError

MARKER_PREFIX = "<!-- istiolint:comment"
DEFAULT_API_URL = "https://api.github.com"
COMMENT_LIMIT = 65_536
ACTIONS_BOT = "github-actions[bot]"
FORK_DOCS = "docs/ci/github.md (Pull requests from forks)"
API_VERSION = "2022-11-28"
MAX_RETRIES = 3
MAX_WAIT = 60.0
TIMEOUT = 30.0

_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_KEY = re.compile(r"[A-Za-z0-9_.:/@+=-]{1,100}")
_MARKER_LINE = re.compile(r"^[ \t]*<!-- istiolint:comment\b[^\n]*-->[ \t]*$", re.MULTILINE)
_LINK = re.compile(r"<([^>]*)>\s*;\s*rel=\"([^\"]*)\"")


@dataclass(frozen=True)
class CommentTarget:
    """The pull request to comment on; ``key`` tells several independent comments apart."""

    repo: str
    pr: int
    api_url: str = DEFAULT_API_URL
    key: str = "default"

    def __post_init__(self) -> None:
        if not _REPO.fullmatch(self.repo):
            raise UsageError(f"the repository must be OWNER/NAME, got {self.repo!r}")
        if isinstance(self.pr, bool) or not isinstance(self.pr, int) or self.pr < 1:
            raise UsageError(f"the pull request number must be a positive integer, got {self.pr!r}")
        _marker(self.key)
        _check_api_url(self.api_url)
        object.__setattr__(self, "api_url", self.api_url.rstrip("/"))

    @property
    def marker(self) -> str:
        """The hidden line that identifies this key's comment."""
        return _marker(self.key)

    @property
    def issue_url(self) -> str:
        return f"{self.api_url}/repos/{self.repo}/issues/{self.pr}"

    def comment_url(self, comment_id: int) -> str:
        return f"{self.api_url}/repos/{self.repo}/issues/comments/{comment_id}"

    def __str__(self) -> str:
        return f"{self.repo}#{self.pr}"


def _check_api_url(url: str) -> None:
    parts = urlsplit(url)
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise UsageError("the GitHub API URL must not contain credentials, a query or a "
                         "fragment: the token comes from GITHUB_TOKEN")
    try:
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        valid = False
    else:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    if not valid:
        raise UsageError(f"the GitHub API URL (GITHUB_API_URL) must be http(s)://HOST[:PORT][/PATH],"
                         f" got {url!r}")


def _marker(key: str) -> str:
    if not _KEY.fullmatch(key) or "--" in key:
        raise UsageError(f"the comment key must be 1-100 characters among letters, digits and "
                         f"_.:/@+=- (no '--'), got {key!r}")
    return f"{MARKER_PREFIX} key={key} -->"


class Mode(str, Enum):
    """What to do with the earlier comment."""

    update = "update"
    recreate = "recreate"
    delete = "delete"


@dataclass(frozen=True)
class CommentResult:
    """``action``: created, updated, unchanged, recreated, deleted or absent."""

    action: str
    comment_id: int | None
    url: str | None
    truncated: bool


# --- the GitHub Actions environment --------------------------------------------------------------


def target_from_environment(repo: str | None, pr: int | None,
                            env: Mapping[str, str]) -> CommentTarget:
    """The target from explicit values, else from GitHub Actions' variables and event payload."""
    repo = repo or env.get("GITHUB_REPOSITORY", "")
    if not repo:
        raise UsageError("name the repository: --repo OWNER/NAME (GITHUB_REPOSITORY is not set)")
    api_url = env.get("GITHUB_API_URL") or DEFAULT_API_URL
    return CommentTarget(repo=repo, pr=pr if pr is not None else _pr_from_event(env),
                         api_url=api_url)


def run_url(env: Mapping[str, str]) -> str | None:
    """The workflow run's page (where the full report is), when the variables are set."""
    server = env.get("GITHUB_SERVER_URL", "").rstrip("/")
    repo = env.get("GITHUB_REPOSITORY", "")
    run_id = env.get("GITHUB_RUN_ID", "")
    if not (server and repo and run_id):
        return None
    return f"{server}/{repo}/actions/runs/{run_id}"


def _workflow_run_error() -> UsageError:
    return UsageError("in a workflow_run job the event payload has no trustworthy pull request "
                      "number: pass --pr N (checked against the run's head SHA, see "
                      f"{FORK_DOCS})")


def _pr_from_event(env: Mapping[str, str]) -> int:
    if env.get("GITHUB_EVENT_NAME") == "workflow_run":
        raise _workflow_run_error()
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise UsageError("name the pull request: --pr N (GITHUB_EVENT_PATH is not set, so there "
                         "is no event payload to take it from)")
    payload = _read_event(path)
    if "workflow_run" in payload:
        raise _workflow_run_error()
    number = _number(payload.get("pull_request"))
    issue = payload.get("issue")
    if number is None and isinstance(issue, dict):
        if "pull_request" not in issue:
            raise UsageError(f"the event is about issue #{_number(issue)}, not a pull request: "
                             "pass --pr N")
        number = _number(issue)
    if number is None:
        event = env.get("GITHUB_EVENT_NAME") or "event"
        raise UsageError(f"the {event} payload (GITHUB_EVENT_PATH) names no pull request: "
                         "pass --pr N")
    return number


def _read_event(path: str) -> dict[str, Any]:
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the event payload {path} (GITHUB_EVENT_PATH): "
                         f"{exc.strerror or exc}; pass --pr N") from None
    except ValueError:
        raise UsageError(f"the event payload {path} (GITHUB_EVENT_PATH) is not JSON; "
                         "pass --pr N") from None
    if not isinstance(payload, dict):
        raise UsageError(f"the event payload {path} (GITHUB_EVENT_PATH) is not a JSON object; "
                         "pass --pr N")
    return payload


def _number(item: object) -> int | None:
    if not isinstance(item, dict):
        return None
    number = item.get("number")
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        return number
    return None


# --- the body: marker, normalisation, truncation -------------------------------------------------


def comment_body(body: str, key: str = "default", *, max_chars: int = 65_000,
                 report_hint: str = "") -> tuple[str, bool]:
    """The body to post (truncated if needed, marker appended) and whether it was truncated."""
    marker = _marker(key)
    text = _strip_markers(body).rstrip()
    budget = max_chars - len(marker) - 2
    notice = _notice(len(text), report_hint)
    if max_chars > COMMENT_LIMIT or budget < len(notice) + 100:
        raise UsageError(f"the comment size limit must be between {len(notice) + len(marker) + 102}"
                         f" and {COMMENT_LIMIT} characters, got {max_chars}")
    truncated = len(text) > budget
    if truncated:
        text = _truncate(text, budget, notice)
    return f"{text}\n\n{marker}", truncated


def _strip_markers(text: str) -> str:
    return _MARKER_LINE.sub("", text.replace("\r\n", "\n"))


def _normalise(text: str) -> str:
    """A body as compared for ``unchanged``: without marker lines, CRs and trailing space."""
    lines = _strip_markers(text).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _notice(total: int, report_hint: str) -> str:
    hint = " ".join(report_hint.split())
    where = f"Full report: {hint}" if hint else "The full report is in the CI job's output."
    return (f"\n---\n:warning: **Truncated**: the report has {total:,} characters, more than "
            f"a GitHub comment holds. {where}")


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_TAG = re.compile(r"<(!--|/?[A-Za-z][A-Za-z0-9-]*)")
_MARKUP = re.compile(r"[<`]")
_BLOCKS = frozenset({"details", "summary", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
                     "ul", "ol", "li", "dl", "dt", "dd", "div", "blockquote", "pre"})
_INLINE = frozenset({"a", "abbr", "b", "cite", "code", "del", "em", "i", "ins", "kbd", "mark",
                     "q", "s", "samp", "small", "span", "strong", "sub", "sup", "u", "var"})


@dataclass
class _Blocks:
    """What is open at the end of the lines fed so far."""

    fence: str = ""  # the opening fence while inside a fenced code block
    elements: list[str] = field(default_factory=list)  # open container elements, outermost first
    pending: str | None = None  # "!--" inside an HTML comment, else a tag whose ">" is to come

    @property
    def cuttable(self) -> bool:
        return self.pending is None

    def closers(self) -> str:
        """What closes the open blocks and elements after a cut at the end of a line."""
        text = f"{self.fence}\n" if self.fence else ""
        for name in reversed(self.elements):
            text += f"</{name}>" if name in _INLINE else f"\n</{name}>\n"
        return text if text.endswith("\n") or not text else text + "\n"

    def feed(self, line: str) -> None:
        if self.fence:
            closing = _FENCE.match(line)
            if (closing and closing.group(1)[0] == self.fence[0]
                    and len(closing.group(1)) >= len(self.fence)
                    and not line[closing.end():].strip()):
                self.fence = ""
            return
        opening = _FENCE.match(line) if self.pending is None else None
        if opening:
            self.fence = opening.group(1)
            return
        if not line.strip() and self.pending != "!--":
            self.pending = None  # a tag cannot span a blank line: that "<" was text
        self._scan(line)

    def _scan(self, line: str) -> None:
        i = 0
        while i < len(line):
            if self.pending == "!--":
                end = line.find("-->", i)
                if end < 0:
                    return
                self.pending, i = None, end + 3
            elif self.pending is not None:
                end = line.find(">", i)
                if end < 0:
                    return
                self._tag(self.pending, line[i:end])
                self.pending, i = None, end + 1
            else:
                i = self._markup(line, i)

    def _markup(self, line: str, i: int) -> int:
        """Skip to the next tag (making it pending) or past the next code span."""
        found = _MARKUP.search(line, i)
        if found is None:
            return len(line)
        i = found.start()
        if line[i] == "`":
            run = len(line) - len(line[i:].lstrip("`")) - i
            close = line.find("`" * run, i + run)
            return close + run if close >= 0 else i + run
        tag = _TAG.match(line, i)
        if tag is None:
            return i + 1
        self.pending = tag.group(1).lower()
        return tag.end()

    def _tag(self, name: str, rest: str) -> None:
        if name.startswith("/"):
            if name[1:] in self.elements:
                index = len(self.elements) - 1 - self.elements[::-1].index(name[1:])
                del self.elements[index:]
        elif name in _BLOCKS | _INLINE and not rest.rstrip().endswith("/"):
            self.elements.append(name)


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text``, each with its newline (split on "\\n" only, as Markdown does)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _truncate(text: str, budget: int, notice: str) -> str:
    """``text`` cut to fit ``budget`` characters with the closing tags and ``notice``."""
    blocks = _Blocks()
    best: tuple[int, str] | None = None
    end = 0
    for line in _lines(text):
        blocks.feed(line)
        end += len(line)
        if end + len(notice) > budget:
            break
        closers = blocks.closers()
        if blocks.cuttable and end + len(closers) + len(notice) <= budget:
            best = end, closers
    if best is None:
        return _cut_inside_line(text, budget - len(notice)) + notice
    return text[:best[0]] + best[1] + notice


def _cut_inside_line(text: str, budget: int) -> str:
    """The fallback when not even one whole line fits: cut mid-line, never inside a tag."""
    head = text[:max(budget - 20, 0)]
    if head.rfind("<") > head.rfind(">"):
        head = head[:head.rfind("<")]
    blocks = _Blocks()
    for line in _lines(head):
        blocks.feed(line)
    if not blocks.cuttable:
        return ""
    closers = blocks.closers()
    return head[:max(budget - len(closers) - 1, 0)] + "\n" + closers


# --- HTTP ----------------------------------------------------------------------------------------


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


class _Api:
    """Calls to one GitHub API with one token, which no repr, message or exception shows."""

    __slots__ = ("_opener", "_sleep", "_token", "base", "target")

    def __init__(self, target: CommentTarget, token: str,
                 opener: urllib.request.OpenerDirector, sleep: Callable[[float], None]) -> None:
        self.target = target
        self.base = target.api_url
        self._token = token
        self._opener = opener
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"_Api({self.base!r})"

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
                             f"{_path(url)}): {self._redact(str(reason))}") from None

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[token]")

    def _failure(self, method: str, url: str, status: int, headers: Message, body: bytes,
                 what: str) -> UsageError:
        detail = self._redact(_server_message(body))
        said = f" ({status}: {detail})" if detail else f" ({status})"
        where = f"{method} {_path(url)}"
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
        raise UsageError(f"the GitHub API answered {_path(url)} with something that is not "
                         "JSON: is the API URL (GITHUB_API_URL) right?") from None


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _check_token(token: str | None) -> str:
    token = (token or "").strip()
    if not token:
        raise UsageError("no GitHub token: set GITHUB_TOKEN")
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise UsageError("the GitHub token (GITHUB_TOKEN) contains spaces or control characters")
    return token


# --- comments ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Comment:
    id: int
    body: str
    url: str | None

    @classmethod
    def from_json(cls, data: Any) -> _Comment:
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise UsageError("the GitHub API answered with a comment without an id")
        url = data.get("html_url")
        body = data.get("body")
        return cls(data["id"], body if isinstance(body, str) else "",
                   url if isinstance(url, str) else None)


@dataclass(frozen=True)
class _Author:
    """The token's account; ``login`` None: it cannot read /user, so it is github-actions[bot]."""

    login: str | None

    def wrote(self, comment: Mapping[str, Any]) -> bool:
        user = comment.get("user")
        login = user.get("login") if isinstance(user, dict) else None
        if not isinstance(login, str) or not isinstance(user, dict):
            return False
        if self.login is None:
            return user.get("type") == "Bot" and login == ACTIONS_BOT
        return login.lower() == self.login.lower()


def _whoami(api: _Api) -> _Author:
    response = api.call("GET", f"{api.base}/user", what="asking whose token this is",
                        tolerate=frozenset({403}))
    if response.status == 403:  # GITHUB_TOKEN and app installation tokens cannot read /user
        return _Author(None)
    login = response.data.get("login") if isinstance(response.data, dict) else None
    if not isinstance(login, str) or not login:
        raise UsageError("the GitHub API answered GET /user without a login")
    return _Author(login)


def _next_link(header: str | None) -> str | None:
    for url, rels in _LINK.findall(header or ""):
        if "next" in rels.split():
            return str(url)
    return None


def _all_comments(api: _Api) -> Iterator[dict[str, Any]]:
    """Every comment of the pull request, following the pagination links."""
    target = api.target
    url: str | None = f"{target.issue_url}/comments?per_page=100"
    seen: set[str] = set()
    while url is not None and url not in seen:
        seen.add(url)
        response = api.call("GET", url, what=f"listing the comments of {target}")
        if not isinstance(response.data, list):
            raise UsageError(f"the GitHub API did not answer {_path(url)} with a list")
        yield from (item for item in response.data if isinstance(item, dict))
        url = _next_link(response.headers.get("Link"))
        if url is not None and not api.same_origin(url):
            raise UsageError(f"GitHub's next-page link leaves {api.base}: not sending the token "
                             "there")


def _ours(api: _Api) -> list[_Comment]:
    """This key's comments by the token's account, oldest first."""
    marker = api.target.marker
    marked = [c for c in _all_comments(api)
              if isinstance(c.get("body"), str) and marker in c["body"]]
    if not marked:
        return []
    author = _whoami(api)
    return sorted((_Comment.from_json(c) for c in marked if author.wrote(c)), key=lambda c: c.id)


def _create(api: _Api, body: str) -> _Comment:
    target = api.target
    response = api.call("POST", f"{target.issue_url}/comments", {"body": body},
                        what=f"commenting on {target}")
    return _Comment.from_json(response.data)


def _edit(api: _Api, comment: _Comment, body: str) -> _Comment:
    response = api.call("PATCH", api.target.comment_url(comment.id), {"body": body},
                        what=f"updating comment {comment.id} on {api.target}")
    return _Comment.from_json(response.data)


def _delete(api: _Api, comments: list[_Comment]) -> None:
    for comment in comments:  # 404: already gone, which is what we want
        api.call("DELETE", api.target.comment_url(comment.id), tolerate=frozenset({404}),
                 what=f"deleting comment {comment.id} on {api.target}")


def post_comment(target: CommentTarget, body: str, token: str, *, mode: Mode = Mode.update,
                 max_chars: int = 65_000, report_hint: str = "",
                 opener: urllib.request.OpenerDirector | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> CommentResult:
    """Create, update, recreate or delete this target's comment; see the module docstring."""
    try:
        mode = Mode(mode)
    except ValueError:
        raise UsageError(f"unknown comment mode {mode!r}; use update, recreate or delete") from None
    api = _Api(target, _check_token(token), opener or default_opener(), sleep)
    if mode is Mode.delete:
        ours = _ours(api)
        _delete(api, ours)
        return CommentResult("deleted" if ours else "absent", ours[-1].id if ours else None,
                             None, truncated=False)
    if not body.strip():
        raise UsageError("the comment body is empty (to remove the comment, use the delete mode)")
    text, truncated = comment_body(body, target.key, max_chars=max_chars,
                                   report_hint=report_hint)
    ours = _ours(api)
    if mode is Mode.recreate:
        _delete(api, ours)
        created = _create(api, text)
        return CommentResult("recreated" if ours else "created", created.id, created.url,
                             truncated)
    if not ours:
        created = _create(api, text)
        return CommentResult("created", created.id, created.url, truncated)
    newest = ours[-1]
    if _normalise(newest.body) == _normalise(text):
        return CommentResult("unchanged", newest.id, newest.url, truncated)
    edited = _edit(api, newest, text)
    return CommentResult("updated", edited.id, edited.url or newest.url, truncated)
