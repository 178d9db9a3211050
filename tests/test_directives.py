from __future__ import annotations

from istiolint.directives import scan_directives


def test_trailing_comment_covers_its_line() -> None:
    (directive,), malformed = scan_directives("a: 1\nb: 2  # istiolint: disable=SC001 -- why\n")
    assert malformed == []
    assert (directive.first_line, directive.last_line) == (2, 2)
    assert directive.codes == ("SC001",)
    assert directive.reason == "why"


def test_own_line_comment_covers_the_next_line_with_content() -> None:
    text = "# istiolint: disable-next-line=a, b\n\n# note\nc: 3\n"
    (directive,), _ = scan_directives(text)
    assert (directive.first_line, directive.last_line) == (4, 4)
    assert directive.codes == ("a", "b")


def test_document_and_file_scopes() -> None:
    text = "a: 1\n---\nb: 2\n# istiolint: disable-document=all\nc: 3\n---\nd: 4\n"
    (directive,), _ = scan_directives(text)
    assert (directive.first_line, directive.last_line) == (3, 5)
    (whole,), _ = scan_directives("# istiolint: disable-file=SC\na: 1\nb: 2\n")
    assert (whole.first_line, whole.last_line) == (1, 3)


def test_a_trailing_comment_after_the_directive_is_allowed() -> None:
    (directive,), _ = scan_directives("a: 1  # istiolint: disable=X -- r  # another note\n")
    assert directive.reason == "r"


def test_malformed_directives_are_reported() -> None:
    directives, malformed = scan_directives("# istiolint: disable\n# istiolint: enable=X\n")
    assert directives == []
    assert [m.position.line for m in malformed] == [1, 2]


def test_text_inside_a_string_is_not_a_directive() -> None:
    assert scan_directives('a: "#istiolint: disable=X"\n') == ([], [])
