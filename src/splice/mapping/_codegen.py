"""Generate one Python function for a compiled expression: the closures, inlined.

The closures of ``_compiler.py`` cost a Python call per node and per item. For the nodes
that mappings are mostly made of - name paths over objects, object and array constructors,
``items.{...}`` / ``items.(...)`` over an array of objects, ``+ - *`` and comparisons,
blocks, conditions, function calls - :func:`generate` writes the same computation as
straight-line Python source, compiled once per expression.

The generated code is a fast path, never a second implementation:

- each inlined node first checks the shape of its input (an object, a plain array of at
  most ``_CLOCK_EVERY`` items ...) and, on any other shape, calls that node's closure
  (``node._splice_fn``) before evaluating anything, so nothing runs twice;
- what a node does with the values of its children is the closure's own code, or a
  function the closure itself uses (``combine`` for ``+ - *``, ``invoke`` for a call);
- errors are located where the closures locate them (the same ``try`` around the same
  nodes), so codes and positions do not change;
- a node the compiler marked as not inlinable (``node._splice_gen`` is ``None``: sorting,
  predicates, interpreted nodes ...) is a call to its closure.

The runtime limits stay: loops over more than ``_CLOCK_EVERY`` items go to the closures
(which check the clock), and every function call goes through the closure's ``invoke``
(depth and clock).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from jsonata import JException, Jsonata, Utils
from jsonata.parser import Parser

from splice.mapping._compiler import (
    _CLOCK_EVERY,
    _has_extras,
    _is_array,
    _located,
    _mangle,
    boolize,
)

__all__ = ["generate"]

JList = Utils.JList
Symbol = Parser.Symbol
NULL = Utils.NULL_VALUE
NONE = Utils.NONE
_SAFE_INTEGER = 2**53

_MAX_BLOCKS = 15
"""Nested ``try``/``for`` blocks (CPython allows 20); deeper nodes call their closure."""
_MAX_INDENT = 60
_MAX_LINES = 4000
"""An expression that would generate more than this stays on the closures."""

_FRAME_FREE = frozenset(
    {
        "path",
        "name",
        "string",
        "number",
        "value",
        "regex",
        "variable",
        "binary",
        "unary",
        "condition",
        "block",
        "wildcard",
        "descendant",
    }
)
"""Node types that neither bind variables nor hand the environment to anything that could
(functions, lambdas, ``:=``, interpreted nodes): a block of only these needs no frame."""

_CHILD_ATTRS = (
    "lhs",
    "rhs",
    "expression",
    "condition",
    "then",
    "_else",
    "procedure",
    "body",
    "pattern",
    "update",
    "delete",
)


Generated = Callable[[Any, Any, bool], tuple[Any, bool]]
"""``fast(input, environment, may_hold_null) -> (value, may_hold_null)``.

The flag says whether the value may hold ``Utils.NULL_VALUE`` (then the caller converts
it): it starts as "the input may" and becomes true when a name finds a ``null``, a null
literal is used, or a closure or function returns anything but a plain scalar.
"""


def generate(root: Any) -> tuple[Generated, str] | None:
    """The generated function for the compiled ``root`` and its source, or ``None``."""
    generator = _Generator()
    try:
        result = generator.function(root)
        if result is None:
            return None
        source, values = result
        namespace: dict[str, Any] = {}
        exec(compile(source, "<splice mapping>", "exec"), namespace)
        fast: Generated = namespace["factory"](*values)
    except Exception:  # any failure here leaves the expression to its closures
        return None
    return fast, source


def _children(node: Any) -> Iterator[Any]:
    for attr in _CHILD_ATTRS:
        child = getattr(node, attr, None)
        if isinstance(child, Symbol):
            yield child
    for attr in ("steps", "expressions", "arguments"):
        for child in getattr(node, attr, None) or ():
            if isinstance(child, Symbol):
                yield child
    for items in (node.predicate, node.stages):
        for item in items or ():
            if isinstance(item, Symbol):
                yield item
            if isinstance(item.expr, Symbol):
                yield item.expr
    if node.group is not None:
        yield node.group
    for key, value in node.lhs_object or ():
        yield key
        yield value
    for term in node.terms or ():
        if isinstance(term.expression, Symbol):
            yield term.expression


def _frame_free(node: Any) -> bool:
    """Whether nothing below ``node`` could bind into, or capture, its environment."""
    if node.type not in _FRAME_FREE and node.type != "filter":  # filter: a predicate
        return False
    if (
        node.tuple is not None
        or node.focus is not None
        or node.index is not None
        or node.ancestor is not None
        or node.terms
    ):
        return False
    return all(_frame_free(child) for child in _children(node))


class _TooBig(Exception):
    pass


class _Generator:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.values: list[Any] = []
        self.refs: dict[int, str] = {}
        self.counter = 0
        self.dicts: set[str] = set()
        """Variables known to hold a ``dict`` where the code is being emitted."""
        for name, value in (
            ("JList", JList),
            ("JException", JException),
            ("NULL", NULL),
            ("NONE", NONE),
            ("mangle", _mangle),
            ("located", _located),
            ("is_array", _is_array),
            ("boolize", boolize),
            ("Frame", Jsonata.Frame),
            ("isfinite", math.isfinite),
            ("new_list", JList.__new__),
            ("LIST_FLAGS", JList().__dict__),
            ("CLEAN", frozenset({str, int, float, bool, type(None)})),
            ("PLAIN", frozenset({str, int, float, bool, dict, list})),
            ("SCALARS", frozenset({str, int, float, bool})),
        ):
            self.refs[id(value)] = name
            self.values.append((name, value))

    # bookkeeping --------------------------------------------------------------------------

    def ref(self, value: Any) -> str:
        name = self.refs.get(id(value))
        if name is None:
            name = f"R{len(self.values)}"
            self.refs[id(value)] = name
            self.values.append((name, value))
        return name

    def var(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)
        if len(self.lines) > _MAX_LINES:
            raise _TooBig

    def function(self, root: Any) -> tuple[str, list[Any]] | None:
        if getattr(root, "_splice_gen", None) is None:
            return None
        try:
            self.node(root, "inp", "env", "result", 2, 0)
        except _TooBig:
            return None
        names = [name for name, _ in self.values]
        head = [
            f"def factory({', '.join(names)}):",
            "    def fast(inp, env, dirty):",
        ]
        tail = ["        return result, dirty", "    return fast", ""]
        source = "\n".join(head + self.lines + tail)
        return source, [value for _, value in self.values]

    # nodes --------------------------------------------------------------------------------

    def call(self, node: Any, inp: str, env: str, target: str, indent: int) -> str:
        """``target = <node's closure>(inp, env)``; the result kind is unknown."""
        self.emit(indent, f"{target} = {self.ref(node._splice_fn)}({inp}, {env})")
        self.check_null(target, indent)
        return "any"

    def check_null(self, target: str, indent: int) -> None:
        """After a value computed elsewhere: it may hold a null unless a plain scalar."""
        self.emit(indent, f"if {target}.__class__ not in CLEAN:")
        self.emit(indent + 1, "dirty = True")

    def node(self, node: Any, inp: str, env: str, target: str, indent: int, blocks: int) -> str:
        """Emit code computing ``node`` into ``target``; its kind (``"dict"`` or ``"any"``)."""
        info = node.__dict__.get("_splice_gen")
        if info is None or blocks >= _MAX_BLOCKS or indent >= _MAX_INDENT:
            return self.call(node, inp, env, target, indent)
        kind = info[0]
        if kind == "const":
            self.emit(indent, f"{target} = {self.ref(info[1])}")
            if info[1].__class__ not in (str, int, float, bool):
                self.emit(indent, "dirty = True")
            return "any"
        if kind == "name":
            return self.name(node, info, inp, env, target, indent)
        if kind == "path":
            return self.path(node, info, inp, env, target, indent, blocks)
        if kind == "object":
            return self.object(node, inp, env, target, indent, blocks)
        if kind == "array":
            return self.array(node, inp, env, target, indent, blocks)
        if kind == "arithmetic":
            return self.arithmetic(node, info, inp, env, target, indent, blocks)
        if kind == "compare":
            return self.compare(node, info, inp, env, target, indent, blocks)
        if kind == "concat":
            return self.concat(node, info, inp, env, target, indent, blocks)
        if kind == "condition":
            return self.condition(node, info, inp, env, target, indent, blocks)
        if kind == "block":
            return self.block(node, info, inp, env, target, indent, blocks)
        if kind == "function":
            return self.function_call(node, info, inp, env, target, indent, blocks)
        if kind == "variable":
            self.variable(node, info, env, target, indent)
            self.check_null(target, indent)
            return "any"
        return self.call(node, inp, env, target, indent)

    def variable(self, node: Any, info: Any, env: str, target: str, indent: int) -> None:
        """``$name`` (``Compiler._variable``): the innermost frame that binds it."""
        _, name, finish = info
        frame, bindings = self.var("e"), self.var("b")
        self.emit(indent, f"{target} = None")
        self.emit(indent, f"{frame} = {env}")
        self.emit(indent, f"while {frame} is not None:")
        self.emit(indent + 1, f"{bindings} = {frame}.bindings")
        self.emit(indent + 1, f"if {name!r} in {bindings}:")
        self.emit(indent + 2, f"{target} = {bindings}[{name!r}]")
        self.emit(indent + 2, "break")
        self.emit(indent + 1, f"{frame} = {frame}.parent")
        if finish:
            self.emit(indent, f"if {target}.__class__ is JList:")
            self.emit(indent + 1, f"{target} = mangle({target}, {bool(node.keep_array)})")

    def located(self, node: Any, indent: int) -> None:
        """The ``except`` of a closure that locates errors at its node's position."""
        self.emit(indent, "except JException as error:")
        self.emit(indent + 1, f"located(error, {int(node.position)})")
        self.emit(indent + 1, "raise")

    def name(self, node: Any, info: Any, inp: str, env: str, target: str, indent: int) -> str:
        """``Compiler._name`` on an object."""
        _, key, finish = info
        known = inp in self.dicts
        body = indent if known else indent + 1
        if not known:
            self.emit(indent, f"if {inp}.__class__ is dict:")
        self.emit(body, f"{target} = {inp}.get({key!r}, NONE)")
        self.emit(body, f"if {target}.__class__ not in PLAIN:")
        self.emit(body + 1, f"if {target} is NONE:")
        self.emit(body + 2, f"{target} = None")
        self.emit(body + 1, f"elif {target} is None:")
        self.emit(body + 2, f"{target} = NULL")
        self.emit(body + 2, "dirty = True")
        if finish:
            self.emit(body + 1, f"elif {target}.__class__ is JList:")
            self.emit(body + 2, f"{target} = mangle({target}, {bool(node.keep_array)})")
        if not known:
            self.emit(indent, "else:")
            self.call(node, inp, env, target, indent + 1)
        return "any"

    def mangle(self, target: str, keep_array: bool, indent: int) -> None:
        """``if target is a JList: target = _mangle(target, keep_array)``, inlined."""
        self.emit(indent, f"if {target}.__class__ is JList and {target}.sequence:")
        body = indent + 1
        if keep_array:
            self.emit(body, f"{target} = mangle({target}, True)")
            return
        self.emit(body, f"if not {target}.tuple_stream:")
        self.emit(body + 1, f"if not {target}:")
        self.emit(body + 2, f"{target} = None")
        self.emit(body + 1, f"elif len({target}) == 1 and not {target}.keep_singleton:")
        self.emit(body + 2, f"{target} = {target}[0]")

    def new_list(self, target: str, indent: int) -> None:
        """``target = JList()`` without the Python ``__init__``."""
        self.emit(indent, f"{target} = new_list(JList)")
        self.emit(indent, f"{target}.__dict__.update(LIST_FLAGS)")

    def path(
        self, node: Any, info: Any, inp: str, env: str, target: str, indent: int, blocks: int
    ) -> str:
        finish = info[1]
        steps = node.steps
        if node.keep_singleton_array or node.group is not None or node.tuple is not None:
            return self.call(node, inp, env, target, indent)
        names_only = all(
            step.type == "name" and isinstance(step.value, str) and not _has_extras(step)
            for step in steps
        )
        if names_only and finish and not node.keep_array:
            return self.names(node, [step.value for step in steps], inp, env, target, indent)
        if len(steps) == 2:
            first, second = steps
            if (
                first.type == "name"
                and isinstance(first.value, str)
                and not _has_extras(first)
                and not first.consarray
                and second.type != "sort"
                and not second.stages
            ):
                return self.map_step(
                    node, finish, first.value, second, inp, env, target, indent, blocks
                )
        return self.call(node, inp, env, target, indent)

    def names(
        self, node: Any, keys: list[str], inp: str, env: str, target: str, indent: int
    ) -> str:
        """``Compiler._simple_path``: ``a.b.c`` through objects."""
        current = inp
        level = indent
        for index, key in enumerate(keys):
            if index or inp not in self.dicts:
                self.emit(level, f"if {current}.__class__ is dict:")
                level += 1
            self.emit(level, f"{target} = {current}.get({key!r}, NONE)")
            current = target
        self.emit(level, f"if {target}.__class__ not in PLAIN:")
        self.emit(level + 1, f"if {target} is NONE:")
        self.emit(level + 2, f"{target} = None")
        self.emit(level + 1, f"elif {target} is None:")
        self.emit(level + 2, f"{target} = NULL")
        self.emit(level + 2, "dirty = True")
        self.emit(level + 1, f"elif {target}.__class__ is JList and {target}.sequence:")
        self.call(node, inp, env, target, level + 2)
        for close in range(level - 1, indent - 1, -1):
            self.emit(close, "else:")
            self.call(node, inp, env, target, close + 1)
        return "any"

    def map_step(
        self,
        node: Any,
        finish: bool,
        key: str,
        step: Any,
        inp: str,
        env: str,
        target: str,
        indent: int,
        blocks: int,
    ) -> str:
        """``name.step`` (``Compiler._general_path``) when ``name`` is a plain array."""
        items, out, item, value = self.var("s"), self.var("o"), self.var("i"), self.var("r")
        count, first = self.var("n"), self.var("f")
        self.emit(indent, "try:")
        body = indent + 1
        if inp in self.dicts:
            self.emit(body, f"{items} = {inp}.get({key!r})")
        else:
            self.emit(body, f"{items} = {inp}.get({key!r}) if {inp}.__class__ is dict else None")
        self.emit(body, f"if {items}.__class__ is list and len({items}) <= {_CLOCK_EVERY}:")
        self.new_list(out, body + 1)
        self.emit(body + 1, f"{out}.sequence = True")
        self.emit(body + 1, f"{count} = 0")
        self.emit(body + 1, f"{first} = None")
        self.emit(body + 1, f"for {item} in {items}:")
        loop = body + 2
        kind = self.node(step, item, env, value, loop, blocks + 2)
        if kind == "dict":
            self.emit(loop, f"{out}.append({value})")
            result = out
        else:
            # ``_step``'s loop; the lone first result matters only when it is an array
            self.emit(loop, f"if {value}.__class__ in SCALARS:")
            self.emit(loop + 1, f"{out}.append({value})")
            self.emit(loop + 1, f"{count} += 1")
            self.emit(loop, f"elif {value} is not None:")
            self.emit(loop + 1, f"{count} += 1")
            self.emit(loop + 1, f"if {count} == 1:")
            self.emit(loop + 2, f"{first} = {value}")
            self.emit(loop + 1, f"if {value}.__class__ is JList:")
            self.emit(loop + 2, f"if {value}.cons:")
            self.emit(loop + 3, f"{out}.append({value})")
            self.emit(loop + 2, "else:")
            self.emit(loop + 3, f"{out}.extend({value})")
            self.emit(loop + 1, f"elif isinstance({value}, list):")
            self.emit(loop + 2, f"{out}.extend({value})")
            self.emit(loop + 1, "else:")
            self.emit(loop + 2, f"{out}.append({value})")
            self.emit(body + 1, f"if {count} == 1 and is_array({first}):")
            self.emit(body + 2, f"{out} = {first}")
            result = out
        self.emit(body + 1, f"{target} = {result}")
        if finish:
            self.mangle(target, bool(node.keep_array), body + 1)
        self.emit(body, "else:")
        self.call(node, inp, env, target, body + 1)
        self.located(node, indent)
        return "any"

    def object(self, node: Any, inp: str, env: str, target: str, indent: int, blocks: int) -> str:
        """``{"key": value, ...}`` with constant keys (``object_constructor``)."""
        pairs = node.lhs_object
        known = inp in self.dicts
        self.emit(indent, "try:")
        body = indent + 1 if known else indent + 2
        if not known:
            self.emit(indent + 1, f"if {inp}.__class__ is dict:")
        result = self.var("d")
        self.dicts.add(inp)
        values = []
        for _, value_node in pairs:
            value = self.var()
            self.node(value_node, inp, env, value, body, blocks + 1)
            values.append(value)
        # ``object_constructor``: the fields in order, without the undefined ones
        keys = [str(key.value) for key, _ in pairs]
        if values:
            present = " and ".join(f"{value} is not None" for value in values)
            self.emit(body, f"if {present}:")
            fields = ", ".join(f"{key!r}: {value}" for key, value in zip(keys, values, strict=True))
            self.emit(body + 1, f"{result} = {{{fields}}}")
            self.emit(body, "else:")
            self.emit(body + 1, f"{result} = {{}}")
            for key, value in zip(keys, values, strict=True):
                self.emit(body + 1, f"if {value} is not None:")
                self.emit(body + 2, f"{result}[{key!r}] = {value}")
        else:
            self.emit(body, f"{result} = {{}}")
        if not known:
            self.dicts.discard(inp)
        self.emit(body, f"{target} = {result}")
        if not known:
            self.emit(indent + 1, "else:")
            self.call(node, inp, env, target, indent + 2)
        self.located(node, indent)
        return "dict"

    def array(self, node: Any, inp: str, env: str, target: str, indent: int, blocks: int) -> str:
        """``[a, b, ...]`` (``Compiler._unary``)."""
        result = self.var("a")
        self.new_list(result, indent)
        for item in node.expressions:
            value = self.var()
            self.node(item, inp, env, value, indent, blocks)
            self.emit(indent, f"if {value} is not None:")
            if str(item.value) == "[":
                self.emit(indent + 1, f"{result}.append({value})")
            else:
                self.emit(indent + 1, f"if isinstance({value}, list):")
                self.emit(indent + 2, f"{result}.extend({value})")
                self.emit(indent + 1, "else:")
                self.emit(indent + 2, f"{result}.append({value})")
        if node.consarray:
            self.emit(indent, f"{result}.cons = True")
        self.emit(indent, f"{target} = {result}")
        return "any"

    def operands(self, node: Any, inp: str, env: str, indent: int, blocks: int) -> tuple[str, str]:
        """Open a ``try:`` at ``indent`` and compute both sides of a binary node inside it."""
        left, right = self.var(), self.var()
        self.emit(indent, "try:")
        self.node(node.lhs, inp, env, left, indent + 1, blocks + 1)
        self.node(node.rhs, inp, env, right, indent + 1, blocks + 1)
        return left, right

    def otherwise(self, node: Any, target: str, slow: str, indent: int) -> str:
        """Close a binary node opened by :meth:`operands`: any other operands go to the
        closure's own computation ``slow``, whose result may be null."""
        body = indent + 1
        self.emit(body, "else:")
        self.emit(body + 1, f"{target} = {slow}")
        self.check_null(target, body + 1)
        self.located(node, indent)
        return "any"

    def arithmetic(
        self, node: Any, info: Any, inp: str, env: str, target: str, indent: int, blocks: int
    ) -> str:
        """``+ - *``: integers inline, everything else through the closure's ``combine``."""
        _, op, combine, exact = info
        left, right = self.operands(node, inp, env, indent, blocks)
        lcls, rcls = self.var("c"), self.var("c")
        body = indent + 1
        self.emit(body, f"{lcls} = {left}.__class__")
        self.emit(body, f"{rcls} = {right}.__class__")
        self.emit(body, f"if {lcls} is int and {rcls} is int:")
        self.emit(body + 1, f"{target} = {left} {op} {right}")
        self.emit(body + 1, f"if not -{_SAFE_INTEGER} <= {target} <= {_SAFE_INTEGER}:")
        self.emit(body + 2, f"{target} = {self.ref(combine)}({left}, {right})")
        scaled = getattr(exact, "_splice_scaled", None)
        if op == "*" and scaled is not None:
            self.product(left, right, lcls, rcls, target, scaled, body)
        self.emit(
            body,
            f"elif ({lcls} is int or ({lcls} is float and isfinite({left})))"
            f" and ({rcls} is int or ({rcls} is float and isfinite({right}))):",
        )
        self.emit(body + 1, f"{target} = {self.ref(exact)}({left}, {right})")
        return self.otherwise(node, target, f"{self.ref(combine)}({left}, {right})", indent)

    def product(
        self,
        left: str,
        right: str,
        lcls: str,
        rcls: str,
        target: str,
        scaled: tuple[Any, Any, int],
        indent: int,
    ) -> None:
        """An int times a float whose ``(units, places)`` is cached: ``exact_operation``'s
        integer computation, inlined (a cached float is finite and has no exponent)."""
        cache, powers, digits = scaled
        cache_ref, powers_ref = self.ref(cache), self.ref(powers)
        parts, units, scale = self.var("q"), self.var("u"), self.var("w")
        for integer, number, number_cls in ((left, right, rcls), (right, left, lcls)):
            other_cls = lcls if number_cls == rcls else rcls
            self.emit(
                indent,
                f"elif {other_cls} is int and {number_cls} is float"
                f" and ({parts} := {cache_ref}.get({number})) is not None"
                f" and -{digits} < ({units} := {integer} * {parts}[0]) < {digits}:",
            )
            self.emit(indent + 1, f"{scale} = {powers_ref}[{parts}[1]]")
            self.emit(
                indent + 1,
                f"{target} = {units} / {scale} if {units} % {scale} else {units} // {scale}",
            )

    def compare(
        self, node: Any, info: Any, inp: str, env: str, target: str, indent: int, blocks: int
    ) -> str:
        """``< <= > >=`` (``Compiler._binary``)."""
        _, op, slow = info
        left, right = self.operands(node, inp, env, indent, blocks)
        cls = self.var("c")
        body = indent + 1
        self.emit(body, f"{cls} = {left}.__class__")
        self.emit(
            body,
            f"if {cls} is {right}.__class__ and ({cls} is int or {cls} is float or {cls} is str):",
        )
        self.emit(body + 1, f"{target} = {left} {op} {right}")
        return self.otherwise(node, target, f"{self.ref(slow)}({left}, {right}, {op!r})", indent)

    def concat(
        self, node: Any, info: Any, inp: str, env: str, target: str, indent: int, blocks: int
    ) -> str:
        """``a & b`` (``Compiler._binary``): both sides as strings, undefined as ``""``."""
        string = self.ref(info[1])
        left, right = self.operands(node, inp, env, indent, blocks)
        body = indent + 1
        for side in (left, right):
            self.emit(body, f"if {side}.__class__ is not str:")
            self.emit(body + 1, f'{side} = "" if {side} is None else {string}({side}, None)')
        self.emit(body, f"{target} = {left} + {right}")
        self.located(node, indent)
        return "any"

    def condition(
        self, node: Any, info: Any, inp: str, env: str, target: str, indent: int, blocks: int
    ) -> str:
        """``a ? b : c`` (``Compiler._condition``)."""
        finish = info[1]
        test = self.var("t")
        self.node(node.condition, inp, env, test, indent, blocks)
        self.emit(indent, f"if boolize({test}):")
        self.node(node.then, inp, env, target, indent + 1, blocks)
        self.emit(indent, "else:")
        if node._else is not None:
            self.node(node._else, inp, env, target, indent + 1, blocks)
        else:
            self.emit(indent + 1, f"{target} = None")
        if finish and node.keep_array:
            self.emit(indent, f"if {target}.__class__ is JList:")
            self.emit(indent + 1, f"{target} = mangle({target}, True)")
        return "any"

    def block(
        self, node: Any, info: Any, inp: str, env: str, target: str, indent: int, blocks: int
    ) -> str:
        """``(a; b)`` (``Compiler._block``): without its frame when nothing can use it."""
        finish = info[1]
        expressions = node.expressions or []
        frame = env
        if not all(_frame_free(expression) for expression in expressions):
            frame = self.var("e")
            self.emit(indent, f"{frame} = Frame({env})")
        kind = "any"
        if not expressions:
            self.emit(indent, f"{target} = None")
        for expression in expressions:
            kind = self.node(expression, inp, frame, target, indent, blocks)
        if finish and node.keep_array:
            self.emit(indent, f"if {target}.__class__ is JList:")
            self.emit(indent + 1, f"{target} = mangle({target}, True)")
            kind = "any"
        return kind

    def function_call(
        self, node: Any, info: Any, inp: str, env: str, target: str, indent: int, blocks: int
    ) -> str:
        """``$f(a, b)`` (``Compiler._call``): arguments inline, then the closure's ``invoke``."""
        _, finish, invoke = info
        if node.procedure.type != "variable":
            return self.call(node, inp, env, target, indent)
        proc = self.var("p")
        arguments = [self.var() for _ in node.arguments or ()]
        self.emit(indent, "try:")
        body = indent + 1
        # the function itself is not part of the value: no null check
        procedure = node.procedure.__dict__.get("_splice_gen")
        if procedure is not None and procedure[0] == "variable":
            self.variable(node.procedure, procedure, env, proc, body)
        else:
            self.emit(body, f"{proc} = {self.ref(node.procedure._splice_fn)}({inp}, {env})")
        for argument, value in zip(node.arguments or (), arguments, strict=True):
            self.node(argument, inp, env, value, body, blocks + 1)
        self.emit(
            body,
            f"{target} = {self.ref(invoke)}({proc}, [{', '.join(arguments)}], {inp}, {env})",
        )
        self.check_null(target, body)
        self.located(node, indent)
        if finish:
            self.mangle(target, bool(node.keep_array), indent)
        return "any"
