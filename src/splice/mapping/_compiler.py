"""Compile jsonata-python's parsed AST into a tree of Python closures.

jsonata-python interprets its AST on every evaluation: each node goes through ``eval`` and
``_eval`` (a per-thread instance lookup, a chain of ``if expr.type == ...`` tests, two
frame lookups for the evaluate callbacks, sequence mangling). :func:`compile_node` walks
the AST once and returns, for every node, a closure ``fn(input, env)`` that computes what
``Jsonata._eval(node, input, env)`` computes, with the node's dispatch decided up front.

Conformance comes from three rules:

- ``env`` is the interpreter's own :class:`jsonata.Jsonata.Frame`, values are its own
  values (``Utils.JList`` sequences with their flags, ``Utils.NULL_VALUE`` for null,
  lambda ``Symbol``\\ s), and errors are its own :class:`~jsonata.JException`\\ s with the
  position of the innermost node that raised them;
- every compiled closure is attached to its node (``node._splice_fn``), and the engine's
  ``_eval`` runs that closure: interpreter code that evaluates a child (a builtin calling
  a lambda, a sort term, a transform pattern) gets the compiled child;
- a node (or feature) this module does not compile - tuple streams (``@``, ``#``, ``%``),
  transforms ``|...|``, partial application - gets a closure that runs the interpreter on
  that node (``engine._interpret``); its children are still compiled. Sorting (``^``) runs
  jsonata-python's sort with the compiled sort terms.

:attr:`Compiler.fallbacks` lists the nodes left to the interpreter. ``node._splice_gen``
tells ``_codegen`` how a node's closure may be inlined (``None``: call the closure).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from jsonata import Functions, JException, Jsonata, Utils
from jsonata.parser import Parser

__all__ = ["Arithmetic", "Compiler", "Fn", "lookup_variable", "validate_arguments"]

Fn = Callable[[Any, Any], Any]
"""A compiled node: ``fn(input, environment) -> value`` (``None`` is undefined)."""
Arithmetic = Callable[[str], Callable[[Any, Any], Any]]
"""For ``+``, ``-`` or ``*``, the operation on two numbers (splice computes them exactly)."""

JList = Utils.JList
Symbol = Parser.Symbol
Frame = Jsonata.Frame
JFunction = Jsonata.JFunction
JNativeFunction = Jsonata.JNativeFunction
NULL = Utils.NULL_VALUE
NONE = Utils.NONE
_is_numeric = Utils.is_numeric
_convert_number = Utils.convert_number
_create_sequence = Utils.create_sequence
_to_boolean = Functions.to_boolean
_append = Functions.append
_string = Functions.string
_SAFE_INTEGER = 2**53


def lookup_variable(env: Any, name: str) -> Any:
    """``Frame.lookup`` without the recursion."""
    while env is not None:
        bindings = env.bindings
        if name in bindings:
            return bindings[name]
        env = env.parent
    return None


def boolize(value: Any) -> bool:
    """``Jsonata.boolize``: the effective boolean value (undefined is false)."""
    if value is True:
        return True
    if value is False or value is None:
        return False
    result = _to_boolean(value)
    return False if result is None else bool(result)


def _mangle(result: Any, keep_array: bool) -> Any:
    """The end of ``Jsonata._eval``: a sequence of one is its item, an empty one undefined."""
    if result.__class__ is JList and result.sequence and not result.tuple_stream:
        if keep_array:
            result.keep_singleton = True
        if not result:
            return None
        if len(result) == 1 and not result.keep_singleton:
            return result[0]
    return result


def _located(error: JException, position: int) -> None:
    if error.location is None or error.location < 0:
        error.location = position


def _sequence() -> Any:
    sequence = JList()
    sequence.sequence = True
    return sequence


# -- signatures ----------------------------------------------------------------------------

_SYMBOLS: dict[type, str] = {
    str: "s",
    dict: "o",
    int: "n",
    float: "n",
    bool: "b",
    list: "a",
    JList: "a",
}


def _symbol(signature: Any, value: Any) -> str:
    """``Signature.get_symbol`` for the plain JSON types, without its function tests."""
    found = _SYMBOLS.get(value.__class__)
    if found is not None:
        return found
    if value is None:
        return "m"
    symbol: str = signature.get_symbol(value)
    return symbol


_AS_GIVEN = object()
"""Cached for a shape of arguments that ``Signature.validate`` returns unchanged."""


_SIMPLE_CLASSES = frozenset(_SYMBOLS) | {type(None)}
"""Classes whose signature symbol is the class's own (``_SYMBOLS``, ``m`` for None)."""


def validate_arguments(signature: Any, args: Sequence[Any], context: Any) -> Any:
    """``Signature.validate``, with what it decides cached per shape of the arguments.

    The shape is the string of argument type symbols (``"sn"``) the signature's regex
    matches. When, for a shape, validation neither substitutes the context, wraps or
    checks an array, nor pads missing arguments, ``args`` itself is returned. The decision
    is also cached per tuple of argument classes when the classes alone give the shape.
    """
    by_class: dict[Any, Any] | None = getattr(signature, "_splice_classes", None)
    if by_class is None:
        by_class = signature._splice_classes = {}
    count = len(args)
    # the key: the class of a lone argument, else the tuple of the classes
    classes: Any
    if count == 1:
        classes = args[0].__class__
    elif count == 2:
        classes = (args[0].__class__, args[1].__class__)
    else:
        classes = tuple([arg.__class__ for arg in args])
    groups = by_class.get(classes, NONE)
    if groups is _AS_GIVEN:
        return args
    if groups is NONE:
        groups = _groups(signature, args)
        if all(arg.__class__ in _SIMPLE_CLASSES for arg in args):
            by_class[classes] = groups
        if groups is _AS_GIVEN:
            return args
    if groups is None:
        supplied = "".join([_symbol(signature, arg) for arg in args])
        signature.throw_validation_error(args, supplied, signature.function_name)
    return _validate(signature, groups, args, context)


def _groups(signature: Any, args: Sequence[Any]) -> Any:
    """The signature regex's groups for the arguments' shape, ``_AS_GIVEN`` or ``None``."""
    symbol = _SYMBOLS.get
    supplied = "".join([symbol(arg.__class__) or _symbol(signature, arg) for arg in args])
    cache: dict[str, Any] | None = signature.__dict__.get("_splice_groups")
    if cache is None:
        cache = signature._splice_groups = {}
    groups = cache.get(supplied, NONE)
    if groups is NONE:
        match = signature._regex.fullmatch(supplied)
        groups = match.groups() if match is not None else None
        if groups is not None and _as_given(signature, groups, len(args)):
            groups = _AS_GIVEN
        cache[supplied] = groups
    return groups


def _as_given(signature: Any, groups: Sequence[str], count: int) -> bool:
    """Whether :func:`_validate` returns the arguments unchanged for these groups."""
    consumed = 0
    for param, matched in zip(signature._params, groups, strict=True):
        if matched == "":
            return False
        if param.type == "a" and (param.subtype is not None or set(matched) != {"a"}):
            return False
        consumed += len(matched)
    return consumed == count


def _validate(signature: Any, groups: Sequence[str], args: Sequence[Any], context: Any) -> Any:
    validated: list[Any] = []
    arg_index = 0
    count = len(args)
    for index, param in enumerate(signature._params):
        arg = args[arg_index] if arg_index < count else None
        matched = groups[index]
        if matched == "":
            if param.context and param.regex is not None:
                if re.fullmatch(param.regex, _symbol(signature, context)):
                    validated.append(context)
                else:
                    raise JException("T0411", -1, context, arg_index + 1)
            else:
                validated.append(arg)
                arg_index += 1
            continue
        for single in matched:
            if param.type == "a":
                if single == "m":
                    arg = None
                else:
                    arg = args[arg_index] if arg_index < count else None
                    array_ok = True
                    if param.subtype is not None:
                        if single != "a" and matched != param.subtype:
                            array_ok = False
                        elif single == "a" and arg:
                            item_type = _symbol(signature, arg[0])
                            if item_type != str(param.subtype[0]):
                                array_ok = False
                            else:
                                for item in arg:
                                    if _symbol(signature, item) != item_type:
                                        array_ok = False
                                        break
                    if not array_ok:
                        raise JException(
                            "T0412", -1, arg_index + 1, signature.function_name, param.subtype
                        )
                    if single != "a":
                        arg = [arg]
                validated.append(arg)
                arg_index += 1
            else:
                validated.append(args[arg_index] if arg_index < count else None)
                arg_index += 1
    return validated


def _native_result(result: Any) -> Any:
    """The tail of ``Functions._call``: whole numbers become ints."""
    cls = result.__class__
    if cls is int and -_SAFE_INTEGER <= result <= _SAFE_INTEGER:
        return result
    if result is None or cls is str or cls is bool or cls is dict or cls is JList:
        return result
    if _is_numeric(result):
        return _convert_number(result)
    return result


# -- the compiler --------------------------------------------------------------------------

_LEAF_ATTRS = ("lhs", "rhs", "expression", "condition", "then", "_else", "procedure", "body")
_TRANSFORM_ATTRS = ("pattern", "update", "delete")


class Compiler:
    """Compiles the nodes of one expression for one engine (closures capture the engine)."""

    def __init__(
        self,
        engine: Any,
        arithmetic: Arithmetic,
        natives: dict[Any, Callable[[list[Any]], Any]] | None = None,
    ) -> None:
        self.engine = engine
        self.arithmetic = arithmetic
        self.natives = natives or {}
        """Library functions computed without their signature check when ``fast(args)``
        returns anything but ``NONE`` (it does so only when the check would pass)."""
        self.fallbacks: list[str] = []
        """``"<type> at <position>"`` for each node evaluated by the interpreter."""

    # entry point ------------------------------------------------------------------------

    def compile(self, node: Any) -> Fn:
        """The closure for ``node`` (built once; also attached as ``node._splice_fn``)."""
        existing: Fn | None = node.__dict__.get("_splice_fn")
        if existing is not None:
            return existing
        fn = self._build(node)
        node._splice_fn = fn
        return fn

    def _build(self, node: Any) -> Fn:
        """The closure; ``node._splice_gen`` says how ``_codegen`` may inline it (or None)."""
        kind = node.type
        builder = _BUILDERS.get(kind)
        node._splice_gen = None
        if builder is None:
            return self._fallback(node)
        extras = bool(node.predicate) or (kind != "path" and node.group is not None)
        core: Fn | None = builder(self, node, not extras)
        if core is None:
            node._splice_gen = None
            return self._fallback(node)
        if not extras:
            return core
        node._splice_gen = None
        return self._finish(node, core)

    def _fallback(self, node: Any) -> Fn:
        self.fallbacks.append(f"{node.type} at {node.position}")
        self._compile_children(node)
        interpret = self.engine._interpret

        def fallback(input: Any, env: Any) -> Any:
            return interpret(node, input, env)

        return fallback

    def _compile_children(self, node: Any) -> None:
        """Compile what the interpreter may evaluate below a node it runs itself."""
        kind = node.type
        for attr in _LEAF_ATTRS + _TRANSFORM_ATTRS:
            child = getattr(node, attr, None)
            if isinstance(child, Symbol) and child.type is not None:
                if kind == "bind" and attr == "lhs":
                    continue
                self.compile(child)
        for attr in ("steps", "expressions"):
            for child in getattr(node, attr, None) or ():
                if isinstance(child, Symbol):
                    if child.type == "sort":  # a step never evaluated as a node
                        self._compile_children(child)
                    else:
                        self.compile(child)
        if kind in ("function", "partial"):
            for child in node.arguments or ():
                if not (child.type == "operator" and child.value == "?"):
                    self.compile(child)
        for items in (node.predicate, node.stages):
            for item in items or ():
                if isinstance(item.expr, Symbol):
                    self.compile(item.expr)
        if node.group is not None:
            for key, value in node.group.lhs_object:
                self.compile(key)
                self.compile(value)
        for key, value in node.lhs_object or ():
            self.compile(key)
            self.compile(value)
        for term in node.terms or ():
            self.compile(term.expression)

    def _finish(self, node: Any, core: Fn) -> Fn:
        """Predicates, group-by and sequence mangling around a raw (unmangled) core."""
        filters = [self._filter(item.expr) for item in node.predicate or ()]
        has_group = node.group is not None and node.type != "path"
        group = self._group(node.group) if has_group else None
        keep_array = node.keep_array
        position = node.position

        def finished(input: Any, env: Any) -> Any:
            try:
                result = core(input, env)
                for apply_filter in filters:
                    result = apply_filter(result, env)
                if group is not None:
                    result = group(result, env)
                return _mangle(result, keep_array)
            except JException as error:
                _located(error, position)
                raise

        return finished

    def _mangled(self, node: Any, core: Fn) -> Fn:
        """``core`` followed by sequence mangling (for node types that return sequences)."""
        keep_array = node.keep_array

        def mangled(input: Any, env: Any) -> Any:
            result = core(input, env)
            if result.__class__ is JList:
                return _mangle(result, keep_array)
            return result

        return mangled

    # literals, names, variables -----------------------------------------------------------

    def _literal(self, node: Any, finish: bool) -> Fn:
        value = node.value if node.value is not None else NULL
        node._splice_gen = ("const", value)

        def literal(input: Any, env: Any) -> Any:
            return value

        return literal

    def _regex(self, node: Any, finish: bool) -> Fn:
        value = node.value

        def regex(input: Any, env: Any) -> Any:
            return value

        return regex

    def _name(self, node: Any, finish: bool) -> Fn | None:
        key = node.value
        if not isinstance(key, str):
            return None
        lookup = Functions.lookup
        keep_array = node.keep_array
        node._splice_gen = ("name", key, finish)

        def name(input: Any, env: Any) -> Any:
            if input.__class__ is dict:
                result = input.get(key, NONE)
                if result is NONE:
                    return None
                if result is None:
                    return NULL
            else:
                result = lookup(input, key)
            if finish and result.__class__ is JList:
                return _mangle(result, keep_array)
            return result

        return name

    def _variable(self, node: Any, finish: bool) -> Fn:
        name = str(node.value)
        keep_array = node.keep_array
        if node.value == "":

            def context(input: Any, env: Any) -> Any:
                result = input
                if input.__class__ is JList:
                    if input.outer_wrapper:
                        result = input[0]
                    if finish:
                        return _mangle(result, keep_array)
                return result

            return context

        node._splice_gen = ("variable", name, finish)

        def variable(input: Any, env: Any) -> Any:
            while env is not None:
                bindings = env.bindings
                if name in bindings:
                    result = bindings[name]
                    if finish and result.__class__ is JList:
                        return _mangle(result, keep_array)
                    return result
                env = env.parent
            return None

        return variable

    # paths --------------------------------------------------------------------------------

    def _path(self, node: Any, finish: bool) -> Fn | None:
        steps = node.steps
        if node.tuple is not None or node.seeking_parent:
            return None
        for step in steps:
            if step.type == "parent" or step.tuple is not None:
                return None
            if step.focus is not None or step.index is not None or step.ancestor is not None:
                return None
            if any(stage.type != "filter" for stage in step.stages or ()):
                return None
        general = self._general_path(node, finish)
        simple = self._simple_path(node, general) if finish else None
        node._splice_gen = ("path", finish)
        return simple or general

    def _general_path(self, node: Any, finish: bool) -> Fn:
        steps = node.steps
        first_is_variable = steps[0].type == "variable"
        last = len(steps) - 1
        step_fns: list[Callable[[Any, Any], Any]] = []
        for index, step in enumerate(steps):
            if step.type == "sort":
                step_fns.append(self._sort_step(step))
                continue
            fn = self.compile(step)
            if index == 0 and step.consarray:
                step_fns.append(fn)
            else:
                filters = [self._filter(stage.expr) for stage in step.stages or ()]
                step_fns.append(_step(self.engine, fn, filters, index == last))
        keep_singleton_array = node.keep_singleton_array
        group = self._group(node.group) if node.group is not None else None
        keep_array = node.keep_array
        position = node.position

        def path(input: Any, env: Any) -> Any:
            try:
                if first_is_variable or not isinstance(input, list):
                    sequence = JList((input,))
                    sequence.sequence = True
                else:
                    sequence = input
                result = None
                for step_fn in step_fns:
                    result = step_fn(sequence, env)
                    if result is None or not result:
                        break
                    sequence = result
                if keep_singleton_array:
                    if not isinstance(result, JList):
                        result = JList(result)
                    if result.cons and not result.sequence:
                        result = _create_sequence(result)
                    result.keep_singleton = True
                if group is not None:
                    result = group(result, env)
                if finish and result.__class__ is JList:
                    return _mangle(result, keep_array)
                return result
            except JException as error:
                _located(error, position)
                raise

        return path

    def _sort_step(self, step: Any) -> Fn:
        """A ``^(...)`` step: jsonata-python's sort, comparing with the compiled terms."""
        for term in step.terms:
            self.compile(term.expression)
        stages = step.stages
        for stage in stages or ():
            self.compile(stage.expr)
        engine = self.engine

        def sort(sequence: Any, env: Any) -> Any:
            result = engine.evaluate_sort_expression(step, sequence, env)
            if stages is not None:
                result = engine.evaluate_stages(stages, result, env)
            return result

        return sort

    def _simple_path(self, node: Any, general: Fn) -> Fn | None:
        """``a.b.c`` (names only, optionally after one variable) walked through dicts."""
        if node.keep_singleton_array or node.group is not None or node.keep_array:
            return None
        steps = list(node.steps)
        head: Fn | None = None
        if steps[0].type == "variable":
            if _has_extras(steps[0]) or steps[0].consarray or len(steps) < 2:
                return None
            head = self.compile(steps[0])
            steps = steps[1:]
        if any(step.type != "name" or _has_extras(step) for step in steps):
            return None
        if not all(isinstance(step.value, str) for step in steps):
            return None
        names = tuple(step.value for step in steps)
        if head is None and len(names) == 1:
            key = names[0]

            def one_name(input: Any, env: Any) -> Any:
                if input.__class__ is dict:
                    value = input.get(key, NONE)
                    if value is NONE:
                        return None
                    if value is None:
                        return NULL
                    if value.__class__ is JList and value.sequence:
                        return general(input, env)
                    return value
                if input is not None and isinstance(input, list):
                    return general(input, env)
                return None

            return one_name

        def simple_path(input: Any, env: Any) -> Any:
            current = input if head is None else head(input, env)
            for key in names:
                if current.__class__ is not dict:
                    if current is None:
                        return None
                    if isinstance(current, list):
                        return general(input, env)
                    return None
                value = current.get(key, NONE)
                if value is NONE:
                    return None
                current = NULL if value is None else value
            if current.__class__ is JList and current.sequence:
                return general(input, env)
            return current

        return simple_path

    def _filter(self, predicate: Any) -> Callable[[Any, Any], Any]:
        """``Jsonata.evaluate_filter`` for one predicate (``[...]``)."""
        if predicate.type == "number":
            wanted = int(predicate.value)

            def index_filter(input: Any, env: Any) -> Any:
                results = _sequence()
                if isinstance(input, JList) and input.tuple_stream:
                    results.tuple_stream = True
                if input is None:
                    return results
                if not isinstance(input, list):
                    input = _create_sequence(input)
                index = wanted + len(input) if wanted < 0 else wanted
                if 0 <= index < len(input):
                    item = input[index]
                    if item is None:
                        item = NULL
                    if isinstance(item, list):
                        return item
                    results.append(item)
                return results

            return index_filter

        test = self.compile(predicate)
        engine = self.engine
        tick = engine._tick
        is_array_of_numbers = Utils.is_array_of_numbers

        def filter(input: Any, env: Any) -> Any:
            if isinstance(input, JList) and input.tuple_stream:
                return engine.evaluate_filter(predicate, input, env)
            results = _sequence()
            if input is None:
                return results
            if not isinstance(input, list):
                input = _create_sequence(input)
            for index, item in enumerate(input):
                if not index % _CLOCK_EVERY:
                    tick()
                res = test(item, env)
                if res is True:
                    results.append(item)
                    continue
                if res is False or res is None:
                    continue
                if _is_numeric(res):
                    res = _create_sequence(res)
                if is_array_of_numbers(res):
                    for number in res:
                        position = int(number)
                        if position < 0:
                            position = len(input) + position
                        if position == index:
                            results.append(item)
                elif boolize(res):
                    results.append(item)
            return results

        return filter

    # constructors -------------------------------------------------------------------------

    def _group(self, group: Any) -> Callable[[Any, Any], Any]:
        """``Jsonata.evaluate_group_expression`` (object constructor and group-by)."""
        pairs = [(self.compile(key), self.compile(value)) for key, value in group.lhs_object]
        values = [value for _, value in pairs]
        engine = self.engine
        position = group.position
        constant_keys = [
            key.value if key.type == "string" and not _has_extras(key) else None
            for key, _ in group.lhs_object
        ]
        constant: list[tuple[str, Fn]] | None = None
        if all(isinstance(k, str) for k in constant_keys) and len(set(constant_keys)) == len(
            constant_keys
        ):
            constant = [(str(k), v) for k, v in zip(constant_keys, values, strict=True)]

        def general(input: Any, env: Any) -> Any:
            if isinstance(input, JList) and input.tuple_stream:
                return engine.evaluate_group_expression(group, input, env)
            if not isinstance(input, list):
                input = _create_sequence(input)
            if not input:
                input.append(None)
            groups: dict[str, list[Any]] = {}
            for item in input:
                for pair_index, (key_fn, _) in enumerate(pairs):
                    key = key_fn(item, env)
                    if key is None:
                        continue
                    if not isinstance(key, str):
                        raise JException("T1003", position, key)
                    entry = groups.get(key)
                    if entry is not None:
                        if entry[1] != pair_index:
                            raise JException("D1009", position, key)
                        entry[0] = _append(entry[0], item)
                    else:
                        groups[key] = [item, pair_index]
            result = {}
            for key, (data, pair_index) in groups.items():
                value = values[pair_index](data, env)
                if value is not None:
                    result[key] = value
            return result

        if constant is None:
            return general
        fields = constant

        def object_constructor(input: Any, env: Any) -> Any:
            if isinstance(input, list):
                return general(input, env)
            result = {}
            for key, value_fn in fields:
                value = value_fn(input, env)
                if value is not None:
                    result[key] = value
            return result

        object_constructor._splice_constant = fields  # type: ignore[attr-defined]
        return object_constructor

    def _unary(self, node: Any, finish: bool) -> Fn | None:
        op = str(node.value)
        position = node.position
        if op == "-":
            operand = self.compile(node.expression)

            def negate(input: Any, env: Any) -> Any:
                try:
                    value = operand(input, env)
                    if value is None:
                        return None
                    if _is_numeric(value):
                        return _convert_number(-float(value))
                    raise JException("D1002", position, node.value, value)
                except JException as error:
                    _located(error, position)
                    raise

            return negate
        if op == "[":
            items = [(self.compile(item), str(item.value) == "[") for item in node.expressions]
            consarray = node.consarray
            node._splice_gen = ("array",)

            def array(input: Any, env: Any) -> Any:
                result = JList()
                for item_fn, nested in items:
                    value = item_fn(input, env)
                    if value is None:
                        continue
                    if nested or not isinstance(value, list):
                        result.append(value)
                    else:
                        result.extend(value)
                if consarray:
                    result.cons = True
                return result

            return array
        if op == "{":
            group = self._group(node)
            if group.__dict__.get("_splice_constant") is not None:
                node._splice_gen = ("object",)

            def obj(input: Any, env: Any) -> Any:
                try:
                    return group(input, env)
                except JException as error:
                    _located(error, position)
                    raise

            return obj
        return None

    # operators ----------------------------------------------------------------------------

    def _binary(self, node: Any, finish: bool) -> Fn | None:
        op = str(node.value)
        lhs = self.compile(node.lhs)
        rhs = self.compile(node.rhs)
        engine = self.engine
        position = node.position

        if op in ("and", "or"):
            is_and = op == "and"

            def boolean(input: Any, env: Any) -> Any:
                try:
                    left = lhs(input, env)
                    try:
                        left_bool = boolize(left)
                        if is_and:
                            return left_bool and boolize(rhs(input, env))
                        return left_bool or boolize(rhs(input, env))
                    except JException:
                        raise
                    except Exception as error:
                        raise JException("Unexpected", position) from error
                except JException as error:
                    _located(error, position)
                    raise

            return boolean

        if op in ("+", "-", "*"):
            exact = self.arithmetic(op)
            isfinite = math.isfinite

            def combine(left: Any, right: Any) -> Any:
                lcls = left.__class__
                rcls = right.__class__
                if (lcls is int or (lcls is float and isfinite(left))) and (
                    rcls is int or (rcls is float and isfinite(right))
                ):
                    return exact(left, right)
                if left is None or right is None:
                    return engine.evaluate_numeric_expression(left, right, op)
                if not _is_numeric(left):
                    raise JException("T2001", -1, op, left)
                if not _is_numeric(right):
                    raise JException("T2002", -1, op, right)
                return exact(left, right)

            node._splice_gen = ("arithmetic", op, combine, exact)

            def arithmetic(input: Any, env: Any) -> Any:
                try:
                    return combine(lhs(input, env), rhs(input, env))
                except JException as error:
                    _located(error, position)
                    raise

            return arithmetic

        if op in ("<", "<=", ">", ">="):
            compare_slow = engine.evaluate_comparison_expression
            compare = _COMPARE[op]
            node._splice_gen = ("compare", op, compare_slow)

            def comparison(input: Any, env: Any) -> Any:
                try:
                    left = lhs(input, env)
                    right = rhs(input, env)
                    lcls = left.__class__
                    rcls = right.__class__
                    if lcls is rcls and (lcls is int or lcls is float or lcls is str):
                        return compare(left, right)
                    return compare_slow(left, right, op)
                except JException as error:
                    _located(error, position)
                    raise

            return comparison

        if op == "&":
            node._splice_gen = ("concat", _string)

            def concat(input: Any, env: Any) -> Any:
                try:
                    left = lhs(input, env)
                    right = rhs(input, env)
                    if left.__class__ is not str:
                        left = "" if left is None else _string(left, None)
                    if right.__class__ is not str:
                        right = "" if right is None else _string(right, None)
                    return left + right
                except JException as error:
                    _located(error, position)
                    raise

            return concat

        operation: Callable[[Any, Any], Any]
        if op in ("/", "%"):

            def operation(left: Any, right: Any) -> Any:
                return engine.evaluate_numeric_expression(left, right, op)

        elif op in ("=", "!="):

            def operation(left: Any, right: Any) -> Any:
                return engine.evaluate_equality_expression(left, right, op)

        elif op == "..":
            operation = engine.evaluate_range_expression
        elif op == "in":
            operation = engine.evaluate_includes_expression
        else:

            def operation(left: Any, right: Any) -> Any:
                raise JException("Unexpected operator " + op, position)

        def binary(input: Any, env: Any) -> Any:
            try:
                return operation(lhs(input, env), rhs(input, env))
            except JException as error:
                _located(error, position)
                raise

        return binary

    # control ------------------------------------------------------------------------------

    def _condition(self, node: Any, finish: bool) -> Fn:
        condition = self.compile(node.condition)
        then = self.compile(node.then)
        otherwise = self.compile(node._else) if node._else is not None else None
        node._splice_gen = ("condition", finish)

        def conditional(input: Any, env: Any) -> Any:
            if boolize(condition(input, env)):
                return then(input, env)
            if otherwise is not None:
                return otherwise(input, env)
            return None

        return self._mangled(node, conditional) if finish and node.keep_array else conditional

    def _block(self, node: Any, finish: bool) -> Fn:
        expressions = [self.compile(expression) for expression in node.expressions]
        node._splice_gen = ("block", finish)

        def block(input: Any, env: Any) -> Any:
            frame = Frame(env)
            result = None
            for expression in expressions:
                result = expression(input, frame)
            return result

        return self._mangled(node, block) if finish and node.keep_array else block

    def _bind(self, node: Any, finish: bool) -> Fn:
        name = str(node.lhs.value)
        value_fn = self.compile(node.rhs)

        def bind(input: Any, env: Any) -> Any:
            value = value_fn(input, env)
            env.bind(name, value)
            return value

        return self._mangled(node, bind) if finish and node.keep_array else bind

    def _wildcard(self, node: Any, finish: bool) -> Fn:
        wildcard = self.engine.evaluate_wildcard

        def star(input: Any, env: Any) -> Any:
            return wildcard(node, input)

        return self._mangled(node, star) if finish else star

    def _descendant(self, node: Any, finish: bool) -> Fn:
        descendants = self.engine.evaluate_descendants

        def descendant(input: Any, env: Any) -> Any:
            return descendants(node, input)

        return self._mangled(node, descendant) if finish else descendant

    # functions ----------------------------------------------------------------------------

    def _lambda(self, node: Any, finish: bool) -> Fn:
        self.compile(node.body)
        make = self.engine.evaluate_lambda

        def function(input: Any, env: Any) -> Any:
            return make(node, input, env)

        return function

    def _function(self, node: Any, finish: bool) -> Fn:
        call = self._call(node)
        keep_array = node.keep_array
        position = node.position
        node._splice_gen = ("function", finish, call.invoke)  # type: ignore[attr-defined]

        def function_call(input: Any, env: Any) -> Any:
            try:
                result = call(input, env, NONE)
            except JException as error:
                _located(error, position)
                raise
            if finish and result.__class__ is JList:
                return _mangle(result, keep_array)
            return result

        return function_call

    def _call(self, node: Any) -> Callable[[Any, Any, Any], Any]:
        """``Jsonata.evaluate_function`` (``context`` is the ``~>`` left side, or NONE)."""
        engine = self.engine
        procedure = node.procedure
        proc_fn = self.compile(procedure)
        arg_fns = [self.compile(argument) for argument in node.arguments or ()]
        is_path = procedure.type == "path"
        first_name = str(procedure.steps[0].value) if is_path else ""
        proc_name = procedure.steps[0].value if is_path else procedure.value
        position = node.position
        token = node.token
        apply = self._apply
        natives = self.natives
        enter = engine._enter

        def call(input: Any, env: Any, context: Any) -> Any:
            proc = proc_fn(input, env)
            if proc is None and is_path and lookup_variable(env, first_name) is not None:
                raise JException("T1005", position, procedure.steps[0].value)
            args = [] if context is NONE else [context]
            for arg_fn in arg_fns:
                args.append(arg_fn(input, env))
            return invoke(proc, args, input, env)

        def invoke(proc: Any, args: list[Any], input: Any, env: Any) -> Any:
            """The call once the procedure and the arguments are evaluated."""
            if proc is None:
                raise JException("T1006", position, proc_name)
            try:
                if isinstance(proc, Symbol):
                    proc.token = proc_name
                    proc.position = position
                engine.input = input
                engine.environment = env
                enter()
                try:
                    if proc.__class__ is JNativeFunction:  # _apply's first case, inlined
                        fast = natives.get(proc)
                        if fast is not None:
                            result = fast(args)
                            if result is not NONE:
                                return result
                        signature = proc.signature
                        if signature is not None:
                            args = validate_arguments(signature, args, input)
                        while len(args) < proc.nargs:
                            args.append(None)
                        result = proc.method(*args)
                        cls = result.__class__
                        if cls is str or result is None or cls is bool or cls is dict:
                            return result  # what _native_result returns for these
                        return _native_result(result)
                    return apply(proc, args, input, env)
                finally:
                    engine._depth -= 1
            except JException as error:
                if error.location is None or error.location < 0:
                    error.location = position
                if error.current is None:
                    error.current = token
                raise

        call.invoke = invoke  # type: ignore[attr-defined]
        return call

    def _apply(self, proc: Any, args: list[Any], input: Any, env: Any) -> Any:
        """``Jsonata.apply``, calling library and splice functions without the detours."""
        cls = proc.__class__
        if cls is JNativeFunction:
            fast = self.natives.get(proc)
            if fast is not None:
                result = fast(args)
                if result is not NONE:
                    return result
            signature = proc.signature
            if signature is not None:
                args = validate_arguments(signature, args, input)
            while len(args) < proc.nargs:
                args.append(None)
            result = _native_result(proc.method(*args))
        elif cls is JFunction:
            signature = proc.signature
            if signature is not None:
                args = validate_arguments(signature, args, input)
            result = proc.function.call(input, args)
        else:
            return self.engine.apply(proc, args, input, env)
        return result

    def _apply_node(self, node: Any, finish: bool) -> Fn:
        """``~>``: call the right side with the left side as its first argument."""
        engine = self.engine
        lhs = self.compile(node.lhs)
        position = node.position
        keep_array = node.keep_array
        rhs_node = node.rhs
        if rhs_node.type == "function":
            call = self._call(rhs_node)

            def apply_to(input: Any, env: Any) -> Any:
                return call(input, env, lhs(input, env))

        else:
            rhs = self.compile(rhs_node)
            is_function_like = engine.is_function_like

            def apply_to(input: Any, env: Any) -> Any:
                left = lhs(input, env)
                func = rhs(input, env)
                if not is_function_like(func) and not is_function_like(left):
                    raise JException("T2006", position, func)
                if is_function_like(left):
                    chain = engine.eval(Jsonata.chain_ast(), None, env)
                    return engine.apply(chain, [left, func], None, env)
                return engine.apply(func, [left], None, env)

        def chained(input: Any, env: Any) -> Any:
            try:
                result = apply_to(input, env)
            except JException as error:
                _located(error, position)
                raise
            if finish and result.__class__ is JList:
                return _mangle(result, keep_array)
            return result

        return chained


def _has_extras(node: Any) -> bool:
    return bool(
        node.predicate
        or node.stages
        or node.group is not None
        or node.keep_array
        or node.tuple is not None
        or node.focus is not None
        or node.index is not None
        or node.ancestor is not None
    )


_CLOCK_EVERY = 1024
"""A step or filter over a long sequence checks the clock every this many items."""


def _step(engine: Any, fn: Fn, filters: list[Callable[[Any, Any], Any]], last: bool) -> Fn:
    """``Jsonata.evaluate_step``: map one step over a sequence and flatten the results."""
    tick = engine._tick

    def filtered_step(sequence: Any, env: Any) -> Any:
        results = []
        for index, item in enumerate(sequence):
            if not index % _CLOCK_EVERY:
                tick()
            res = fn(item, env)
            for apply_filter in filters:
                res = apply_filter(res, env)
            if res is not None:
                results.append(res)
        return _flatten(results, last)

    if filters:
        return filtered_step

    def step(sequence: Any, env: Any) -> Any:
        if len(sequence) > _CLOCK_EVERY:
            return _flatten([res for res in _ticking(tick, fn, sequence, env)], last)
        out = JList()
        out.sequence = True
        count = 0
        first = None
        for item in sequence:
            res = fn(item, env)
            if res is None:
                continue
            count += 1
            if count == 1:
                first = res
            if res.__class__ is JList:
                if res.cons:
                    out.append(res)
                else:
                    out.extend(res)
            elif isinstance(res, list):
                out.extend(res)
            else:
                out.append(res)
        if last and count == 1 and _is_array(first):
            return first
        return out

    return step


def _ticking(tick: Callable[[], None], fn: Fn, sequence: Any, env: Any) -> Any:
    for index, item in enumerate(sequence):
        if not index % _CLOCK_EVERY:
            tick()
        res = fn(item, env)
        if res is not None:
            yield res


def _is_array(value: Any) -> bool:
    """A list that is not a sequence (the last step keeps such a lone result as it is)."""
    if value.__class__ is JList:
        return not value.sequence
    return isinstance(value, list)


def _flatten(results: list[Any], last: bool) -> Any:
    if last and len(results) == 1 and _is_array(results[0]):
        return results[0]
    out = _sequence()
    for res in results:
        if not isinstance(res, list) or (isinstance(res, JList) and res.cons):
            out.append(res)
        else:
            out.extend(res)
    return out


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_Builder = Callable[[Compiler, Any, bool], "Fn | None"]
_BUILDERS: dict[str, _Builder] = {
    "path": Compiler._path,
    "name": Compiler._name,
    "string": Compiler._literal,
    "number": Compiler._literal,
    "value": Compiler._literal,
    "regex": Compiler._regex,
    "variable": Compiler._variable,
    "binary": Compiler._binary,
    "unary": Compiler._unary,
    "condition": Compiler._condition,
    "block": Compiler._block,
    "bind": Compiler._bind,
    "wildcard": Compiler._wildcard,
    "descendant": Compiler._descendant,
    "lambda": Compiler._lambda,
    "function": Compiler._function,
    "apply": Compiler._apply_node,
}
