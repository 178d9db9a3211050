"""cel-python, set up to evaluate the CRDs' rules: imported only when a rule must really be
compiled or evaluated (a run whose outcomes are all remembered never pays its 0.06 s)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParseError, CELParser
from celpy.evaluation import CELEvalError

from istiolint.cache import cache_dir
from istiolint.cel.convert import to_cel
from istiolint.cel.library import KNOWN_FUNCTIONS, kubernetes_functions
from istiolint.cel.parsed import ParsedRules

_NO_SUCH_MEMBER = re.compile(r"no such member in mapping: '(.*)'")
_GENERIC_ERRORS = ("no such overload", "found no matching overload")


class _ParserOnFirstUse:
    """Stands for cel-python's Lark parser (a class attribute it builds when an Environment is
    made) until a rule must really be parsed: the CRDs' rules come parsed (:mod:`.parsed`)."""

    def parse(self, text: str) -> Any:
        return _build_parser().parse(text)


def _build_parser() -> lark.Lark:
    """cel-python's parser, with Lark's grammar-analysis cache in istiolint's cache directory
    when there is one (0.3 s to build, 0.01 s from the cache); once per process."""
    built = CELParser.CEL_PARSER
    if isinstance(built, lark.Lark):
        return built
    directory = cache_dir()
    grammar = (Path(celpy.__file__).parent / "cel.lark").read_text(encoding="utf-8")
    built = lark.Lark(
        grammar, parser="lalr", start="expr", debug=True, g_regex_flags=re.M,
        lexer_callbacks={"IDENT": CELParser.ambiguous_literals}, propagate_positions=True,
        maybe_placeholders=False, priority="invert", tree_class=lark.Tree,
        cache=str(directory / f"cel-parser-lark{lark.__version__}.pickle")
        if directory is not None else False)
    CELParser.CEL_PARSER = built
    return built


def _called_names(ast: Any) -> set[str]:
    names: set[str] = set()
    for node in ast.iter_subtrees():
        if node.data == "ident_arg":
            names.add(str(node.children[0]))
        elif node.data == "member_dot_arg":
            names.add(str(node.children[1]))
    return names


class Runtime:
    """Compiles each distinct rule once and evaluates it."""

    def __init__(self, parsed: ParsedRules | None) -> None:
        if CELParser.CEL_PARSER is None:
            CELParser.CEL_PARSER = _ParserOnFirstUse()  # type: ignore[assignment]
        self._env = celpy.Environment()
        self._parsed = parsed
        self._errors: list[str] = []  # error texts the library functions produced, per evaluation
        self._functions = kubernetes_functions(self._errors)
        self._programs: dict[str, celpy.Runner | str] = {}  # rule -> program, or why not

    def program(self, rule: str) -> celpy.Runner | str:
        """The rule compiled, or why it cannot be."""
        program = self._programs.get(rule)
        if program is None:
            program = self._programs[rule] = self._compile(rule)
        return program

    @staticmethod
    def value(schema: Mapping[str, Any], value: Any) -> celtypes.Value:
        """``value`` as CEL sees it; ValueError or OverflowError past CEL's integers."""
        return to_cel(schema, value)

    def _compile(self, rule: str) -> celpy.Runner | str:
        try:
            ast = self._parsed.get(rule) if self._parsed is not None else None
            if ast is None:
                ast = self._env.compile(rule)
        except CELParseError as err:
            return f"syntax error at line {err.line}, column {err.column}"
        unknown = sorted(_called_names(ast) - KNOWN_FUNCTIONS)
        if unknown:
            return f"unsupported function {', '.join(unknown)}"
        return self._env.program(ast, functions=self._functions)

    def run(self, program: celpy.Runner, value: celtypes.Value) -> bool | str:
        """True or False, or the text of the runtime error."""
        self._errors.clear()
        try:
            result = program.evaluate({"self": value})
        except CELEvalError as err:
            return self._error_text(err)
        except Exception as err:  # a cel-python defect must not stop the run
            return f"evaluation error: {type(err).__name__}: {err}"
        if isinstance(result, celtypes.BoolType):
            return bool(result)
        return f"rule evaluated to {type(result).__name__}, not a bool"

    def _error_text(self, err: CELEvalError) -> str:
        text = str(err.args[0]) if err.args else "evaluation error"
        if self._errors and text.startswith(_GENERIC_ERRORS):
            return self._errors[0]  # cel-python hid the original error behind a generic one
        missing = _NO_SUCH_MEMBER.fullmatch(text)
        return f"no such key: {missing.group(1)}" if missing else text
