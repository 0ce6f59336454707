"""A small interpreter of Go's ``text/template``, the language of Ollama's model templates.

Written for the emulator from the Go documentation of ``text/template`` (pkg.go.dev/text/template),
covering the subset model templates use: text and ``{{ }}`` actions with the trim markers
``{{-`` and ``-}}``, comments, ``if`` / ``else if`` / ``else`` / ``end``, ``range`` (with
``$i, $x :=``, ``else``, ``break``, ``continue``), ``with``, variables (``$``, ``$x :=``,
``$x =``), fields and map keys (``.A.B``, ``$x.A``), parenthesised pipelines, pipes ``|``,
string / number / boolean / nil literals, and the functions ``and or not eq ne lt le gt ge len
index slice print printf println`` plus those Ollama adds (``json``, ``currentDate``,
``yesterdayDate``, ``toTypeScriptType``). Ollama parses with ``missingkey=zero``: a missing
key of the top-level map is the zero value (printed ``<no value>``).

Values: ``str``, ``bool``, ``int``, ``float``, ``None`` (nil), ``list``, ``dict`` (a Go map:
ranged in sorted key order), and ``GoValue`` (a Go struct or named map with an optional
``String()`` text, printed through it as Go's ``fmt`` does for a ``fmt.Stringer``).

Pure; ``GoTemplate(text).execute(data)`` returns the rendered string.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GoTemplate", "GoValue", "TemplateError", "go_json"]


class TemplateError(ValueError):
    """A template that does not parse, or fails while executing (as Go's would)."""


@dataclass
class GoValue:
    """A Go struct (or named map type) seen by a template.

    ``fields`` are its exported fields (or map entries when ``is_map``); ``text`` is what its
    ``String()`` method returns, None when it has none.
    """

    fields: dict[str, Any]
    text: str | None = None
    is_map: bool = False


class Struct(dict):  # type: ignore[type-arg]
    """A dict that ``go_json`` writes in insertion order (a Go struct), not sorted (a Go map)."""


def _go_float(value: float) -> str:
    """A float as Go's ``encoding/json`` writes a float64."""
    if value != value or value in (float("inf"), float("-inf")):
        raise TemplateError(f"json: unsupported value: {value}")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:  # repr uses an exponent there too
        digits, _, exponent = text.partition("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{digits}e{sign}{int(exponent.lstrip('+-'))}"
    if "e" in text:  # repr chose an exponent Go would not use: write it out
        from decimal import Decimal

        return format(Decimal(text), "f")
    return text


_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}
_HTML_ESCAPES["\u2029"] = "\\u2029"
_HTML_PATTERN = re.compile("[<>&\u2028\u2029]")


def _go_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    return _HTML_PATTERN.sub(lambda m: _HTML_ESCAPES[m.group()], encoded)


def go_json(value: Any) -> str:
    """``value`` as Go's ``json.Marshal`` writes it: compact, map keys sorted, HTML escaped."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, GoValue):
        return go_json(value.fields)
    if isinstance(value, Struct):
        return "{" + ",".join(f"{_go_string(k)}:{go_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{_go_string(str(k))}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    raise TemplateError(f"json: unsupported type {type(value).__name__}")


# ----------------------------------------------------------------------------- lexing
_ACTION = re.compile(r"\{\{(-[ \t\r\n])?(.*?)([ \t\r\n]-)?\}\}", re.DOTALL)
_SPACE = " \t\r\n"
_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\n]+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\]|\\.)+')
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<pipe>\|)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?))
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
  | (?P<dot>\.)
  | (?P<variable>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)


@dataclass
class _Token:
    kind: str
    text: str


def _tokens(action: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(action):
        found = _TOKEN.match(action, pos)
        if found is None:
            raise TemplateError(f"unexpected {action[pos]!r} in action {{{{{action}}}}}")
        kind = found.lastgroup or ""
        if kind != "space":
            out.append(_Token(kind, found.group()))
        pos = found.end()
    return out


# ----------------------------------------------------------------------------- the tree
@dataclass
class _Text:
    text: str


@dataclass
class _Operand:
    """One argument of a command: a literal, field chain, variable chain, function or pipe."""

    kind: str  # literal | field | variable | ident | pipe | dot
    value: Any = None
    chain: tuple[str, ...] = ()


@dataclass
class _Command:
    args: list[_Operand]


@dataclass
class _Pipe:
    commands: list[_Command]
    variables: list[str] = field(default_factory=list)
    assign: bool = False  # ``$x = ...`` rather than ``$x := ...``


@dataclass
class _Action:
    pipe: _Pipe


@dataclass
class _Branch:
    kind: str  # if | range | with
    pipe: _Pipe
    body: list[Any]
    otherwise: list[Any] | None = None


@dataclass
class _Control:
    kind: str  # break | continue


class _Parser:
    """Text and actions to a tree of nodes."""

    def __init__(self, source: str) -> None:
        self.items = self._lex(source)
        self.pos = 0

    @staticmethod
    def _lex(source: str) -> list[tuple[str, str]]:
        items: list[tuple[str, str]] = []
        pos = 0
        trim_next = False
        for found in _ACTION.finditer(source):
            text = source[pos : found.start()]
            if trim_next:
                text = text.lstrip(_SPACE)
            if found.group(1):
                text = text.rstrip(_SPACE)
            if text:
                items.append(("text", text))
            body = found.group(2)
            if not body.strip().startswith("/*"):
                items.append(("action", body))
            trim_next = bool(found.group(3))
            pos = found.end()
        rest = source[pos:]
        if trim_next:
            rest = rest.lstrip(_SPACE)
        if "{{" in rest:
            raise TemplateError("unclosed action")
        if rest:
            items.append(("text", rest))
        return items

    def parse(self) -> list[Any]:
        nodes, stop = self._list()
        if stop is not None:
            raise TemplateError(f"unexpected {{{{{stop}}}}}")
        return nodes

    def _list(self) -> tuple[list[Any], str | None]:
        """Nodes up to an ``end`` or ``else`` (returned as the stop word, with its rest)."""
        nodes: list[Any] = []
        while self.pos < len(self.items):
            kind, body = self.items[self.pos]
            self.pos += 1
            if kind == "text":
                nodes.append(_Text(body))
                continue
            tokens = _tokens(body)
            if not tokens:
                raise TemplateError("missing value for command")
            head = tokens[0].text if tokens[0].kind == "ident" else ""
            if head in ("end", "else"):
                return nodes, body.strip()
            if head in ("if", "range", "with"):
                nodes.append(self._branch(head, tokens[1:]))
            elif head in ("break", "continue"):
                nodes.append(_Control(head))
            elif head in ("define", "template", "block"):
                raise TemplateError(f"{{{{{head}}}}} is not supported by the emulator")
            else:
                nodes.append(_Action(self._pipe(tokens)))
        return nodes, None

    def _branch(self, kind: str, tokens: list[_Token]) -> _Branch:
        pipe = self._pipe(tokens, declarations=True)
        body, stop = self._list()
        branch = _Branch(kind, pipe, body)
        if stop is None:
            raise TemplateError(f"unexpected EOF in {kind}")
        if stop.startswith("else"):
            rest = _tokens(stop)[1:]
            if rest and rest[0].kind == "ident" and rest[0].text in ("if", "with"):
                # ``else if`` / ``else with``: an else list of one branch sharing this end
                branch.otherwise = [self._chained(rest[0].text, rest[1:])]
            else:
                otherwise, stop = self._list()
                if stop is None or stop != "end":
                    raise TemplateError(f"expected end after else in {kind}")
                branch.otherwise = otherwise
        return branch

    def _chained(self, kind: str, tokens: list[_Token]) -> _Branch:
        return self._branch(kind, tokens)

    def _pipe(self, tokens: list[_Token], declarations: bool = True) -> _Pipe:
        variables: list[str] = []
        assign = False
        for i, token in enumerate(tokens):
            if token.kind in ("declare", "assign"):
                names = [t for t in tokens[:i] if t.kind != "comma"]
                if names and all(t.kind == "variable" for t in names):
                    variables = [t.text for t in names]
                    assign = token.kind == "assign"
                    tokens = tokens[i + 1 :]
                break
        commands: list[_Command] = []
        current: list[_Operand] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.kind == "pipe":
                if not current:
                    raise TemplateError("missing command before |")
                commands.append(_Command(current))
                current = []
                i += 1
                continue
            operand, i = self._operand(tokens, i)
            current.append(operand)
        if current:
            commands.append(_Command(current))
        if not commands:
            raise TemplateError("missing value for command")
        return _Pipe(commands, variables, assign)

    def _operand(self, tokens: list[_Token], i: int) -> tuple[_Operand, int]:
        token = tokens[i]
        kind = token.kind
        if kind == "lparen":
            depth, j = 1, i + 1
            while j < len(tokens) and depth:
                depth += {"lparen": 1, "rparen": -1}.get(tokens[j].kind, 0)
                j += 1
            if depth:
                raise TemplateError("unclosed left paren")
            inner = self._pipe(tokens[i + 1 : j - 1])
            chain: tuple[str, ...] = ()
            if j < len(tokens) and tokens[j].kind == "field":
                chain = tuple(tokens[j].text.split(".")[1:])
                j += 1
            return _Operand("pipe", inner, chain), j
        if kind == "string":
            return _Operand("literal", json.loads(_go_to_json_string(token.text))), i + 1
        if kind == "raw":
            return _Operand("literal", token.text[1:-1]), i + 1
        if kind == "char":
            return _Operand("literal", ord(json.loads('"' + token.text[1:-1] + '"'))), i + 1
        if kind == "number":
            text = token.text.replace("_", "")
            number: Any = float(text) if re.search(r"[.eE]", text) else int(text, 0)
            return _Operand("literal", number), i + 1
        if kind == "field":
            return _Operand("field", chain=tuple(token.text.split(".")[1:])), i + 1
        if kind == "dot":
            return _Operand("dot"), i + 1
        if kind == "variable":
            name, *rest = token.text.split(".")
            return _Operand("variable", name, tuple(rest)), i + 1
        if kind == "ident":
            name, *rest = token.text.split(".")
            if name in ("true", "false"):
                return _Operand("literal", name == "true"), i + 1
            if name == "nil":
                return _Operand("literal", None), i + 1
            return _Operand("ident", name, tuple(rest)), i + 1
        raise TemplateError(f"unexpected {token.text!r}")


def _go_to_json_string(text: str) -> str:
    """A Go interpreted string literal as a JSON string (its Go-only escapes rewritten)."""

    def repl(found: re.Match[str]) -> str:
        escape = found.group()
        if escape[1] == "x":
            return f"\\u00{escape[2:4]}"
        if escape[1] in "01234567":
            return f"\\u{int(escape[1:4], 8):04x}"
        if escape[1] == "a":
            return "\\u0007"
        if escape[1] == "v":
            return "\\u000b"
        if escape[1] == "'":
            return "'"
        if escape[1] == "U":
            return json.dumps(chr(int(escape[2:10], 16)))[1:-1]
        return escape

    return re.sub(r"\\(?:x[0-9a-fA-F]{2}|[0-7]{3}|U[0-9a-fA-F]{8}|.)", repl, text)


# ----------------------------------------------------------------------------- execution
class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_MISSING = object()


def truth(value: Any) -> bool:
    """Go's template truth: false, 0, nil and empty strings, lists and maps are false."""
    if isinstance(value, GoValue):
        return bool(value.fields) if value.is_map else True
    return bool(value)


def _field(value: Any, name: str, top: bool) -> Any:
    if isinstance(value, GoValue):
        if name in value.fields:
            return value.fields[name]
        if value.is_map:
            return None
        raise TemplateError(f"can't evaluate field {name} in type struct")
    if isinstance(value, dict):
        return value.get(name)  # missingkey=zero
    if value is None:
        if top:
            return None
        raise TemplateError(f"nil pointer evaluating {name}")
    raise TemplateError(f"can't evaluate field {name} in type {type(value).__name__}")


def _print(value: Any) -> str:
    """A value as text/template prints it (through ``fmt.Fprint``)."""
    if value is None:
        return "<no value>"
    if isinstance(value, GoValue):
        if value.text is not None:
            return value.text
        inner = value.fields
        if value.is_map:
            return "map[" + " ".join(f"{k}:{_fmt(v)}" for k, v in sorted(inner.items())) + "]"
        return "{" + " ".join(_fmt(v) for v in inner.values()) + "}"
    return _fmt(value)


def _fmt(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _fmt_float(value)
    if isinstance(value, GoValue):
        return _print(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_fmt(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _fmt_float(value: float) -> str:
    """Go's ``%v`` of a float64: shortest ``%g``, exponent for < 1e-4 or >= 1e21."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{int(exponent.lstrip('+-')):02d}"
    return text


def _length(value: Any) -> int:
    if isinstance(value, GoValue):
        if value.is_map:
            return len(value.fields)
        raise TemplateError("len of type struct")
    if value is None:
        raise TemplateError("len of nil pointer")
    if isinstance(value, str | list | tuple | dict):
        return len(value.encode() if isinstance(value, str) else value)
    raise TemplateError(f"len of type {type(value).__name__}")


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, GoValue):
            value = value.fields.get(key)
        elif isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list | tuple | str):
            if not isinstance(key, int) or not 0 <= key < len(value):
                raise TemplateError(f"error calling index: index out of range: {key}")
            value = value[key]
        else:
            raise TemplateError(f"can't index item of type {type(value).__name__}")
    return value


def _slice(value: Any, *bounds: Any) -> Any:
    if not isinstance(value, list | tuple | str):
        raise TemplateError(f"can't slice item of type {type(value).__name__}")
    size = len(value)
    low = bounds[0] if bounds else 0
    high = bounds[1] if len(bounds) > 1 else size
    if not 0 <= low <= high <= size:
        raise TemplateError(f"error calling slice: index out of range: {low}:{high}")
    return value[low:high]


def _compare(name: str) -> Callable[..., bool]:
    def compare(a: Any, b: Any) -> bool:
        try:
            if name == "lt":
                return bool(a < b)
            if name == "le":
                return bool(a <= b)
            if name == "gt":
                return bool(a > b)
            return bool(a >= b)
        except TypeError as exc:
            raise TemplateError(f"error calling {name}: incompatible types for comparison") from exc

    return compare


def _eq(first: Any, *others: Any) -> bool:
    if not others:
        raise TemplateError("error calling eq: missing argument for comparison")
    return any(_same(first, other) for other in others)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool) and a is not None and b is not None:
        raise TemplateError("error calling eq: incompatible types for comparison")
    if isinstance(a, str) != isinstance(b, str) and a is not None and b is not None:
        raise TemplateError("error calling eq: incompatible types for comparison")
    return bool(a == b)


def _sprintf(form: str, *args: Any) -> str:
    values = iter(args)

    def repl(found: re.Match[str]) -> str:
        verb = found.group(1)
        if verb == "%":
            return "%"
        value = next(values, None)
        if verb == "q":
            return json.dumps(value if isinstance(value, str) else _print(value))
        if verb == "d":
            return str(int(value or 0))
        return _print(value)

    return re.sub(r"%([%vsdq])", repl, form)


def _type_script(value: Any) -> str:
    """Ollama's ``toTypeScriptType`` of a tool property."""
    if not isinstance(value, GoValue):
        return "any"
    any_of = value.fields.get("AnyOf") or []
    if any_of:
        return " | ".join(_type_script(v) for v in any_of)
    kinds = value.fields.get("Type") or []
    if isinstance(kinds, str):
        kinds = [kinds]
    if not kinds:
        return "any"
    names = {
        "string": "string",
        "number": "number",
        "integer": "number",
        "boolean": "boolean",
        "array": "any[]",
        "object": "Record<string, any>",
        "null": "null",
    }
    return " | ".join(names.get(k, "any") for k in kinds)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "not": lambda v: not truth(v),
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "lt": _compare("lt"),
    "le": _compare("le"),
    "gt": _compare("gt"),
    "ge": _compare("ge"),
    "len": _length,
    "index": _index,
    "slice": _slice,
    "print": lambda *a: "".join(_print(v) for v in a),
    "println": lambda *a: " ".join(_print(v) for v in a) + "\n",
    "printf": _sprintf,
    "json": go_json,
    "currentDate": lambda *a: _dt.date.today().isoformat(),
    "yesterdayDate": lambda *a: (_dt.date.today() - _dt.timedelta(days=1)).isoformat(),
    "toTypeScriptType": _type_script,
}
"""Go's builtin template functions and the ones Ollama's template package adds."""


class _State:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.scopes: list[dict[str, Any]] = [{"$": root}]
        self.out: list[str] = []

    def lookup(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise TemplateError(f"undefined variable: {name}")

    def assign(self, name: str, value: Any) -> None:
        for scope in reversed(self.scopes):
            if name in scope:
                scope[name] = value
                return
        raise TemplateError(f"undefined variable: {name}")


class GoTemplate:
    """One parsed template; ``execute(data)`` renders it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes = _Parser(source).parse()

    def identifiers(self) -> list[str]:
        """Field and variable names the template mentions, lower-cased (Ollama's ``Vars``)."""
        names: set[str] = set()

        def pipe(p: _Pipe) -> None:
            for command in p.commands:
                for arg in command.args:
                    if arg.kind in ("field", "variable", "pipe"):
                        names.update(part.lower() for part in arg.chain)
                        if arg.kind == "variable":
                            names.add(str(arg.value).lower())
                    if arg.kind == "pipe":
                        pipe(arg.value)

        def walk(nodes: list[Any]) -> None:
            for node in nodes:
                if isinstance(node, _Action):
                    pipe(node.pipe)
                elif isinstance(node, _Branch):
                    pipe(node.pipe)
                    walk(node.body)
                    walk(node.otherwise or [])

        walk(self.nodes)
        return sorted(names)

    def execute(self, data: Any, nodes: list[Any] | None = None) -> str:
        """Render the template (or ``nodes`` of it) over ``data``."""
        state = _State(data)
        self._walk(state, self.nodes if nodes is None else nodes, data)
        return "".join(state.out)

    # -------------------------------------------------------------- the walk
    def _walk(self, state: _State, nodes: list[Any], dot: Any) -> None:
        for node in nodes:
            if isinstance(node, _Text):
                state.out.append(node.text)
            elif isinstance(node, _Action):
                value = self._pipe(state, node.pipe, dot)
                if not node.pipe.variables:
                    state.out.append(_print(value))
            elif isinstance(node, _Branch):
                self._branch(state, node, dot)
            elif isinstance(node, _Control):
                raise _Break() if node.kind == "break" else _Continue()

    def _scoped(self, state: _State, nodes: list[Any], dot: Any, values: dict[str, Any]) -> None:
        state.scopes.append(dict(values))
        try:
            self._walk(state, nodes, dot)
        finally:
            state.scopes.pop()

    def _branch(self, state: _State, node: _Branch, dot: Any) -> None:
        if node.kind == "range":
            self._range(state, node, dot)
            return
        state.scopes.append({})
        try:
            value = self._pipe(state, node.pipe, dot)
            if truth(value):
                self._walk(state, node.body, value if node.kind == "with" else dot)
            elif node.otherwise is not None:
                self._walk(state, node.otherwise, dot)
        finally:
            state.scopes.pop()

    def _range(self, state: _State, node: _Branch, dot: Any) -> None:
        pipe = _Pipe(node.pipe.commands)
        value = self._pipe(state, pipe, dot)
        items: list[tuple[Any, Any]]
        if value is None:
            items = []
        elif isinstance(value, GoValue):
            if not value.is_map:
                raise TemplateError("range can't iterate over a struct")
            items = sorted(value.fields.items())
        elif isinstance(value, dict):
            items = sorted(value.items())
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        else:
            raise TemplateError(f"range can't iterate over {_print(value)}")
        if not items:
            if node.otherwise is not None:
                self._walk(state, node.otherwise, dot)
            return
        names = node.pipe.variables
        for key, element in items:
            scope: dict[str, Any] = {}
            if len(names) == 1:
                scope[names[0]] = element
            elif len(names) == 2:
                scope[names[0]], scope[names[1]] = key, element
            try:
                self._scoped(state, node.body, element, scope)
            except _Break:
                break
            except _Continue:
                continue

    def _pipe(self, state: _State, pipe: _Pipe, dot: Any) -> Any:
        value: Any = _MISSING
        for command in pipe.commands:
            value = self._command(state, command, dot, value)
        if pipe.variables:
            if pipe.assign:
                state.assign(pipe.variables[0], value)
            else:
                state.scopes[-1][pipe.variables[-1]] = value
        return value

    def _command(self, state: _State, command: _Command, dot: Any, piped: Any) -> Any:
        first = command.args[0]
        if first.kind == "ident" and not first.chain:
            if first.value in ("and", "or"):
                return self._logic(state, first.value, command.args[1:], dot, piped)
            fn = FUNCTIONS.get(first.value)
            if fn is None:
                raise TemplateError(f'function "{first.value}" not defined')
            args = [self._operand(state, a, dot) for a in command.args[1:]]
            if piped is not _MISSING:
                args.append(piped)
            return fn(*args)
        if len(command.args) > 1 or piped is not _MISSING:
            raise TemplateError(f"can't give argument to non-function {first.kind}")
        return self._operand(state, first, dot)

    def _logic(self, state: _State, name: str, args: list[_Operand], dot: Any, piped: Any) -> Any:
        values: Iterator[Any] = (self._operand(state, a, dot) for a in args)
        if piped is not _MISSING:
            values = iter([*values, piped])
        value: Any = None
        for value in values:
            if truth(value) == (name == "or"):
                return value
        return value

    def _operand(self, state: _State, operand: _Operand, dot: Any) -> Any:
        kind = operand.kind
        if kind == "literal":
            return operand.value
        if kind == "dot":
            return dot
        if kind == "field":
            value, top = dot, dot is state.root
        elif kind == "variable":
            value = state.lookup(str(operand.value))
            top = value is state.root
        elif kind == "pipe":
            value, top = self._pipe(state, operand.value, dot), False
        else:
            raise TemplateError(f'function "{operand.value}" used as a value')
        for name in operand.chain:
            value = _field(value, name, top)
            top = False
        return value


def append_field_action(template: GoTemplate, name: str) -> None:
    """Append ``{{ .Name }}`` to a template (Ollama's Parse adds ``{{ .Response }}`` so)."""
    template.nodes.append(_Action(_Pipe([_Command([_Operand("field", chain=(name,))])])))


def nodes_through_field(template: GoTemplate, name: str) -> list[Any]:
    """The template's nodes up to the first action printing ``.Name``; the rest cut.

    Ollama's ``deleteNode`` walk: nodes are visited in order (a branch's condition is not
    looked at, its lists are), and every node after the first action whose pipeline has the
    field is dropped.
    """
    cut = False

    def walk(nodes: list[Any]) -> list[Any]:
        nonlocal cut
        kept: list[Any] = []
        for node in nodes:
            if cut:
                continue
            if isinstance(node, _Action):
                args = [a for c in node.pipe.commands for a in c.args]
                if any(a.kind == "field" and name in a.chain for a in args):
                    cut = True
                kept.append(node)
            elif isinstance(node, _Branch):
                body = walk(node.body)
                otherwise = walk(node.otherwise) if node.otherwise is not None else None
                kept.append(_Branch(node.kind, node.pipe, body, otherwise))
            else:
                kept.append(node)
        return kept

    return walk(template.nodes)
