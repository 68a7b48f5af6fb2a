"""The JSONata evaluator splice runs: jsonata-python with exact money and per-call limits.

jsonata-python computes in binary floats, so ``0.1 + 0.2`` gives ``0.30000000000000004``.
:class:`SpliceJsonata` overrides, on its own instances only (no global patching):

- ``+ - *`` between numbers: integers stay integers; otherwise both sides are read as the
  decimal they print as (``Decimal(repr(x))``), computed exactly, and the nearest float to
  the exact result is returned (its shortest ``repr`` is then the exact decimal);
- ``$sum`` and ``$average`` the same way (``$round`` already rounds decimals, half to even);
- error positions: an error raised without a position gets the position of the innermost
  expression that raised it;
- speed: the expression is compiled once into Python closures (``_compiler.py``) that
  compute what the interpreter computes; nodes the compiler leaves alone are interpreted;
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

from splice.mapping._compiler import Compiler, Fn

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


def exact_operation(op: str) -> Callable[[int | float, int | float], int | float]:
    """:func:`exact_add` for one ``op``, inlined: the compiled ``+ - *`` call it per value."""
    int_op = _INT_OPS[op]
    float_op = _FLOAT_OPS[op]
    decimal_op = _DECIMAL_OPS[op]
    to_decimal = decimal.Decimal
    safe = _SAFE_INTEGER
    float_max = _FLOAT_MAX

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

    return operation


def exact_sum(values: Sequence[int | float]) -> int | float:
    if all(isinstance(v, int) for v in values):
        return _nearest(sum(int(v) for v in values))
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
        if compiled:
            compiler = Compiler(self, exact_operation)
            self._root = compiler.compile(self.ast)
            self.fallbacks = tuple(compiler.fallbacks)

    def run(self, data: Any, bindings: Mapping[str, Any]) -> Any:
        """Evaluate once; ``None`` is undefined, ``Utils.NULL_VALUE`` is JSON null."""
        with self._lock:
            Jsonata.CURRENT.jsonata = self
            base = self.environment = self._base_environment
            frame = Jsonata.Frame(base)
            for name, value in bindings.items():
                frame.bind(name, value)
            root = self._root
            if root is None:
                return self._interpreted(data, frame)
            # what Jsonata.evaluate does before evaluating
            if self.errors is not None:
                raise JException("S0500", 0)
            frame.bind("$", data)
            self.timestamp = Timebox.current_milli_time()
            if isinstance(data, list) and not Utils.is_sequence(data):
                data = Utils.create_sequence(data)
                data.outer_wrapper = True
            if self.validate_input:
                validate_input(data)
            self._depth = 0
            if self._timeout_ms is not None:
                self._deadline = time.monotonic() + self._timeout_ms / 1000
            try:
                return root(data, frame)
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


def validate_input(value: Any) -> None:
    """``Functions.validate_input`` (only JSON types), faster on plain dicts and lists."""
    cls = value.__class__
    if cls is dict:
        for key, item in value.items():
            if key.__class__ is not str:
                Functions.validate_input(key)
            if item.__class__ not in _SCALARS:
                validate_input(item)
    elif cls is list or cls is _JList:
        for item in value:
            if item.__class__ not in _SCALARS:
                validate_input(item)
    elif cls not in _SCALARS:
        Functions.validate_input(value)


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
