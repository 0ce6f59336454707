"""A Go ``text/template`` interpreter for the subset model templates use.

In: a template's text (Ollama serves it in ``/api/show`` as ``template``) and the data
to execute it with. Out: the text Go's ``text/template`` would write, byte for byte.

Covered: text and actions with trim markers (``{{-`` / ``-}}``), comments, ``if`` /
``else if`` / ``else``, ``range`` (over slices, maps in key order and integers, with
``$i, $v :=`` declarations and ``else``), ``with`` (and ``else with``), ``break`` and
``continue``, variables (``:=`` and ``=``), fields and chains (``.A.B``, ``$x.A``,
``(pipeline).A``), pipelines with ``|``, string, raw-string, character, number and
boolean literals, ``nil``, and Go's built-in functions (``and``, ``or``, ``not``, ``len``,
``index``, ``slice``, ``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge``, ``print``,
``printf``, ``println``, ``html``, ``js``, ``urlquery``) plus the functions a caller
passes (Ollama adds ``json``, ``currentDate``, ``yesterdayDate``, ``toTypeScriptType``).
``define`` / ``template`` / ``block`` are refused with ``TemplateError``: no model
template of Ollama's library uses them, and a caller then counts by estimate.

Values follow Go's: ``None`` is nil, ``dict`` a ``map[string]any``, ``list`` a slice,
and a ``GoStruct`` a struct whose fields print in order (``{a b}``); a value with a
``go_string`` method is a ``fmt.Stringer``. Printing follows ``fmt.Print`` as
``text/template`` uses it (``<no value>`` for a missing value at the top, ``<nil>``
inside a composite, ``map[k:v]`` with sorted keys, floats as ``%v``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from zero_llm.errors import ZeroLLMError

__all__ = [
    "GoStruct",
    "Template",
    "TemplateError",
    "go_print",
    "go_truth",
    "parse_template",
]


class TemplateError(ZeroLLMError):
    """A template this interpreter cannot parse or execute (count by estimate instead)."""


class GoStruct:
    """A Go struct value: its fields print in declaration order (``{a b c}``)."""

    go_fields: tuple[str, ...] = ()

    def go_field(self, name: str) -> Any:
        """The value of an exported field, as ``.Name`` reads it."""
        if name not in self.go_fields:
            raise TemplateError(f"can't evaluate field {name} in type {type(self).__name__}")
        return getattr(self, name)


# ----------------------------------------------------------------------------- values
def go_truth(value: Any) -> bool:
    """Go template truth: false, 0, nil, and empty strings, slices and maps are false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return True


def shortest_digits(value: float) -> tuple[str, int]:
    """The shortest round-trip digits of a finite, non-zero float and its decimal exponent.

    ``("15", 2)`` stands for 1.5e2: the exponent is that of the first digit.
    """
    _, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    return text, exponent + len(digits) - 1


def _e_format(value: float, digits: str, exponent: int, min_exp_digits: int) -> str:
    sign = "-" if value < 0 else ""
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{head}e{'-' if exponent < 0 else '+'}{abs(exponent):0{min_exp_digits}d}"


def _f_format(value: float, digits: str, exponent: int) -> str:
    sign = "-" if value < 0 else ""
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    whole = digits[: exponent + 1].ljust(exponent + 1, "0")
    fraction = digits[exponent + 1 :]
    return f"{sign}{whole}{'.' + fraction if fraction else ''}"


def format_float(value: float) -> str:
    """A float64 as Go's ``fmt`` prints it with ``%v`` (strconv ``'g'``, shortest digits)."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    digits, exponent = shortest_digits(value)
    if exponent < -4 or exponent >= 6:  # strconv 'g' with the shortest digits: precision 6
        return _e_format(value, digits, exponent, 2)
    return _f_format(value, digits, exponent)


def format_json_float(value: float) -> str:
    """A float64 as Go's ``encoding/json`` writes it (``'f'``, or ``'e'`` outside 1e-6..1e21)."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    digits, exponent = shortest_digits(value)
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        text = _e_format(value, digits, exponent, 2)
        if text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return text
    return _f_format(value, digits, exponent)


def go_print(value: Any) -> str:
    """A value as ``fmt.Print`` writes it (a nil inside a composite is ``<nil>``)."""
    stringer = getattr(value, "go_string", None)
    if stringer is not None:
        return str(stringer())
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_print(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{go_print(k)}:{go_print(v)}" for k, v in items) + "]"
    if isinstance(value, GoStruct):
        return "{" + " ".join(go_print(getattr(value, f)) for f in value.go_fields) + "}"
    return str(value)


def _sort_key(key: Any) -> tuple[int, Any]:
    if isinstance(key, bool):
        return (0, key)
    if isinstance(key, int | float):
        return (1, key)
    return (2, str(key))


# ----------------------------------------------------------------------------- lexing
_ACTION = re.compile(r"\{\{(-[ \t\r\n])?")
_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\n]+)
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\\n]|\\.)+')
  | (?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+
                   |(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)(?![\w.]))
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
  | (?P<dot>\.)
  | (?P<variable>\$[A-Za-z0-9_]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<pipe>\|)
  | (?P<comma>,)
    """,
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str
    text: str


def _lex_action(body: str, where: int) -> list[_Tok]:
    tokens: list[_Tok] = []
    position = 0
    while position < len(body):
        match = _TOKEN.match(body, position)
        if match is None:
            raise TemplateError(f"unexpected {body[position]!r} in action at offset {where}")
        kind = match.lastgroup or ""
        text = match.group()
        position = match.end()
        if kind == "space":
            continue
        joined = match.start() > 0 and not body[match.start() - 1].isspace()
        if kind == "field" and joined and tokens and tokens[-1].kind in ("rparen", "variable"):
            # (pipeline).Field or $x.Field: a chain on what came before, written joined
            tokens.append(_Tok("chain", text))
            continue
        tokens.append(_Tok(kind, text))
    return tokens


# ----------------------------------------------------------------------------- nodes
@dataclass
class _Node:
    pass


@dataclass
class _Text(_Node):
    text: str


@dataclass
class _Operand:
    kind: str  # field dot variable literal ident pipe
    value: Any = None
    chain: tuple[str, ...] = ()


@dataclass
class _Command:
    args: list[_Operand]


@dataclass
class _Pipe:
    declare: list[str] = field(default_factory=list)
    assign: bool = False
    commands: list[_Command] = field(default_factory=list)


@dataclass
class _ActionNode(_Node):
    pipe: _Pipe


@dataclass
class _Branch(_Node):
    kind: str  # if range with
    pipe: _Pipe
    body: list[_Node]
    otherwise: list[_Node] | None
    memo: _MemoPlan | None = None


@dataclass(frozen=True)
class _MemoPlan:
    """A range body that depends only on its element, being last and root fields (``env``).

    Its output per element can then be reused from one rendering to the next.
    """

    env: tuple[str, ...]


@dataclass
class _Control(_Node):
    kind: str  # break continue


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


# ----------------------------------------------------------------------------- parsing
def _split_template(source: str) -> list[tuple[str, Any]]:
    """Text and action pieces, trim markers applied: [("text", str) | ("action", tokens)]."""
    pieces: list[tuple[str, Any]] = []
    position = 0
    trim_next = False
    while True:
        match = _ACTION.search(source, position)
        text = source[position : match.start() if match else len(source)]
        if trim_next:
            text = text.lstrip(" \t\r\n")
        if match and match.group(1):
            text = text.rstrip(" \t\r\n")
        if text:
            pieces.append(("text", text))
        if match is None:
            return pieces
        start = match.end()
        if source.startswith("/*", start):
            end_comment = source.find("*/", start + 2)
            if end_comment < 0:
                raise TemplateError("unclosed comment")
            close = end_comment + 2
            trim_next = source.startswith(" -}}", close) or source.startswith("\t-}}", close)
            if trim_next:
                close += 1
            if not source.startswith("}}", close) and not source.startswith("-}}", close):
                raise TemplateError("comment ends before the closing delimiter")
            position = source.index("}}", close) + 2
            continue
        end = _find_close(source, start)
        body = source[start:end]
        trim_next = False
        if len(body) >= 2 and body.endswith("-") and body[-2] in " \t\r\n":
            body = body[:-1]
            trim_next = True
        pieces.append(("action", _lex_action(body, start)))
        position = end + 2


def _find_close(source: str, start: int) -> int:
    """Where the action's ``}}`` is (skipping quoted strings)."""
    position = start
    while position < len(source):
        char = source[position]
        if char in "\"'`":
            closing = position + 1
            while closing < len(source) and source[closing] != char:
                closing += 2 if source[closing] == "\\" and char != "`" else 1
            position = closing + 1
            continue
        if source.startswith("}}", position):
            return position
        position += 1
    raise TemplateError("unclosed action")


class _Parser:
    def __init__(self, pieces: list[tuple[str, Any]]) -> None:
        self.pieces = pieces
        self.at = 0

    def parse_list(self, stops: tuple[str, ...] = ()) -> tuple[list[_Node], list[_Tok] | None]:
        nodes: list[_Node] = []
        while self.at < len(self.pieces):
            kind, value = self.pieces[self.at]
            self.at += 1
            if kind == "text":
                nodes.append(_Text(value))
                continue
            tokens: list[_Tok] = value
            if not tokens:
                raise TemplateError("missing value for command")
            head = tokens[0]
            word = head.text if head.kind == "ident" else ""
            if word in stops:
                return nodes, tokens
            if word in ("if", "range", "with"):
                nodes.append(self.parse_branch(word, tokens[1:]))
            elif word in ("break", "continue"):
                nodes.append(_Control(word))
            elif word in ("end", "else"):
                raise TemplateError(f"unexpected {{{{{word}}}}}")
            elif word in ("define", "template", "block"):
                raise TemplateError(f"{{{{{word}}}}} is not supported")
            else:
                nodes.append(_ActionNode(_parse_pipe(tokens)))
        if stops:
            raise TemplateError("unexpected EOF: missing {{end}}")
        return nodes, None

    def parse_branch(self, kind: str, tokens: list[_Tok]) -> _Branch:
        pipe = _parse_pipe(tokens, allow_declare=True)
        body, stop = self.parse_list(("end", "else"))
        otherwise: list[_Node] | None = None
        if stop is not None and stop[0].text == "else":
            rest = stop[1:]
            if rest and rest[0].kind == "ident" and rest[0].text in ("if", "with"):
                # else if / else with: a nested branch that shares this one's {{end}}
                otherwise = [self.parse_branch(rest[0].text, rest[1:])]
                return _Branch(kind, pipe, body, otherwise)
            if rest:
                raise TemplateError("unexpected words after {{else}}")
            otherwise, stop = self.parse_list(("end",))
        if stop is None or len(stop) != 1:
            raise TemplateError(f"{{{{{kind}}}}} has no matching {{{{end}}}}")
        return _Branch(kind, pipe, body, otherwise)


def _parse_pipe(tokens: list[_Tok], allow_declare: bool = True) -> _Pipe:
    pipe = _Pipe()
    position = 0
    # declarations: $x := / $i, $v := / $x =
    probe = 0
    names: list[str] = []
    while probe < len(tokens) and tokens[probe].kind == "variable":
        names.append(tokens[probe].text)
        probe += 1
        if probe < len(tokens) and tokens[probe].kind == "comma":
            probe += 1
            continue
        break
    if names and probe < len(tokens) and tokens[probe].kind in ("declare", "assign"):
        if not allow_declare:
            raise TemplateError("declaration not allowed here")
        pipe.declare = names
        pipe.assign = tokens[probe].kind == "assign"
        position = probe + 1
    command: list[_Operand] = []
    while position < len(tokens):
        token = tokens[position]
        if token.kind == "pipe":
            if not command:
                raise TemplateError("missing command before |")
            pipe.commands.append(_Command(command))
            command = []
            position += 1
            continue
        operand, position = _parse_operand(tokens, position)
        command.append(operand)
    if command:
        pipe.commands.append(_Command(command))
    if not pipe.commands:
        raise TemplateError("missing value for command")
    return pipe


def _parse_operand(tokens: list[_Tok], position: int) -> tuple[_Operand, int]:
    token = tokens[position]
    position += 1
    operand: _Operand
    if token.kind == "lparen":
        depth, end = 1, position
        while end < len(tokens) and depth:
            if tokens[end].kind == "lparen":
                depth += 1
            elif tokens[end].kind == "rparen":
                depth -= 1
            end += 1
        if depth:
            raise TemplateError("unclosed left paren")
        operand = _Operand("pipe", _parse_pipe(tokens[position : end - 1], allow_declare=False))
        position = end
    elif token.kind == "field":
        operand = _Operand("field", chain=tuple(token.text[1:].split(".")))
    elif token.kind == "dot":
        operand = _Operand("dot")
    elif token.kind == "variable":
        operand = _Operand("variable", token.text)
    elif token.kind == "ident":
        if token.text in ("true", "false"):
            operand = _Operand("literal", token.text == "true")
        elif token.text == "nil":
            operand = _Operand("literal", None)
        else:
            operand = _Operand("ident", token.text)
    elif token.kind == "string":
        operand = _Operand("literal", _unquote(token.text))
    elif token.kind == "raw":
        operand = _Operand("literal", token.text[1:-1].replace("\r", ""))
    elif token.kind == "char":
        operand = _Operand("literal", ord(_unquote('"' + token.text[1:-1] + '"')))
    elif token.kind == "number":
        operand = _Operand("literal", _number(token.text))
    else:
        raise TemplateError(f"unexpected {token.text!r} in operand")
    while position < len(tokens) and tokens[position].kind == "chain":
        operand = _Operand("chained", operand, tuple(tokens[position].text[1:].split(".")))
        position += 1
    return operand, position


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unquote(text: str) -> str:
    body = text[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        code = body[index + 1]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            index += 2
        elif code in "\\'\"":
            out.append(code)
            index += 2
        elif code == "x":
            out.append(chr(int(body[index + 2 : index + 4], 16)))
            index += 4
        elif code == "u":
            out.append(chr(int(body[index + 2 : index + 6], 16)))
            index += 6
        elif code == "U":
            out.append(chr(int(body[index + 2 : index + 10], 16)))
            index += 10
        elif code in "01234567":
            out.append(chr(int(body[index + 1 : index + 4], 8)))
            index += 4
        else:
            raise TemplateError(f"unknown escape \\{code}")
    return "".join(out)


def _number(text: str) -> int | float:
    clean = text.replace("_", "")
    try:
        return int(clean, 0)
    except ValueError:
        return float(clean)


# ----------------------------------------------------------------------------- execution
Function = Callable[..., Any]


def _go_len(value: Any) -> int:
    if value is None:
        raise TemplateError("len of nil pointer")
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    try:
        return len(value)
    except TypeError as exc:
        raise TemplateError(f"len of type {type(value).__name__}") from exc


def _go_index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list | tuple | str):
            if not isinstance(key, int) or not 0 <= key < len(value):
                raise TemplateError(f"index out of range: {key}")
            value = value[key]
        else:
            raise TemplateError(f"can't index item of type {type(value).__name__}")
    return value


def _go_slice(value: Any, *bounds: int) -> Any:
    if not isinstance(value, list | tuple | str):
        raise TemplateError(f"can't slice item of type {type(value).__name__}")
    size = len(value)
    low = bounds[0] if bounds else 0
    high = bounds[1] if len(bounds) > 1 else size
    if not 0 <= low <= high <= size:
        raise TemplateError(f"slice index out of range: [{low}:{high}] of {size}")
    return value[low:high]


def _basic(value: Any) -> Any:
    if isinstance(value, GoStruct | list | dict | tuple):
        raise TemplateError(f"incompatible types for comparison: {type(value).__name__}")
    return value


def _go_eq(first: Any, *others: Any) -> bool:
    if not others:
        raise TemplateError("missing argument for comparison")
    first = _basic(first)
    return any(first == _basic(other) for other in others)


def _go_compare(name: str) -> Function:
    def compare(left: Any, right: Any) -> bool:
        left, right = _basic(left), _basic(right)
        if isinstance(left, str) != isinstance(right, str):
            raise TemplateError(f"incompatible types for comparison in {name}")
        if name == "lt":
            return bool(left < right)
        if name == "le":
            return bool(left <= right)
        if name == "gt":
            return bool(left > right)
        return bool(left >= right)

    return compare


def _go_sprint(*values: Any) -> str:
    out = ""
    for index, value in enumerate(values):
        if index and not isinstance(value, str) and not isinstance(values[index - 1], str):
            out += " "
        out += go_print(value)
    return out


def _go_printf(form: str, *values: Any) -> str:
    queue = list(values)

    def replace(match: re.Match[str]) -> str:
        verb = match.group(1)
        if verb == "%":
            return "%"
        value = queue.pop(0) if queue else None
        if verb == "q":
            return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        if verb == "d" and isinstance(value, int):
            return str(value)
        return go_print(value)

    return re.sub(r"%[-+# 0-9.]*([a-zA-Z%])", replace, form)


BUILTINS: dict[str, Function] = {
    "not": lambda value: not go_truth(value),
    "len": _go_len,
    "index": _go_index,
    "slice": _go_slice,
    "eq": _go_eq,
    "ne": lambda a, b: not _go_eq(a, b),
    "lt": _go_compare("lt"),
    "le": _go_compare("le"),
    "gt": _go_compare("gt"),
    "ge": _go_compare("ge"),
    "print": _go_sprint,
    "printf": _go_printf,
    "println": lambda *values: " ".join(go_print(v) for v in values) + "\n",
    "html": lambda *values: (
        _go_sprint(*values)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    ),
}


@dataclass
class Template:
    """A parsed template; ``execute`` renders it over data."""

    nodes: list[_Node]
    functions: Mapping[str, Function]
    source: str
    memo: dict[Any, str] | None = None
    """Rendered range bodies by (range, element, last, environment), when planned."""

    def execute(self, data: Any) -> str:
        """Render the template over ``data`` as Go's ``Execute`` would."""
        out: list[str] = []
        scope: list[tuple[str, Any]] = [("$", data)]
        try:
            self._run(self.nodes, data, scope, out)
        except (_Break, _Continue) as exc:
            raise TemplateError("break or continue outside range") from exc
        except TemplateError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            raise TemplateError(f"template failed: {exc}") from exc
        return "".join(out)

    def identifiers(self) -> set[str]:
        """Every field and variable name the template mentions, lowercased (Ollama's ``Vars``)."""
        found: set[str] = set()

        def pipe_names(pipe: _Pipe) -> None:
            for command in pipe.commands:
                for operand in command.args:
                    operand_names(operand)

        def operand_names(operand: _Operand) -> None:
            if operand.kind == "field":
                found.update(name.lower() for name in operand.chain)
            elif operand.kind == "variable":
                found.add(str(operand.value).lower())
            elif operand.kind == "pipe":
                pipe_names(operand.value)
            elif operand.kind == "chained":
                operand_names(operand.value)
                found.update(name.lower() for name in operand.chain)

        def walk(nodes: list[_Node]) -> None:
            for node in nodes:
                if isinstance(node, _ActionNode):
                    pipe_names(node.pipe)
                elif isinstance(node, _Branch):
                    pipe_names(node.pipe)
                    walk(node.body)
                    if node.otherwise:
                        walk(node.otherwise)

        walk(self.nodes)
        return found

    # -------------------------------------------------------------- internals
    def _run(
        self, nodes: list[_Node], dot: Any, scope: list[tuple[str, Any]], out: list[str]
    ) -> None:
        for node in nodes:
            if isinstance(node, _Text):
                out.append(node.text)
            elif isinstance(node, _ActionNode):
                value = self._pipe(node.pipe, dot, scope)
                if not node.pipe.declare:
                    out.append("<no value>" if value is None else go_print(value))
            elif isinstance(node, _Branch):
                self._branch(node, dot, scope, out)
            elif isinstance(node, _Control):
                raise _Break() if node.kind == "break" else _Continue()

    def _branch(
        self, node: _Branch, dot: Any, scope: list[tuple[str, Any]], out: list[str]
    ) -> None:
        mark = len(scope)
        try:
            if node.kind == "range":
                self._range(node, dot, scope, out)
                return
            value = self._pipe(node.pipe, dot, scope)
            if go_truth(value):
                self._run(node.body, value if node.kind == "with" else dot, scope, out)
            elif node.otherwise is not None:
                self._run(node.otherwise, dot, scope, out)
        finally:
            del scope[mark:]

    def _range(self, node: _Branch, dot: Any, scope: list[tuple[str, Any]], out: list[str]) -> None:
        pipe = node.pipe
        value = self._pipe(_Pipe([], False, pipe.commands), dot, scope)
        if isinstance(value, dict):
            items: list[tuple[Any, Any]] = [(k, value[k]) for k in sorted(value, key=_sort_key)]
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is None:
            items = []
        else:
            raise TemplateError(f"range can't iterate over {go_print(value)}")
        if not items:
            if node.otherwise is not None:
                self._run(node.otherwise, dot, scope, out)
            return
        base = len(scope)
        memo = node.memo
        if memo is not None and isinstance(value, list | tuple) and self.memo is not None:
            root = scope[0][1]
            env = tuple(_memo_identity(_fields(root, (name,))) for name in memo.env)
            last = len(items) - 1
            for key, element in items:
                element_key = getattr(element, "memo_key", None)
                if element_key is None:
                    break
                cache_key = (id(node), element_key(), key == last, env)
                text = self.memo.get(cache_key)
                if text is None:
                    del scope[base:]
                    if len(pipe.declare) == 1:
                        scope.append((pipe.declare[0], element))
                    elif len(pipe.declare) == 2:
                        scope.append((pipe.declare[0], key))
                        scope.append((pipe.declare[1], element))
                    part: list[str] = []
                    self._run(node.body, element, scope, part)  # no break/continue: planned
                    text = "".join(part)
                    if len(self.memo) >= MEMO_LIMIT:
                        self.memo.clear()
                    self.memo[cache_key] = text
                out.append(text)
            else:
                return
            del out[len(out) - key :]  # an element without a key: render the plain way
        for key, element in items:
            del scope[base:]
            if len(pipe.declare) == 1:
                scope.append((pipe.declare[0], element))
            elif len(pipe.declare) == 2:
                scope.append((pipe.declare[0], key))
                scope.append((pipe.declare[1], element))
            try:
                self._run(node.body, element, scope, out)
            except _Continue:
                continue
            except _Break:
                break

    def _pipe(self, pipe: _Pipe, dot: Any, scope: list[tuple[str, Any]]) -> Any:
        value: Any = None
        piped = False
        for command in pipe.commands:
            value = self._command(command, dot, scope, value, piped)
            piped = True
        if pipe.declare:
            if pipe.assign:
                for index in range(len(scope) - 1, -1, -1):
                    if scope[index][0] == pipe.declare[0]:
                        scope[index] = (pipe.declare[0], value)
                        break
                else:
                    raise TemplateError(f"undefined variable: {pipe.declare[0]}")
            else:
                scope.append((pipe.declare[0], value))
        return value

    def _command(
        self, command: _Command, dot: Any, scope: list[tuple[str, Any]], piped: Any, has_piped: bool
    ) -> Any:
        head = command.args[0]
        if head.kind == "ident":
            name = str(head.value)
            rest = command.args[1:]
            if name in ("and", "or"):
                args: list[Callable[[], Any]] = [
                    partial(self._operand, o, dot, scope) for o in rest
                ]
                if has_piped:
                    args.append(lambda: piped)
                if not args:
                    raise TemplateError(f"wrong number of args for {name}")
                result: Any = None
                for get in args:
                    result = get()
                    if go_truth(result) != (name == "and"):
                        return result
                return result
            function = self.functions.get(name) or BUILTINS.get(name)
            if function is None:
                raise TemplateError(f'function "{name}" not defined')
            values = [self._operand(o, dot, scope) for o in rest]
            if has_piped:
                values.append(piped)
            return function(*values)
        if len(command.args) > 1 or has_piped:
            raise TemplateError("can't give arguments to a non-function")
        return self._operand(head, dot, scope)

    def _operand(self, operand: _Operand, dot: Any, scope: list[tuple[str, Any]]) -> Any:
        kind = operand.kind
        if kind == "literal":
            return operand.value
        if kind == "dot":
            return dot
        if kind == "field":
            return _fields(dot, operand.chain)
        if kind == "variable":
            name = str(operand.value)
            for index in range(len(scope) - 1, -1, -1):
                if scope[index][0] == name:
                    return scope[index][1]
            raise TemplateError(f"undefined variable: {name}")
        if kind == "pipe":
            return self._pipe(operand.value, dot, scope)
        if kind == "chained":
            return _fields(self._operand(operand.value, dot, scope), operand.chain)
        if kind == "ident":
            function = self.functions.get(str(operand.value)) or BUILTINS.get(str(operand.value))
            if function is None:
                raise TemplateError(f'function "{operand.value}" not defined')
            return function()
        raise TemplateError(f"unknown operand {kind}")


def _fields(value: Any, chain: Sequence[str]) -> Any:
    for name in chain:
        if value is None:
            # missingkey=zero: a missing map entry is nil, and a field of nil is an error
            raise TemplateError(f"nil pointer evaluating .{name}")
        if isinstance(value, dict):
            value = value.get(name)
        elif isinstance(value, GoStruct):
            value = value.go_field(name)
        else:
            raise TemplateError(f"can't evaluate field {name} in type {type(value).__name__}")
    return value


MEMO_LIMIT = 50_000
"""Most rendered range bodies a template keeps (emptied when full)."""
MEMO_ENV = frozenset({"Tools", "Think", "IsThinkSet", "ThinkLevel", "System", "Response"})
"""Root fields a memoized range body may read (they join the memo key)."""
COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})


def _memo_identity(value: Any) -> Any:
    """A hashable stand-in for a root value in a memo key."""
    stringer = getattr(value, "go_string", None)
    if stringer is not None:
        return stringer()
    if isinstance(value, list | dict):
        return go_print(value)
    return value


def _plan_ranges(nodes: list[_Node], pure: frozenset[str], dot_is_root: bool = True) -> None:
    """Mark the ranges whose body output can be memoized per element (see ``_MemoPlan``)."""
    for node in nodes:
        if isinstance(node, _Branch):
            if node.kind == "range" and node.otherwise is None:
                node.memo = _memo_plan(node, pure, dot_is_root)
            inner_root = dot_is_root and node.kind == "if"
            _plan_ranges(node.body, pure, inner_root)
            if node.otherwise:
                _plan_ranges(node.otherwise, pure, dot_is_root)


def _is_root_messages(operand: _Operand) -> bool:
    """Whether the operand is ``$.Messages``."""
    return (
        operand.kind == "chained"
        and operand.value.kind == "variable"
        and operand.value.value == "$"
        and operand.chain == ("Messages",)
    )


def _memo_plan(node: _Branch, pure: frozenset[str], dot_is_root: bool) -> _MemoPlan | None:
    """A plan when the body reads only its element, ``$last``-style tests and root fields.

    The one use of the index allowed is Ollama's idiom for "the last message":
    ``len (slice $.Messages $i)`` compared with the literal 1.
    """
    commands = node.pipe.commands
    ranged = commands[0].args if len(commands) == 1 and len(commands[0].args) == 1 else []
    over_messages = bool(ranged) and (
        (ranged[0].kind == "field" and ranged[0].chain == ("Messages",) and dot_is_root)
        or _is_root_messages(ranged[0])
    )
    declared = list(node.pipe.declare)
    index_var = declared[0] if len(declared) == 2 and over_messages else None
    element_var = declared[-1] if declared else None
    env: set[str] = set()
    local: set[str] = set()

    def is_remaining(operand: _Operand) -> bool:
        # (len (slice $.Messages $i)): how many elements are left from this one on
        if operand.kind != "pipe" or len(operand.value.commands) != 1:
            return False
        args = operand.value.commands[0].args
        if len(args) != 2 or args[0].kind != "ident" or args[0].value != "len":
            return False
        inner = args[1]
        if inner.kind != "pipe" or len(inner.value.commands) != 1:
            return False
        sargs = inner.value.commands[0].args
        return (
            len(sargs) == 3
            and sargs[0].kind == "ident"
            and sargs[0].value == "slice"
            and _is_root_messages(sargs[1])
            and sargs[2].kind == "variable"
            and sargs[2].value == index_var
        )

    def operand_ok(operand: _Operand) -> bool:
        kind = operand.kind
        if kind in ("literal", "dot", "field"):
            return True
        if kind == "variable":
            name = str(operand.value)
            return name == element_var or name in local
        if kind == "chained":
            base = operand.value
            if base.kind == "variable" and base.value == "$":
                if operand.chain[0] in MEMO_ENV:
                    env.add(operand.chain[0])
                    return True
                return False
            return operand_ok(base)
        if kind == "ident":
            return str(operand.value) in pure
        if kind == "pipe":
            return pipe_ok(operand.value)
        return False

    def pipe_ok(pipe: _Pipe) -> bool:
        for command in pipe.commands:
            args = command.args
            head = args[0]
            if head.kind == "ident":
                if str(head.value) not in pure:
                    return False
                rest = args[1:]
                if str(head.value) in COMPARISONS and len(rest) == 2:
                    one = [a for a in rest if a.kind == "literal" and a.value == 1]
                    other = [a for a in rest if not (a.kind == "literal" and a.value == 1)]
                    if len(one) == 1 and len(other) == 1 and is_remaining(other[0]):
                        continue  # compared with 1: depends on being the last one only
                if not all(operand_ok(a) for a in rest):
                    return False
            elif not all(operand_ok(a) for a in args):
                return False
        local.update(pipe.declare)
        return True

    def body_ok(nodes: list[_Node]) -> bool:
        for child in nodes:
            if isinstance(child, _ActionNode):
                if not pipe_ok(child.pipe):
                    return False
            elif isinstance(child, _Branch):
                if child.kind == "range" and child.pipe.declare:
                    local.update(child.pipe.declare)
                if not pipe_ok(child.pipe) or not body_ok(child.body):
                    return False
                if child.otherwise and not body_ok(child.otherwise):
                    return False
            elif isinstance(child, _Control) and not _inside_range(child, node.body):
                return False
        return True

    if not body_ok(node.body):
        return None
    return _MemoPlan(tuple(sorted(env)))


def _inside_range(control: _Control, nodes: list[_Node]) -> bool:
    """Whether ``break``/``continue`` belongs to a range nested in ``nodes`` (not the outer)."""
    for child in nodes:
        if isinstance(child, _Branch):
            for inner in (child.body, child.otherwise or []):
                if child.kind == "range" and _contains(inner, control):
                    return True
                if child.kind != "range" and _inside_range(control, inner):
                    return True
    return False


def _contains(nodes: list[_Node], target: _Node) -> bool:
    for child in nodes:
        if child is target:
            return True
        if isinstance(child, _Branch) and (
            _contains(child.body, target) or _contains(child.otherwise or [], target)
        ):
            return True
    return False


IMPURE = frozenset({"currentDate", "yesterdayDate", "call"})


def parse_template(source: str, functions: Mapping[str, Function] | None = None) -> Template:
    """Parse a Go template (``TemplateError`` when it uses what this interpreter lacks).

    Ranges whose body's output depends only on the element, on whether it is the last,
    and on a few root fields are planned for memoization: a prompt rendered again with
    more messages renders only what is new.
    """
    pieces = _split_template(source)
    nodes, _ = _Parser(pieces).parse_list()
    functions = dict(functions or {})
    pure = frozenset({*BUILTINS, *functions, "and", "or"} - IMPURE)
    _plan_ranges(nodes, pure)
    return Template(nodes, functions, source, memo={})
