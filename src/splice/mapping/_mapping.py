"""Compile a JSONata expression once; evaluate it on every message.

A mapping sees the data, ``$headers`` (the message headers, when given), any user bindings
and the JSONata function library, plus ``$lookup(table, key)`` over the project's lookup
tables. It cannot reach environment variables, files or Python: the function library is
pinned (``tests/mapping/test_sandbox.py`` fails when jsonata-python adds a function).

Every failure is a :class:`~splice.errors.MappingError` whose ``code`` is the JSONata code
(``S0202``, ``T2001``, ``D1012`` ...), e.g. ``T2001 at position 5: The left side of the
"+" operator must evaluate to a number``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping as MappingABC
from typing import Any, Final

from jsonata import Functions, JException, Utils

from splice.errors import MappingError
from splice.mapping._engine import SpliceJsonata, convert_nulls, native
from splice.mapping._lookups import LookupTables

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_TIMEOUT", "UNDEFINED", "Mapping", "compile_mapping"]

DEFAULT_TIMEOUT = 5.0
"""Seconds one evaluation may run before it fails with ``D1012``."""
DEFAULT_MAX_DEPTH = 500
"""Nesting depth of one evaluation before it fails with ``D1011``."""


class _Undefined:
    """JSONata's *undefined*: no value at all (JSON ``null`` is Python ``None``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final[Any] = _Undefined()


class Mapping:
    """A compiled expression. Evaluations run one at a time (a lock guards the evaluator)."""

    __slots__ = ("_evaluator", "expression")

    def __init__(self, expression: str, evaluator: SpliceJsonata) -> None:
        self.expression = expression
        self._evaluator = evaluator

    def __repr__(self) -> str:
        return f"Mapping({self.expression!r})"

    @property
    def interpreted(self) -> tuple[str, ...]:
        """The parts of the expression left to jsonata-python's interpreter (``"sort at 7"``).

        Everything else is compiled to Python closures; the interpreted parts (sorting,
        ``@``/``#``/``%`` tuple streams, transforms, partial application) are slower.
        """
        return self._evaluator.fallbacks

    def evaluate(
        self,
        data: Any,
        *,
        headers: MappingABC[str, str] | None = None,
        bindings: dict[str, Any] | None = None,
        plain: bool = False,
    ) -> Any:
        """The result, or :data:`UNDEFINED`. ``data`` may be ``UNDEFINED`` (no input).

        ``plain=True`` is the caller's promise that ``data`` holds only JSON values as
        splice's codecs build them (dict, list, str, int, float, bool, None): the check
        that refuses anything else (a walk of the whole input) is skipped. The result is
        the same for such data; other data is then not refused.
        """
        variables = dict(bindings) if bindings else {}
        if headers is not None:
            variables["headers"] = dict(headers)
        source = None if data is UNDEFINED else Utils.NULL_VALUE if data is None else data
        try:
            result, may_hold_null = self._evaluator.run_json(source, variables, plain=plain)
        except MappingError as exc:
            exc.expression = self.expression
            raise
        except Exception as exc:
            raise _translate(exc, self.expression) from exc
        if result is None:
            return UNDEFINED
        return convert_nulls(result) if may_hold_null else result


def compile_mapping(
    expression: str,
    *,
    lookups: LookupTables | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Mapping:
    """Compile ``expression`` (cached by expression, lookup tables and limits)."""
    return _compile(expression, lookups, timeout, max_depth, True, True)


def interpreted_mapping(
    expression: str,
    *,
    lookups: LookupTables | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Mapping:
    """``compile_mapping`` on jsonata-python's interpreter alone (the compiler's reference)."""
    return _compile(expression, lookups, timeout, max_depth, False, False)


def closure_mapping(
    expression: str,
    *,
    lookups: LookupTables | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Mapping:
    """``compile_mapping`` on the compiled closures alone, without the generated code
    (the reference of ``_codegen``'s fast path)."""
    return _compile(expression, lookups, timeout, max_depth, True, False)


@functools.lru_cache(maxsize=2048)
def _compile(
    expression: str,
    lookups: LookupTables | None,
    timeout: float,
    max_depth: int,
    compiled: bool,
    generated: bool,
) -> Mapping:
    functions = {"lookup": _lookup_function(lookups or LookupTables())}
    try:
        evaluator = SpliceJsonata(
            expression,
            functions=functions,
            timeout_ms=round(timeout * 1000),
            max_depth=max_depth,
            compiled=compiled,
            generated=generated,
        )
    except Exception as exc:
        raise _translate(exc, expression) from exc
    return Mapping(expression, evaluator)


def _lookup_function(tables: LookupTables) -> Any:
    """``$lookup(table, key)`` on a table name; JSONata's ``$lookup(object, key)`` otherwise."""

    def lookup(input: Any, target: Any, key: Any) -> Any:
        if isinstance(target, str):
            return tables.get(target, key)
        return Functions.lookup(target, key)

    return native("lookup", "<x-(sn):x>", lookup)


def _translate(exc: Exception, expression: str) -> MappingError:
    if isinstance(exc, JException):
        code = str(exc.error)
        position: int | None = exc.location if exc.location >= 0 else None
        where = f" at position {position}" if position is not None else ""
        return MappingError(
            f"{code}{where}: {exc}", code=code, expression=expression, position=position
        )
    if isinstance(exc, RecursionError):
        return MappingError(
            "D1011: Stack overflow. Check for non-terminating recursive function",
            code="D1011",
            expression=expression,
        )
    return MappingError(
        f"mapping failed: {type(exc).__name__}: {exc}", code="mapping", expression=expression
    )
