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

The body (marker, truncation) comes from :mod:`istiolint.ci.comment_body`, the calls to the
API (errors, retries, the token) go through :mod:`istiolint.ci.github_api`.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from istiolint.ci.comment_body import (
    COMMENT_LIMIT,
    MARKER_PREFIX,
    comment_body,
    marker_line,
    normalise,
)
from istiolint.ci.github_api import (
    FORK_DOCS,
    Api,
    check_token,
    default_opener,
    url_path,
)
from istiolint.errors import UsageError

__all__ = ["ACTIONS_BOT", "COMMENT_LIMIT", "DEFAULT_API_URL", "MARKER_PREFIX", "CommentResult",
           "CommentTarget", "Mode", "comment_body", "default_opener", "post_comment", "run_url",
           "target_from_environment"]

DEFAULT_API_URL = "https://api.github.com"
ACTIONS_BOT = "github-actions[bot]"

_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
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
        marker_line(self.key)
        _check_api_url(self.api_url)
        object.__setattr__(self, "api_url", self.api_url.rstrip("/"))

    @property
    def marker(self) -> str:
        """The hidden line that identifies this key's comment."""
        return marker_line(self.key)

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


def _whoami(api: Api[CommentTarget]) -> _Author:
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


def _all_comments(api: Api[CommentTarget]) -> Iterator[dict[str, Any]]:
    """Every comment of the pull request, following the pagination links."""
    target = api.target
    url: str | None = f"{target.issue_url}/comments?per_page=100"
    seen: set[str] = set()
    while url is not None and url not in seen:
        seen.add(url)
        response = api.call("GET", url, what=f"listing the comments of {target}")
        if not isinstance(response.data, list):
            raise UsageError(f"the GitHub API did not answer {url_path(url)} with a list")
        yield from (item for item in response.data if isinstance(item, dict))
        url = _next_link(response.headers.get("Link"))
        if url is not None and not api.same_origin(url):
            raise UsageError(f"GitHub's next-page link leaves {api.base}: not sending the token "
                             "there")


def _ours(api: Api[CommentTarget]) -> list[_Comment]:
    """This key's comments by the token's account, oldest first."""
    marker = api.target.marker
    marked = [c for c in _all_comments(api)
              if isinstance(c.get("body"), str) and marker in c["body"]]
    if not marked:
        return []
    author = _whoami(api)
    return sorted((_Comment.from_json(c) for c in marked if author.wrote(c)), key=lambda c: c.id)


def _create(api: Api[CommentTarget], body: str) -> _Comment:
    target = api.target
    response = api.call("POST", f"{target.issue_url}/comments", {"body": body},
                        what=f"commenting on {target}")
    return _Comment.from_json(response.data)


def _edit(api: Api[CommentTarget], comment: _Comment, body: str) -> _Comment:
    response = api.call("PATCH", api.target.comment_url(comment.id), {"body": body},
                        what=f"updating comment {comment.id} on {api.target}")
    return _Comment.from_json(response.data)


def _delete(api: Api[CommentTarget], comments: list[_Comment]) -> None:
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
    api = Api(target, check_token(token), opener or default_opener(), sleep)
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
    if normalise(newest.body) == normalise(text):
        return CommentResult("unchanged", newest.id, newest.url, truncated)
    edited = _edit(api, newest, text)
    return CommentResult("updated", edited.id, edited.url or newest.url, truncated)
