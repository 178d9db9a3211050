"""A GitHub REST API with only what ``istiolint comment github`` uses, for end-to-end tests.

Endpoints: ``GET /user``; ``GET`` and ``POST /repos/O/R/issues/N/comments`` (ascending ids,
``per_page``/``page`` pagination with a ``Link`` header of absolute URLs); ``PATCH`` and
``DELETE /repos/O/R/issues/comments/ID``. Every request needs ``Authorization: Bearer TOKEN``
(401 otherwise). The token belongs to ``login``, or, with ``login=None``, it is a GITHUB_TOKEN:
``/user`` answers 403 and comments are posted by ``github-actions[bot]``. ``read_only`` makes
writes answer 403 as for a fork's pull request. ``fail_next`` scripts the next answers (rate
limits, server errors). With ``echo_authorization`` error bodies repeat the Authorization
header, as a careless proxy might, so tests can check that the token never reaches a message.
Every request is recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACTIONS_BOT = {"login": "github-actions[bot]", "type": "Bot"}
BODY_LIMIT = 65_536


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeGitHub:
    """One repository with some pull requests, their comments, and every request received."""

    def __init__(self, *, token: str = "ghp_fake_token_0123456789", login: str | None = "ci-bot",
                 repo: str = "acme/gitops", pulls: tuple[int, ...] = (42,)) -> None:
        self.token = token
        self.login = login
        self.repo = repo
        self.pulls = set(pulls)
        self.read_only = False
        self.echo_authorization = False
        self.link_base: str | None = None  # where pagination links point; default: this server
        self.comments: dict[int, dict[str, Any]] = {}  # id -> comment, with "pr"
        self.requests: list[Request] = []
        self._scripted: list[Answer] = []
        self._next_id = 1000
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[FakeGitHub]:
        thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join()

    # --- set-up and inspection --------------------------------------------------------------

    def seed(self, body: str, *, login: str = "alice", user_type: str = "User",
             pr: int = 42) -> dict[str, Any]:
        """Add a comment as if ``login`` had written it."""
        with self._lock:
            return self._add(pr, body, {"login": login, "type": user_type})

    def fail_next(self, count: int, status: int, headers: dict[str, str] | None = None,
                  message: str = "scripted failure") -> None:
        """Answer the next ``count`` requests with ``status`` and ``headers``."""
        with self._lock:
            self._scripted += [Answer(status, {"message": message}, headers or {})] * count

    def comments_on(self, pr: int = 42) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.comments.values() if c["pr"] == pr]

    def writes(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method != "GET"]

    @property
    def author(self) -> dict[str, str]:
        """Who the token posts as."""
        return {"login": self.login, "type": "User"} if self.login else dict(ACTIONS_BOT)

    # --- the API ------------------------------------------------------------------------------

    def handle(self, method: str, target: str, body: Any, headers: dict[str, str]) -> Answer:
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.requests.append(Request(method, url.path, query, body, headers))
            if self._scripted:
                return self._scripted.pop(0)
            authorization = headers.get("authorization", "")
            if authorization != f"Bearer {self.token}":
                return self._error(401, "Bad credentials", authorization)
            return self._route(method, url.path.strip("/").split("/"), query, body, authorization)

    def _route(self, method: str, parts: list[str], query: dict[str, str], body: Any,
               authorization: str) -> Answer:
        if parts == ["user"] and method == "GET":
            if self.login is None:
                return self._error(403, "Resource not accessible by integration", authorization)
            return Answer(200, {"login": self.login, "id": 1, "type": "User"})
        if len(parts) < 5 or parts[0] != "repos" or "/".join(parts[1:3]) != self.repo:
            return self._error(404, "Not Found", authorization)
        rest = parts[3:]
        if len(rest) == 3 and rest[0] == "issues" and rest[2] == "comments" and rest[1].isdigit():
            pr = int(rest[1])
            if pr not in self.pulls:
                return self._error(404, "Not Found", authorization)
            if method == "GET":
                return self._list(pr, query, "/".join(parts))
            if method == "POST":
                return self._write(authorization, body) or Answer(
                    201, self._add(pr, body["body"], self.author))
        if len(rest) == 3 and rest[:2] == ["issues", "comments"] and rest[2].isdigit():
            comment = self.comments.get(int(rest[2]))
            if comment is None:
                return self._error(404, "Not Found", authorization)
            if method == "PATCH":
                if (failure := self._write(authorization, body)) is not None:
                    return failure
                comment["body"] = body["body"]
                comment["updated_at"] = "2025-01-02T00:00:00Z"
                return Answer(200, _public(comment))
            if method == "DELETE":
                if self.read_only:
                    return self._forbidden(authorization)
                del self.comments[comment["id"]]
                return Answer(204)
        return self._error(404, "Not Found", authorization)

    def _list(self, pr: int, query: dict[str, str], path: str) -> Answer:
        per_page = min(int(query.get("per_page", "30")), 100)
        page = max(int(query.get("page", "1")), 1)
        comments = sorted((c for c in self.comments.values() if c["pr"] == pr),
                          key=lambda c: c["id"])
        last = max((len(comments) + per_page - 1) // per_page, 1)
        items = comments[(page - 1) * per_page:page * per_page]
        base = self.link_base or self.url
        links = []
        if page < last:
            links += [(page + 1, "next"), (last, "last")]
        if page > 1:
            links += [(1, "first"), (page - 1, "prev")]
        link = ", ".join(f'<{base}/{path}?per_page={per_page}&page={n}>; rel="{rel}"'
                         for n, rel in links)
        return Answer(200, [_public(c) for c in items], {"Link": link} if link else {})

    def _write(self, authorization: str, body: Any) -> Answer | None:
        if self.read_only:
            return self._forbidden(authorization)
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            return self._error(422, "Invalid request: body is missing", authorization)
        if len(body["body"]) > BODY_LIMIT:
            return self._error(422, "Validation Failed", authorization,
                               [{"message": "Body is too long (maximum is 65536 characters)"}])
        return None

    def _forbidden(self, authorization: str) -> Answer:
        answer = self._error(403, "Resource not accessible by integration", authorization)
        answer.headers["X-Accepted-GitHub-Permissions"] = "issues=write; pull_requests=write"
        return answer

    def _error(self, status: int, message: str, authorization: str,
               errors: list[dict[str, str]] | None = None) -> Answer:
        if self.echo_authorization:
            message += f" (you sent Authorization: {authorization})"
        body: dict[str, Any] = {"message": message,
                                "documentation_url": "https://docs.github.com/rest"}
        if errors:
            body["errors"] = errors
        return Answer(status, body, {})

    def _add(self, pr: int, body: str, user: dict[str, str]) -> dict[str, Any]:
        self._next_id += 1
        comment = {"id": self._next_id, "pr": pr, "body": body, "user": dict(user),
                   "html_url": f"https://github.test/{self.repo}/pull/{pr}"
                               f"#issuecomment-{self._next_id}",
                   "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}
        self.comments[self._next_id] = comment
        return _public(comment)


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in comment.items() if k != "pr"}


def _handler(server: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = server.handle(self.command, self.path, body, headers)
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
