"""The JSONata evaluator splice runs: jsonata-python with exact money and per-call limits.

jsonata-python computes in binary floats, so ``0.1 + 0.2`` gives ``0.30000000000000004``.
:class:`SpliceJsonata` overrides, on its own instances only (no global patching):

- ``+ - *`` between numbers: integers stay integers; otherwise both sides are read as the
  decimal they print as (``Decimal(repr(x))``), computed exactly, and the nearest float to
  the exact result is returned (its shortest ``repr`` is then the exact decimal); computed
  on integers (``units / 10**places``) when that is exact, on ``Decimal`` otherwise;
- ``$sum`` and ``$average`` the same way (``$round`` already rounds decimals, half to even);
- error positions: an error raised without a position gets the position of the innermost
  expression that raised it;
- speed: the expression is compiled once into Python closures (``_compiler.py``) that
  compute what the interpreter computes; nodes the compiler leaves alone are interpreted;
  the common nodes are then inlined into one generated function (``_codegen.py``) that
  calls the closures on any other shape of data; the result is walked for JSONata's null
  only when it may hold one;
- runaway protection: every function call and lambda application counts one level of
  depth (``max_depth``, then ``D1011``) and checks the clock (``timeout``, then ``D1012``);
  interpreted nodes check the clock too. (The interpreter alone, ``compiled=False``, uses
  jsonata-python's ``Timebox``, which counts every node.)

jsonata-python keeps "the instance being evaluated" in a thread-local
(``Jsonata.CURRENT``) that every constructor overwrites; :meth:`run` points it back at
this instance, so ``$now()``, ``$millis()`` and ``$eval`` see the right one.
"""

from __future__ import annotations

import decimal
import math
import operator
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jsonata import Functions, JException, Jsonata, Timebox, Utils
from jsonata.parser import Parser

from splice.mapping._codegen import generate
from splice.mapping._compiler import Compiler, Fn, _native_result

__all__ = [
    "MoneyFunctions",
    "SpliceJsonata",
    "convert_nulls",
    "exact_add",
    "exact_operation",
    "exact_sum",
]

_EXACT = decimal.Context(prec=80, traps=[decimal.InvalidOperation])
_FLOAT_MAX = decimal.Decimal(sys.float_info.max)
_INT_MAX = int(sys.float_info.max)
_SAFE_INTEGER = 2**53
"""Beyond this, JSONata integers are doubles: results are computed as JSONata-JS does."""
_INT_OPS: dict[str, Callable[[int, int], int]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}
_FLOAT_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}
_DECIMAL_OPS = {"+": _EXACT.add, "-": _EXACT.subtract, "*": _EXACT.multiply}


def _dec(value: int | float) -> decimal.Decimal:
    return decimal.Decimal(value) if isinstance(value, int) else decimal.Decimal(repr(value))


def _nearest(value: decimal.Decimal | int) -> int | float:
    """The JSONata number for an exact result: an int when whole, else the nearest float."""
    if isinstance(value, int):
        if abs(value) > _INT_MAX:
            raise JException("D1001", -1, str(value))
        return value
    if value.copy_abs() > _FLOAT_MAX:
        raise JException("D1001", -1, str(value))
    whole = value.to_integral_value()
    if whole == value:
        return int(whole)
    return float(value)


def _as_double(value: float) -> int | float:
    if not math.isfinite(value):
        raise JException("D1001", -1, value)
    result: int | float = Utils.convert_number(value)
    return result


def exact_add(lhs: int | float, rhs: int | float, op: str) -> int | float:
    """``lhs op rhs`` for ``op`` in ``+ - *``, exact on the decimals the operands print as."""
    if isinstance(lhs, int) and isinstance(rhs, int):
        result = _INT_OPS[op](lhs, rhs)
        if abs(result) <= _SAFE_INTEGER:
            return result
        return _as_double(_FLOAT_OPS[op](float(lhs), float(rhs)))
    return _nearest(_DECIMAL_OPS[op](_dec(lhs), _dec(rhs)))


_EXACT_DIGITS = 10**79
"""Below this many units, a ``Decimal`` result of ``_EXACT`` (80 digits) is not rounded."""
_POWERS: tuple[int, ...] = tuple(10**e for e in range(64))
_SCALED: dict[float, tuple[int, int]] = {}
""":func:`_scaled` of recently seen floats (prices repeat); cleared when it grows large."""
_SCALED_MAX = 4096


def _scaled(value: float) -> tuple[int, int] | None:
    """``value`` as ``(units, places)``: ``Decimal(repr(value)) == units / 10**places``.

    ``None`` when ``repr`` has an exponent (or is ``inf``/``nan``): use ``Decimal`` then.
    """
    found = _SCALED.get(value)
    if found is not None:
        return found
    text = repr(value)
    if "e" in text or "n" in text:
        return None
    found = (int(text.replace(".", "")), len(text) - text.index(".") - 1)
    if len(_SCALED) >= _SCALED_MAX:
        _SCALED.clear()
    _SCALED[value] = found
    return found


def _exact_result(units: int, places: int) -> int | float | None:
    """``_nearest(Decimal(units).scaleb(-places))`` when it is surely exact, else ``None``.

    Within 79 digits the decimal computation is exact, so the result is the integer when
    whole, else ``units / 10**places`` rounded once to the nearest float (Python's int
    division rounds correctly, as ``float(Decimal)`` does), far below ``D1001``'s limit.
    """
    if not -_EXACT_DIGITS < units < _EXACT_DIGITS or places >= len(_POWERS):
        return None
    scale = _POWERS[places]
    whole, rest = divmod(units, scale)
    if not rest:
        return whole
    return units / scale


def exact_operation(op: str) -> Callable[[int | float, int | float], int | float]:
    """:func:`exact_add` for one ``op``, inlined: the compiled ``+ - *`` call it per value.

    Numbers whose ``repr`` has no exponent are computed on integers (``units / 10**places``),
    which gives what the ``Decimal`` computation gives without its cost.
    """
    int_op = _INT_OPS[op]
    float_op = _FLOAT_OPS[op]
    decimal_op = _DECIMAL_OPS[op]
    to_decimal = decimal.Decimal
    safe = _SAFE_INTEGER
    float_max = _FLOAT_MAX
    multiply = op == "*"
    powers = _POWERS
    digits = _EXACT_DIGITS
    cache = _SCALED

    def operation(lhs: Any, rhs: Any) -> int | float:
        lcls = lhs.__class__
        rcls = rhs.__class__
        if lcls is int and rcls is int:
            result = int_op(lhs, rhs)
            if -safe <= result <= safe:
                return result
            return _as_double(float_op(float(lhs), float(rhs)))
        if lcls is not float and rcls is not float:  # int subclasses
            return exact_add(lhs, rhs, op)
        left = (cache.get(lhs) or _scaled(lhs)) if lcls is float else (lhs, 0)
        right = (cache.get(rhs) or _scaled(rhs)) if rcls is float else (rhs, 0)
        if left is not None and right is not None and (lcls is int or rcls is int or lcls is rcls):
            lunits, lplaces = left
            runits, rplaces = right
            if multiply:
                units = lunits * runits
                places = lplaces + rplaces
            elif lplaces == rplaces:
                units = int_op(lunits, runits)
                places = lplaces
            elif lplaces > rplaces:
                units = int_op(lunits, runits * powers[lplaces - rplaces])
                places = lplaces
            else:
                units = int_op(lunits * powers[rplaces - lplaces], runits)
                places = rplaces
            if -digits < units < digits and places < 64:
                scale = powers[places]
                whole, rest = divmod(units, scale)
                if not rest:
                    return whole
                return units / scale
        value = decimal_op(
            to_decimal(repr(lhs)) if lcls is float else to_decimal(lhs),
            to_decimal(repr(rhs)) if rcls is float else to_decimal(rhs),
        )
        if value.copy_abs() > float_max:
            raise JException("D1001", -1, str(value))
        whole = value.to_integral_value()
        if whole == value:
            return int(whole)
        return float(value)

    # what ``_codegen`` needs to inline the product of an int and a float seen before
    operation._splice_scaled = (cache, powers, digits)  # type: ignore[attr-defined]
    return operation


_SUM_INT = 10**50
"""Integers below this, at the places of any float, keep every partial sum of a
(memory-sized) array below 79 digits: ``_EXACT``'s Decimal sums of them are exact."""


def exact_sum(values: Sequence[int | float]) -> int | float:
    """``$sum`` on the decimals the numbers print as; integers when there are no floats."""
    result = _numbers_sum(values)
    if result is _SLOW or result is _NOT_NUMBERS:
        return _general_sum(values)
    return result  # type: ignore[no-any-return]


_SLOW = object()
_NOT_NUMBERS = object()


def _numbers_sum(values: Sequence[Any]) -> Any:
    """:func:`exact_sum` computed on integers; ``_NOT_NUMBERS`` as soon as a value is not
    an ``int`` or a ``float``, ``_SLOW`` when the Decimal computation is needed."""
    cache = _SCALED
    powers = _POWERS
    total = places = 0
    for value in values:
        cls = value.__class__
        if cls is float:
            parts = cache.get(value) or _scaled(value)
            if parts is None:
                return _SLOW
            more, more_places = parts
            if more_places > places:
                total *= powers[more_places - places]
                places = more_places
            elif more_places < places:
                more *= powers[places - more_places]
            total += more
        elif cls is int:
            if not -_SUM_INT < value < _SUM_INT:
                return _SLOW
            total += value * powers[places] if places else value
        else:
            return _NOT_NUMBERS
    if not places:  # no float (a float has at least one place: "2.0")
        return _nearest(total)
    result = _exact_result(total, places)
    return _SLOW if result is None else result


def _general_sum(values: Sequence[int | float]) -> int | float:
    if all(isinstance(v, int) for v in values):
        return _nearest(sum(int(v) for v in values))
    return _decimal_sum(values)


def _decimal_sum(values: Sequence[int | float]) -> int | float:
    total = decimal.Decimal(0)
    for value in values:
        total = _EXACT.add(total, _dec(value))
    return _nearest(total)


class MoneyFunctions(Functions):  # type: ignore[misc]
    """``$sum`` and ``$average`` computed on exact decimals."""

    @staticmethod
    def sum(args: Sequence[int | float] | None) -> int | float | None:
        if args is None:
            return None
        return exact_sum(args)

    @staticmethod
    def average(args: Sequence[int | float] | None) -> int | float | None:
        if not args:
            return None
        total = _dec(exact_sum(args))
        return _nearest(_EXACT.divide(total, decimal.Decimal(len(args))))


_OVERRIDES = (
    Jsonata.function("sum", "<a<n>:n>", MoneyFunctions, "sum"),
    Jsonata.function("average", "<a<n>:n>", MoneyFunctions, "average"),
)
_NUMBER_TYPES = frozenset({int, float})
_NOT_HANDLED = Utils.NONE


def _fast_sum(args: list[Any]) -> Any:
    """``$sum(array)`` of an array of numbers: what its signature check would let through."""
    if len(args) == 1:
        values = args[0]
        cls = values.__class__
        if cls is list or cls is Utils.JList:
            result = _numbers_sum(values)
            if result is _NOT_NUMBERS:
                return _NOT_HANDLED
            if result is _SLOW:
                if not _NUMBER_TYPES.issuperset(map(type, values)):
                    return _NOT_HANDLED
                result = _general_sum(values)
            # _native_result leaves a float as it is (exact_sum's floats are finite, not whole)
            return result if result.__class__ is float else _native_result(result)
    return _NOT_HANDLED


_FAST_NATIVES: dict[Any, Callable[[list[Any]], Any]] = {_OVERRIDES[0]: _fast_sum}


class SpliceJsonata(Jsonata):  # type: ignore[misc]
    """A compiled JSONata expression with splice's arithmetic, functions and limits."""

    environment: Any
    input: Any

    def __init__(
        self,
        expression: str,
        *,
        functions: Mapping[str, Any],
        timeout_ms: int | None,
        max_depth: int | None,
        compiled: bool = True,
        generated: bool = True,
    ) -> None:
        super().__init__(expression)
        self._timeout_ms = timeout_ms
        self._max_depth = max_depth
        self._depth_limit = sys.maxsize if max_depth is None else max_depth
        self._depth = 0
        self._deadline: float | None = None
        self._lock = threading.Lock()
        self.set_output_convert_nulls(False)
        for function in _OVERRIDES:
            self.environment.bind(function.function_name, function)
        for name, function in functions.items():
            self.environment.bind(name, function)
        # ``self.environment`` is also the interpreter's "current environment" while it runs
        self._base_environment = self.environment
        self.compiled = compiled
        self.fallbacks: tuple[str, ...] = ()
        """The nodes the compiler left to the interpreter (``"sort at 12"``)."""
        self._root: Fn | None = None
        self._generated_root: Callable[[Any, Any, bool], tuple[Any, bool]] | None = None
        self.generated: str | None = None
        """The Python source generated for the expression (``_codegen``), if any."""
        if compiled:
            compiler = Compiler(self, exact_operation, _FAST_NATIVES)
            self._root = compiler.compile(self.ast)
            self.fallbacks = tuple(compiler.fallbacks)
            code = generate(self.ast) if generated else None
            if code is not None:
                self._generated_root, self.generated = code

    def run(self, data: Any, bindings: Mapping[str, Any]) -> Any:
        """Evaluate once; ``None`` is undefined, ``Utils.NULL_VALUE`` is JSON null."""
        return self.run_json(data, bindings)[0]

    def run_json(
        self, data: Any, bindings: Mapping[str, Any], *, plain: bool = False
    ) -> tuple[Any, bool]:
        """:meth:`run`, and whether the result may hold ``Utils.NULL_VALUE``.

        When that is ``False``, :func:`convert_nulls` would not change the result.
        ``plain``: the caller vouches that ``data`` holds only dicts, lists, str, int,
        float, bool and None (``Utils.NULL_VALUE`` at the top at most): the compiled
        evaluation then skips the walk that checks it.
        """
        with self._lock:
            Jsonata.CURRENT.jsonata = self
            base = self.environment = self._base_environment
            frame = Jsonata.Frame(base)
            for name, value in bindings.items():
                frame.bind(name, value)
            root = self._root
            if root is None:
                return self._interpreted(data, frame), True
            # what Jsonata.evaluate does before evaluating
            if self.errors is not None:
                raise JException("S0500", 0)
            if data.__class__ is dict:
                frame.bindings["$"] = data  # what bind does for a value without a signature
            else:
                frame.bind("$", data)
            self.timestamp = round(time.time() * 1000)  # Timebox.current_milli_time()
            if isinstance(data, list) and not Utils.is_sequence(data):
                data = Utils.create_sequence(data)
                data.outer_wrapper = True
            if plain:
                has_null = data is _NULL
            else:
                has_null = validate_input(data) if self.validate_input else True
            self._depth = 0
            if self._timeout_ms is not None:
                self._deadline = time.monotonic() + self._timeout_ms / 1000
            try:
                generated = self._generated_root
                if generated is not None:
                    result: tuple[Any, bool] = generated(data, frame, has_null)
                    return result
                return root(data, frame), True
            finally:
                self.environment = base

    def _interpreted(self, data: Any, frame: Any) -> Any:
        # jsonata-python's Timebox starts its clock when it is created: a fresh one each time
        if self._timeout_ms is not None or self._max_depth is not None:
            Timebox(frame, self._timeout_ms, self._max_depth)
        return self.evaluate(data, frame)

    def _enter(self) -> None:
        """One level deeper (a function call): check the depth and the clock."""
        depth = self._depth + 1
        if depth > self._depth_limit:
            raise JException("D1011", -1)
        deadline = self._deadline
        if deadline is not None and time.monotonic() > deadline:
            raise JException("D1012", -1, self._timeout_ms)
        self._depth = depth

    def _tick(self) -> None:
        """Check the clock (long loops)."""
        deadline = self._deadline
        if deadline is not None and time.monotonic() > deadline:
            raise JException("D1012", -1, self._timeout_ms)

    def _eval(self, expr: Any, input: Any, environment: Any) -> Any:
        compiled: Fn | None = getattr(expr, "_splice_fn", None)
        if compiled is not None:
            return compiled(input, environment)
        return self._interpret(expr, input, environment)

    def _interpret(self, expr: Any, input: Any, environment: Any) -> Any:
        """jsonata-python's evaluation of ``expr`` itself (its children may be compiled)."""
        deadline = self._deadline
        if deadline is not None and time.monotonic() > deadline:
            raise JException("D1012", getattr(expr, "position", -1), self._timeout_ms)
        try:
            return super()._eval(expr, input, environment)
        except JException as err:
            if err.location is None or err.location < 0:
                err.location = getattr(expr, "position", -1)
            raise

    def apply_procedure(self, proc: Any, args: Any) -> Any:
        """A lambda call: one level deeper; the compiled body when there is one."""
        if not self.compiled:
            return super().apply_procedure(proc, args)
        self._enter()
        saved_input, saved_environment = self.input, self.environment
        try:
            env = Jsonata.Frame(proc.environment)
            count = len(args)
            for index, argument in enumerate(proc.arguments):
                if index >= count:
                    break
                env.bind(str(argument.value), args[index])
            body = proc.body
            compiled: Fn | None = getattr(body, "_splice_fn", None)
            if compiled is not None:
                return compiled(proc.input, env)
            if isinstance(body, Parser.Symbol):
                return self.eval(body, proc.input, env)
            raise RuntimeError(f"Cannot execute procedure: {proc} {body}")
        finally:
            self._depth -= 1
            self.input, self.environment = saved_input, saved_environment

    def evaluate_numeric_expression(self, lhs: Any, rhs: Any, op: str | None) -> Any:
        if op not in _INT_OPS or lhs is None or rhs is None:
            return super().evaluate_numeric_expression(lhs, rhs, op)
        if not Utils.is_numeric(lhs):
            raise JException("T2001", -1, op, lhs)
        if not Utils.is_numeric(rhs):
            raise JException("T2002", -1, op, rhs)
        return exact_add(lhs, rhs, op)


_SCALARS = frozenset({str, int, float, bool, type(None)})
_JList = Utils.JList
_NULL = Utils.NULL_VALUE


def validate_input(value: Any) -> bool:
    """``Functions.validate_input`` (only JSON types), faster on plain dicts and lists.

    Returns whether ``value`` holds JSONata's null (``Utils.NULL_VALUE``) anywhere.
    """
    cls = value.__class__
    found = False
    if cls is dict:
        for key, item in value.items():
            if key.__class__ is not str:
                Functions.validate_input(key)
            if item.__class__ not in _SCALARS:
                found = validate_input(item) or found
    elif cls is list or cls is _JList:
        for item in value:
            item_cls = item.__class__
            if item_cls is dict:  # arrays of objects: the object's loop inlined
                for key, sub in item.items():
                    if key.__class__ is not str:
                        Functions.validate_input(key)
                    if sub.__class__ not in _SCALARS:
                        found = validate_input(sub) or found
            elif item_cls not in _SCALARS:
                found = validate_input(item) or found
    elif cls not in _SCALARS:
        if value is _NULL:
            return True
        Functions.validate_input(value)
    return found


def convert_nulls(value: Any) -> Any:
    """``Utils.convert_nulls``: JSONata's null (``Utils.NULL_VALUE``) becomes ``None``."""
    if value is _NULL:
        return None
    if isinstance(value, dict):
        _dict_nulls(value)
    elif isinstance(value, list):
        _list_nulls(value)
    return value


def _dict_nulls(value: dict[Any, Any]) -> None:
    for key, item in value.items():
        cls = item.__class__
        if cls in _SCALARS:
            continue
        if item is _NULL:
            value[key] = None
        elif cls is dict or isinstance(item, dict):
            _dict_nulls(item)
        elif isinstance(item, list):
            _list_nulls(item)


def _list_nulls(value: list[Any]) -> None:
    for index, item in enumerate(value):
        cls = item.__class__
        if cls in _SCALARS:
            continue
        if item is _NULL:
            value[index] = None
        elif cls is dict or isinstance(item, dict):
            _dict_nulls(item)
        elif isinstance(item, list):
            _list_nulls(item)


def native(name: str, signature: str, implementation: Callable[..., Any]) -> Any:
    """A JSONata function implemented in Python (``implementation(input, *args)``)."""

    class _Call:
        def call(self, input: Any, args: Sequence[Any] | None) -> Any:
            return implementation(input, *(args or ()))

    function = Jsonata.JFunction(_Call(), signature)
    function.function_name = name
    return function
