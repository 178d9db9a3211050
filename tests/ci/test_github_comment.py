"""``istiolint.ci.github_comment`` end to end against a fake GitHub API on loopback."""

from __future__ import annotations

import json
import re
import time
import traceback
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from fake_github import FakeGitHub

from istiolint.ci import github_api
from istiolint.ci.github_comment import (
    MARKER_PREFIX,
    CommentResult,
    CommentTarget,
    Mode,
    comment_body,
    post_comment,
    run_url,
    target_from_environment,
)
from istiolint.errors import UsageError

TOKEN = "ghp_fake_token_0123456789"
MARKER = f"{MARKER_PREFIX} key=default -->"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN).running() as server:
        yield server


class Sleeps(list[float]):
    """An injectable ``sleep`` that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def no_proxy() -> urllib.request.OpenerDirector:
    """An opener that ignores *_proxy variables, so loopback calls stay on loopback."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                       github_api._SameOriginRedirects())


def post(server: FakeGitHub, body: str, *, key: str = "default", pr: int = 42,
         repo: str = "acme/gitops", token: str = TOKEN, sleep: Sleeps | None = None,
         **options: Any) -> CommentResult:
    target = CommentTarget(repo=repo, pr=pr, api_url=server.url, key=key)
    return post_comment(target, body, token, opener=no_proxy(),
                        sleep=sleep if sleep is not None else Sleeps(), **options)


def ours(server: FakeGitHub, key: str = "default") -> list[dict[str, Any]]:
    return [c for c in server.comments_on() if f"{MARKER_PREFIX} key={key} -->" in c["body"]]


def message(info: pytest.ExceptionInfo[UsageError]) -> str:
    """Everything an error shows: its text, repr and formatted traceback with causes."""
    exc = info.value
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


# --- create, update, unchanged ----------------------------------------------------------------


def test_first_run_creates_second_updates_third_writes_nothing(github: FakeGitHub) -> None:
    github.seed("LGTM")
    first = post(github, "### istiolint: 2 errors\n")
    assert first.action == "created"
    assert first.comment_id is not None
    assert first.url == f"https://github.test/acme/gitops/pull/42#issuecomment-{first.comment_id}"
    assert not first.truncated
    (comment,) = ours(github)
    assert comment["body"] == f"### istiolint: 2 errors\n\n{MARKER}"
    assert comment["body"].endswith(MARKER)

    second = post(github, "### istiolint: no problems found\n")
    assert (second.action, second.comment_id) == ("updated", first.comment_id)
    (comment,) = ours(github)
    assert comment["body"].startswith("### istiolint: no problems found\n")
    assert len(github.comments_on()) == 2  # the seeded comment and ours

    github.requests.clear()
    third = post(github, "### istiolint: no problems found\n")
    assert (third.action, third.comment_id) == ("unchanged", first.comment_id)
    assert github.writes() == []


def test_requests_carry_githubs_headers(github: FakeGitHub) -> None:
    post(github, "body")
    (create,) = github.writes()
    assert (create.method, create.path) == ("POST", "/repos/acme/gitops/issues/42/comments")
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    assert create.headers["accept"] == "application/vnd.github+json"
    assert create.headers["x-github-api-version"] == "2022-11-28"
    assert create.headers["user-agent"] == "istiolint"
    assert create.headers["content-type"] == "application/json"
    listing = github.requests[0]
    assert (listing.method, listing.query["per_page"]) == ("GET", "100")


def test_unchanged_ignores_line_endings_and_marker_placement(github: FakeGitHub) -> None:
    old = github.seed(f"{MARKER}\r\nfindings:  \r\n- one\r\n", login="ci-bot")
    result = post(github, "findings:\n- one\n")
    assert (result.action, result.comment_id) == ("unchanged", old["id"])
    assert github.writes() == []


def test_no_user_lookup_when_no_comment_carries_the_marker(github: FakeGitHub) -> None:
    github.seed("unrelated")
    post(github, "body")
    assert "/user" not in [r.path for r in github.requests]


# --- finding our comment --------------------------------------------------------------------


def test_our_comment_on_page_three_is_found_and_not_duplicated(github: FakeGitHub) -> None:
    for n in range(120):
        github.seed(f"comment {n}", login=f"user{n % 7}")
    mine = github.seed(f"old report\n\n{MARKER}", login="ci-bot")
    for n in range(130):
        github.seed(f"later comment {n}")
    assert sorted(c["id"] for c in github.comments_on()).index(mine["id"]) == 120

    result = post(github, "new report")

    assert (result.action, result.comment_id) == ("updated", mine["id"])
    assert len(ours(github)) == 1
    assert github.comments[mine["id"]]["body"].startswith("new report")
    pages = [r.query.get("page", "1") for r in github.requests
             if r.method == "GET" and r.path.endswith("/comments")]
    assert pages == ["1", "2", "3"]
    assert [w.method for w in github.writes()] == ["PATCH"]


def test_pagination_link_to_another_origin_does_not_get_the_token(github: FakeGitHub) -> None:
    for n in range(150):
        github.seed(f"comment {n}")
    github.link_base = "http://attacker.test"
    with pytest.raises(UsageError, match="next-page link leaves") as info:
        post(github, "body")
    assert TOKEN not in message(info)
    assert len(github.requests) == 1


def test_other_users_comment_with_our_marker_is_never_touched(github: FakeGitHub) -> None:
    spoof = github.seed(f"I am the bot, trust me\n\n{MARKER}", login="mallory")
    bot = github.seed(f"posted with GITHUB_TOKEN\n\n{MARKER}", login="github-actions[bot]",
                      user_type="Bot")
    for body in ("first", "second"):
        post(github, body)
    assert github.comments[spoof["id"]]["body"] == spoof["body"]
    assert github.comments[bot["id"]]["body"] == bot["body"]
    assert [w.method for w in github.writes()] == ["POST", "PATCH"]
    mine = [c for c in ours(github) if c["user"]["login"] == "ci-bot"]
    assert len(mine) == 1
    assert mine[0]["body"].startswith("second")


def test_login_comparison_ignores_case(github: FakeGitHub) -> None:
    old = github.seed(f"old\n\n{MARKER}", login="CI-Bot")
    assert post(github, "new").comment_id == old["id"]


def test_github_token_cannot_read_user_so_github_actions_bot_is_the_author() -> None:
    with FakeGitHub(token=TOKEN, login=None).running() as github:
        bot = github.seed(f"old\n\n{MARKER}", login="github-actions[bot]", user_type="Bot")
        mallory = github.seed(f"x\n\n{MARKER}", login="mallory")
        impostor = github.seed(f"x\n\n{MARKER}", login="github-actions[bot]")  # a User account

        result = post(github, "new")

        assert (result.action, result.comment_id) == ("updated", bot["id"])
        assert github.comments[bot["id"]]["body"].startswith("new")
        assert github.comments[mallory["id"]]["body"] == mallory["body"]
        assert github.comments[impostor["id"]]["body"] == impostor["body"]
        user_calls = [r for r in github.requests if r.path == "/user"]
        assert len(user_calls) == 1


def test_with_a_user_token_the_actions_bot_comment_is_not_ours(github: FakeGitHub) -> None:
    bot = github.seed(f"old\n\n{MARKER}", login="github-actions[bot]", user_type="Bot")
    result = post(github, "new")
    assert result.action == "created"
    assert result.comment_id != bot["id"]
    assert github.comments[bot["id"]]["body"] == bot["body"]


def test_two_keys_keep_two_comments(github: FakeGitHub) -> None:
    github.seed(f"someone else's key\n\n{MARKER_PREFIX} key=other -->", login="ci-bot")
    prod = post(github, "prod findings", key="clusters/prod")
    staging = post(github, "staging findings", key="clusters/staging")
    assert prod.comment_id != staging.comment_id
    assert (prod.action, staging.action) == ("created", "created")
    again = post(github, "prod findings, fixed", key="clusters/prod")
    assert (again.action, again.comment_id) == ("updated", prod.comment_id)
    (prod_comment,) = ours(github, "clusters/prod")
    (staging_comment,) = ours(github, "clusters/staging")
    assert prod_comment["body"].startswith("prod findings, fixed")
    assert staging_comment["body"].startswith("staging findings")
    assert len(ours(github, "other")) == 1


def test_several_matches_update_the_newest_and_leave_the_others(github: FakeGitHub) -> None:
    older = github.seed(f"older\n\n{MARKER}", login="ci-bot")
    newer = github.seed(f"newer\n\n{MARKER}", login="ci-bot")
    result = post(github, "fresh")
    assert (result.action, result.comment_id) == ("updated", newer["id"])
    assert github.comments[older["id"]]["body"] == older["body"]
    assert [(w.method, w.path.rsplit("/", 1)[1]) for w in github.writes()] == [
        ("PATCH", str(newer["id"]))]


# --- recreate and delete --------------------------------------------------------------------


def test_recreate_deletes_every_match_then_creates(github: FakeGitHub) -> None:
    first = github.seed(f"a\n\n{MARKER}", login="ci-bot")
    second = github.seed(f"b\n\n{MARKER}", login="ci-bot")
    theirs = github.seed(f"c\n\n{MARKER}", login="mallory")
    result = post(github, "b", mode=Mode.recreate)
    assert result.action == "recreated"
    assert result.comment_id not in (first["id"], second["id"])
    assert first["id"] not in github.comments
    assert second["id"] not in github.comments
    assert theirs["id"] in github.comments
    assert [w.method for w in github.writes()] == ["DELETE", "DELETE", "POST"]
    mine = [c for c in ours(github) if c["user"]["login"] == "ci-bot"]
    assert [c["id"] for c in mine] == [result.comment_id]


def test_recreate_without_an_earlier_comment_creates(github: FakeGitHub) -> None:
    result = post(github, "body", mode="recreate")
    assert result.action == "created"
    assert [w.method for w in github.writes()] == ["POST"]


def test_delete_removes_ours_then_reports_absent(github: FakeGitHub) -> None:
    theirs = github.seed(f"c\n\n{MARKER}", login="mallory")
    created = post(github, "body")
    other_key = post(github, "body", key="other")
    deleted = post(github, "", mode=Mode.delete)
    assert (deleted.action, deleted.comment_id, deleted.url) == ("deleted", created.comment_id,
                                                                 None)
    assert created.comment_id not in github.comments
    assert theirs["id"] in github.comments
    assert other_key.comment_id in github.comments
    github.requests.clear()
    assert post(github, "", mode=Mode.delete) == CommentResult("absent", None, None, False)
    assert github.writes() == []


def test_unknown_mode_and_empty_body_are_usage_errors(github: FakeGitHub) -> None:
    with pytest.raises(UsageError, match="unknown comment mode"):
        post(github, "body", mode="hide")
    with pytest.raises(UsageError, match="body is empty"):
        post(github, " \n")
    assert github.requests == []


# --- truncation -------------------------------------------------------------------------------


def big_report(chars: int) -> str:
    sections: list[str] = []
    n = 0
    while sum(map(len, sections)) < chars:
        rows = "\n".join(f"| {n}.{i} | 🔴 error | <code>IAP001</code> | allows any principal |"
                         for i in range(40))
        sections.append(f"\n<details open><summary>file {n}.yaml</summary>\n\n"
                        f"| Line | Severity | Rule | Message |\n|---|---|---|---|\n{rows}\n\n"
                        "</details>\n")
        n += 1
    return "### istiolint: many errors\n" + "".join(sections)


def test_a_200000_character_body_is_truncated_and_stays_well_formed(github: FakeGitHub) -> None:
    report = big_report(200_000)
    assert len(report) >= 200_000
    hint = "https://github.com/acme/gitops/actions/runs/77"
    result = post(github, report, report_hint=hint)
    assert result.truncated
    (comment,) = ours(github)
    body = comment["body"]
    assert len(body) <= 65_000
    assert body.endswith(MARKER)
    content = body[:-len(MARKER)].rstrip()
    assert content.endswith(f"Full report: {hint}")
    assert f"{len(report.rstrip()):,} characters" in content
    assert content.count("<details") == content.count("</details>")
    assert len(content) > 60_000  # cut near the limit, not far before it
    head = content.partition("\n\n---\n")[0]
    kept = head.removesuffix("\n</details>")
    assert report.startswith(kept)
    assert kept.endswith("|\n")  # at the end of a table row, inside a <details> block


def test_truncation_closes_the_details_block_it_cuts_inside() -> None:
    report = "intro\n\n<details><summary>all</summary>\n\n" + "".join(
        f"line {n}\n" for n in range(20_000)) + "\n</details>\n"
    body, truncated = comment_body(report, max_chars=10_000)
    assert truncated
    assert len(body) <= 10_000
    head, _, tail = body.partition("\n\n---\n")
    assert head.endswith("\n\n</details>")
    assert head.count("<details>") == head.count("</details>") == 1
    assert "Truncated" in tail
    assert "The full report is in the CI job's output." in tail


def test_truncation_closes_a_code_fence_before_the_details() -> None:
    report = "<details>\n\n```yaml\n" + "".join(f"key{n}: value\n" for n in range(5_000))
    body, truncated = comment_body(report, max_chars=5_000)
    assert truncated
    head = body.partition("\n\n---\n")[0]
    assert re.search(r"key\d+: value\n```\n\n</details>$", head), head[-80:]


def test_truncation_never_cuts_inside_a_multi_line_tag() -> None:
    tag = '<img alt="diagram"\n' + "".join(f'     data-{n}="x"\n' for n in range(400)) + "  >\n"
    report = "before\n" + tag + "after\n" * 100
    body, truncated = comment_body(report, max_chars=2_000)
    assert truncated
    head = body.partition("\n\n---\n")[0]
    assert head == "before", head[-60:]


def test_truncation_of_one_huge_line_cuts_inside_it_but_not_inside_a_tag() -> None:
    report = "x" * 3_000 + "<code>never cut</code>" * 1_000
    body, truncated = comment_body(report, max_chars=5_000)
    assert truncated
    assert len(body) <= 5_000
    head = body.partition("\n\n---\n")[0]
    assert head.startswith("x" * 3_000)
    assert re.fullmatch(r"x{3000}(<code>never cut</code>)*(<code>[a-z ]*\n</code>)?", head), (
        head[-60:])


def test_a_short_body_is_not_truncated() -> None:
    assert comment_body("ok\n", max_chars=2_000) == (f"ok\n\n{MARKER}", False)


def test_markers_in_the_input_body_are_replaced() -> None:
    body, _ = comment_body(f"report\n{MARKER_PREFIX} key=other -->\n", key="mine")
    assert body == f"report\n\n{MARKER_PREFIX} key=mine -->"


def test_bad_limits_and_keys_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="size limit"):
        comment_body("x", max_chars=70_000)
    with pytest.raises(UsageError, match="size limit"):
        comment_body("x", max_chars=100)
    with pytest.raises(UsageError, match="comment key"):
        comment_body("x", key="a -->")
    with pytest.raises(UsageError, match="comment key"):
        CommentTarget("acme/gitops", 1, key="a--b")
    with pytest.raises(UsageError, match="OWNER/NAME"):
        CommentTarget("acme", 1)
    with pytest.raises(UsageError, match="positive"):
        CommentTarget("acme/gitops", 0)
    with pytest.raises(UsageError, match="credentials"):
        CommentTarget("acme/gitops", 1, api_url="https://user:secret@github.example/api/v3")
    with pytest.raises(UsageError, match="must be http"):
        CommentTarget("acme/gitops", 1, api_url="github.example/api/v3")


# --- retries ------------------------------------------------------------------------------------


def test_429_is_retried_after_retry_after(github: FakeGitHub) -> None:
    sleeps = Sleeps()
    github.fail_next(1, 429, {"Retry-After": "7"})
    started = time.monotonic()
    result = post(github, "body", sleep=sleeps)
    assert result.action == "created"
    assert sleeps == [7.0]
    assert time.monotonic() - started < 5  # the injected sleep, not a real one


def test_secondary_rate_limit_403_waits_at_most_60_seconds(github: FakeGitHub) -> None:
    sleeps = Sleeps()
    github.fail_next(2, 403, {"Retry-After": "120"}, "You have exceeded a secondary rate limit")
    assert post(github, "body", sleep=sleeps).action == "created"
    assert sleeps == [60.0, 60.0]


def test_primary_rate_limit_waits_until_the_reset(github: FakeGitHub) -> None:
    sleeps = Sleeps()
    reset = int(time.time()) + 20
    github.fail_next(1, 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
                     "API rate limit exceeded")
    assert post(github, "body", sleep=sleeps).action == "created"
    (wait,) = sleeps
    assert 15 <= wait <= 22


def test_rate_limit_gives_up_after_three_retries(github: FakeGitHub) -> None:
    sleeps = Sleeps()
    github.fail_next(4, 429, {"Retry-After": "1"})
    with pytest.raises(UsageError, match="rate limit still holds"):
        post(github, "body", sleep=sleeps)
    assert sleeps == [1.0, 1.0, 1.0]
    assert len(github.requests) == 4


def test_502_twice_then_success(github: FakeGitHub) -> None:
    sleeps = Sleeps()
    github.fail_next(2, 502, message="Bad Gateway")
    assert post(github, "body", sleep=sleeps).action == "created"
    assert sleeps == [1.0, 2.0]
    assert len(ours(github)) == 1


def test_server_errors_give_up_after_three_retries(github: FakeGitHub) -> None:
    sleeps = Sleeps()
    github.fail_next(4, 503, message="Service Unavailable")
    with pytest.raises(UsageError, match=r"kept failing \(503: Service Unavailable\)"):
        post(github, "body", sleep=sleeps)
    assert sleeps == [1.0, 2.0, 4.0]


# --- errors ---------------------------------------------------------------------------------------


def test_401_names_the_token_but_never_shows_it(github: FakeGitHub) -> None:
    github.echo_authorization = True
    wrong = "ghp_wrong_token_abcdefghijkl"
    with pytest.raises(UsageError, match="rejected the token") as info:
        post(github, "body", token=wrong)
    text = message(info)
    assert "set GITHUB_TOKEN" in text
    assert "you sent Authorization: Bearer [token]" in text  # the server's words, redacted
    assert wrong not in text


def test_403_read_only_token_explains_permissions_and_forks(github: FakeGitHub) -> None:
    github.read_only = True
    github.echo_authorization = True
    with pytest.raises(UsageError) as info:
        post(github, "body")
    text = message(info)
    assert "`pull-requests: write`" in text
    assert "forks" in text
    assert "workflow_run" in text
    assert "docs/ci/github.md" in text
    assert "issues=write; pull_requests=write" in text
    assert TOKEN not in text


def test_404_for_an_unknown_repository_or_pull_request(github: FakeGitHub) -> None:
    github.echo_authorization = True
    cases = [({"repo": "acme/missing"}, "repository acme/missing or pull request #42"),
             ({"pr": 7}, "repository acme/gitops or pull request #7")]
    for options, names in cases:
        with pytest.raises(UsageError, match="404 Not Found") as info:
            post(github, "body", **options)
        text = message(info)
        assert f"{names} does not exist, or the token has no access to it" in text
        assert TOKEN not in text


def test_network_errors_name_the_api_url() -> None:
    server = FakeGitHub(token=TOKEN)
    url = server.url
    server._httpd.server_close()  # nothing listens on the port any more
    target = CommentTarget("acme/gitops", 42, api_url=url)
    with pytest.raises(UsageError, match=f"cannot reach the GitHub API at {re.escape(url)}"):
        post_comment(target, "body", TOKEN, opener=no_proxy(), sleep=Sleeps())


def test_a_missing_token_asks_for_github_token(github: FakeGitHub) -> None:
    for token in ("", "  \n"):
        with pytest.raises(UsageError, match="set GITHUB_TOKEN"):
            post(github, "body", token=token)
    assert github.requests == []


def test_a_token_with_control_characters_is_refused_without_showing_it(
        github: FakeGitHub) -> None:
    bad = "ghp_abc\r\nX-Injected: 1"
    with pytest.raises(UsageError, match="control characters") as info:
        post(github, "body", token=bad)
    assert "ghp_abc" not in message(info)
    assert github.requests == []


def test_redirects_keep_the_token_on_the_same_origin_only() -> None:
    handler = github_api._SameOriginRedirects()
    request = urllib.request.Request("https://api.github.com/repos/a/b/issues/1/comments")
    request.add_unredirected_header("Authorization", f"Bearer {TOKEN}")
    same = handler.redirect_request(request, None, 301, "Moved", Message(),  # type: ignore[arg-type]
                                    "https://api.github.com/repositories/9/issues/1/comments")
    other = handler.redirect_request(request, None, 301, "Moved", Message(),  # type: ignore[arg-type]
                                     "https://evil.example/repos/a/b/issues/1/comments")
    assert same is not None and other is not None
    assert same.get_header("Authorization") == f"Bearer {TOKEN}"
    assert other.get_header("Authorization") is None


# --- the GitHub Actions environment ---------------------------------------------------------


def write_event(tmp_path: Path, payload: dict[str, Any]) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return str(path)


def test_target_from_a_pull_request_event(tmp_path: Path) -> None:
    env = {"GITHUB_REPOSITORY": "acme/gitops", "GITHUB_EVENT_NAME": "pull_request",
           "GITHUB_API_URL": "https://ghe.example/api/v3/",
           "GITHUB_EVENT_PATH": write_event(tmp_path, {"action": "synchronize", "number": 42,
                                                        "pull_request": {"number": 42}})}
    assert target_from_environment(None, None, env) == CommentTarget(
        "acme/gitops", 42, api_url="https://ghe.example/api/v3")
    assert target_from_environment("other/repo", 7, env) == CommentTarget(
        "other/repo", 7, api_url="https://ghe.example/api/v3")


def test_target_from_an_issue_comment_event_on_a_pull_request(tmp_path: Path) -> None:
    env = {"GITHUB_REPOSITORY": "acme/gitops", "GITHUB_EVENT_NAME": "issue_comment",
           "GITHUB_EVENT_PATH": write_event(tmp_path, {
               "issue": {"number": 9, "pull_request": {"url": "https://api.github.com/..."}},
               "comment": {"id": 1}})}
    assert target_from_environment(None, None, env) == CommentTarget("acme/gitops", 9)


def test_an_issue_comment_on_a_plain_issue_needs_pr(tmp_path: Path) -> None:
    env = {"GITHUB_REPOSITORY": "acme/gitops", "GITHUB_EVENT_NAME": "issue_comment",
           "GITHUB_EVENT_PATH": write_event(tmp_path, {"issue": {"number": 9}})}
    with pytest.raises(UsageError, match=r"issue #9, not a pull request: pass --pr"):
        target_from_environment(None, None, env)


def test_missing_pull_request_number_is_a_usage_error(tmp_path: Path) -> None:
    env = {"GITHUB_REPOSITORY": "acme/gitops"}
    with pytest.raises(UsageError, match=r"--pr N.*GITHUB_EVENT_PATH is not set"):
        target_from_environment(None, None, env)
    env = {"GITHUB_REPOSITORY": "acme/gitops", "GITHUB_EVENT_NAME": "push",
           "GITHUB_EVENT_PATH": write_event(tmp_path, {"ref": "refs/heads/main"})}
    with pytest.raises(UsageError, match=r"push payload .* names no pull request: pass --pr"):
        target_from_environment(None, None, env)
    env["GITHUB_EVENT_PATH"] = str(tmp_path / "missing.json")
    with pytest.raises(UsageError, match="cannot read the event payload"):
        target_from_environment(None, None, env)


def test_workflow_run_events_require_pr(tmp_path: Path) -> None:
    payload = {"workflow_run": {"pull_requests": [{"number": 5}], "head_branch": "x"}}
    env = {"GITHUB_REPOSITORY": "acme/gitops", "GITHUB_EVENT_NAME": "workflow_run",
           "GITHUB_EVENT_PATH": write_event(tmp_path, payload)}
    with pytest.raises(UsageError, match=r"workflow_run .* pass --pr"):
        target_from_environment(None, None, env)
    del env["GITHUB_EVENT_NAME"]  # the payload alone gives it away too
    with pytest.raises(UsageError, match=r"workflow_run .* pass --pr"):
        target_from_environment(None, None, env)
    assert target_from_environment(None, 5, env).pr == 5


def test_missing_repository_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"--repo OWNER/NAME.*GITHUB_REPOSITORY"):
        target_from_environment(None, 1, {})


def test_run_url() -> None:
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/gitops",
           "GITHUB_RUN_ID": "123"}
    assert run_url(env) == "https://github.com/acme/gitops/actions/runs/123"
    assert run_url({**env, "GITHUB_RUN_ID": ""}) is None
