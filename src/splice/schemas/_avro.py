"""Avro compatibility: the schema resolution rules of the Avro specification.

A reader schema can read data written with a writer schema when (Avro 1.11, "Schema
Resolution"): the types match, or the writer's is promoted (int → long, float, double;
long → float, double; float → double; string ↔ bytes); records have the same name (or the
reader lists the writer's as an alias) and every reader field either is in the writer's
(by name or alias) or has a default; the writer's extra fields are ignored; every writer enum
symbol is in the reader's, or the reader has a default; fixed sizes are equal; arrays and
maps resolve their items and values; every branch of a writer union resolves against the
reader. BACKWARD runs the check with the new schema as reader, FORWARD as writer.
"""

from __future__ import annotations

from typing import Any

from splice.schemas._changes import Change

__all__ = ["avro_changes"]

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}
_NAMED = ("record", "error", "enum", "fixed")


def avro_changes(old: Any, new: Any) -> list[Change]:
    backward = _Resolution(reader=new, writer=old, new_is_reader=True).run()
    forward = _Resolution(reader=old, writer=new, new_is_reader=False).run()
    order = list(dict.fromkeys(text for text, _ in [*backward, *forward]))
    back = {text for text, error in backward if error}
    fwd = {text for text, error in forward if error}
    return [Change(text, text in back, text in fwd) for text in order]


def _collect(schema: Any, namespace: str, names: dict[str, dict[str, Any]]) -> None:
    if isinstance(schema, list):
        for branch in schema:
            _collect(branch, namespace, names)
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind in _NAMED:
        name = str(schema.get("name", ""))
        ns = str(schema.get("namespace", namespace)) if "." not in name else name.rpartition(".")[0]
        names[name if "." in name else f"{ns}.{name}".lstrip(".")] = schema
        names.setdefault(name.rpartition(".")[2], schema)
        namespace = ns
    for field in schema.get("fields", []) if kind in ("record", "error") else []:
        _collect(field.get("type"), namespace, names)
    for key in ("items", "values"):
        if key in schema:
            _collect(schema[key], namespace, names)
    if isinstance(kind, dict | list):
        _collect(kind, namespace, names)


class _Resolution:
    """One reader/writer check; ``found`` holds ``(text, is_error)`` phrased old → new."""

    def __init__(self, reader: Any, writer: Any, new_is_reader: bool) -> None:
        self.reader, self.writer, self.new_is_reader = reader, writer, new_is_reader
        self.reader_names: dict[str, dict[str, Any]] = {}
        self.writer_names: dict[str, dict[str, Any]] = {}
        _collect(reader, "", self.reader_names)
        _collect(writer, "", self.writer_names)
        self.found: list[tuple[str, bool]] = []
        self._seen: set[tuple[int, int]] = set()

    def run(self) -> list[tuple[str, bool]]:
        self.check(self.reader, self.writer, "")
        return self.found

    # -- helpers -------------------------------------------------------------------------

    def _norm(self, schema: Any, names: dict[str, dict[str, Any]]) -> Any:
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return {"type": schema}
            return names.get(schema, names.get(schema.rpartition(".")[2], {"type": schema}))
        if isinstance(schema, dict) and isinstance(schema.get("type"), dict | list):
            return self._norm(schema["type"], names)
        if isinstance(schema, dict) and schema.get("type") in PRIMITIVES:
            return {"type": schema["type"]}
        return schema

    def _name(self, schema: Any) -> str:
        if isinstance(schema, list):
            return "|".join(self._name(b) for b in schema)
        if isinstance(schema, dict):
            kind = schema.get("type")
            if kind in _NAMED:
                return str(schema.get("name", kind)).rpartition(".")[2]
            return str(kind)
        return str(schema)

    def _report(self, text: str, error: bool) -> None:
        self.found.append((text, error))

    def _type_changed(self, reader: Any, writer: Any, path: str) -> None:
        old, new = (writer, reader) if self.new_is_reader else (reader, writer)
        label = path or "(root)"
        self._report(f"type of '{label}' changed from {self._name(old)} to {self._name(new)}", True)

    # -- the rules -----------------------------------------------------------------------

    def matches(self, reader: Any, writer: Any) -> bool:
        probe = _Resolution.__new__(_Resolution)
        probe.__dict__.update(self.__dict__)
        probe.found, probe._seen = [], set(self._seen)
        probe.check(reader, writer, "")
        return not any(error for _, error in probe.found)

    def check(self, reader: Any, writer: Any, path: str) -> None:
        r = self._norm(reader, self.reader_names)
        w = self._norm(writer, self.writer_names)
        if isinstance(w, list):
            for branch in w:
                if not self._readable(r, branch):
                    self._type_changed(r, w, path)
                    return
            if isinstance(r, list):
                return
            for branch in w:  # one reader type: descend into the matching branches
                self.check(r, branch, path)
            return
        if isinstance(r, list):
            if not self._readable(r, w):
                self._type_changed(r, w, path)
            else:
                same = [b for b in r if self._same_kind(self._norm(b, self.reader_names), w)]
                if same:
                    self.check(same[0], w, path)
            return
        self._check_single(r, w, path)

    def _readable(self, reader: Any, writer_branch: Any) -> bool:
        branches = reader if isinstance(reader, list) else [reader]
        return any(self.matches(b, writer_branch) for b in branches)

    def _same_kind(self, r: Any, w: Any) -> bool:
        w = self._norm(w, self.writer_names)
        return isinstance(r, dict) and isinstance(w, dict) and r.get("type") == w.get("type")

    def _check_single(self, r: dict[str, Any], w: dict[str, Any], path: str) -> None:
        rk, wk = r.get("type"), w.get("type")
        if rk == wk and rk in PRIMITIVES:
            return
        if wk in _PROMOTIONS and rk in _PROMOTIONS[str(wk)]:
            before, after = (wk, rk) if self.new_is_reader else (rk, wk)
            self._report(f"type of '{path or '(root)'}' changed from {before} to {after}", False)
            return
        if rk != wk and not ({rk, wk} <= {"record", "error"}):
            self._type_changed(r, w, path)
            return
        if rk in ("record", "error"):
            self._check_record(r, w, path)
        elif rk == "enum":
            self._check_enum(r, w, path)
        elif rk == "fixed":
            if r.get("size") != w.get("size") or not self._names_match(r, w):
                self._type_changed(r, w, path)
        elif rk == "array":
            self.check(r.get("items"), w.get("items"), f"{path}[]")
        elif rk == "map":
            self.check(r.get("values"), w.get("values"), f"{path}{{}}")

    def _names_match(self, r: dict[str, Any], w: dict[str, Any]) -> bool:
        short = str(w.get("name", "")).rpartition(".")[2]
        aliases = {str(a).rpartition(".")[2] for a in r.get("aliases", [])}
        return short == str(r.get("name", "")).rpartition(".")[2] or short in aliases

    def _check_record(self, r: dict[str, Any], w: dict[str, Any], path: str) -> None:
        key = (id(r), id(w))
        if key in self._seen:
            return
        self._seen.add(key)
        if not self._names_match(r, w):
            self._type_changed(r, w, path)
            return
        prefix = f"{path}." if path else ""
        writer_fields = {str(f["name"]): f for f in w.get("fields", [])}
        used: set[str] = set()
        for field in r.get("fields", []):
            name = str(field["name"])
            candidates = [name, *[str(a) for a in field.get("aliases", [])]]
            match = next((writer_fields[c] for c in candidates if c in writer_fields), None)
            if match is not None:
                used.add(str(match["name"]))
                self.check(field.get("type"), match.get("type"), f"{prefix}{name}")
            else:
                self._missing_in_writer(field, f"{prefix}{name}")
        for name, field in writer_fields.items():
            if name not in used:
                self._extra_in_writer(field, f"{prefix}{name}")

    def _missing_in_writer(self, reader_field: dict[str, Any], path: str) -> None:
        has_default = "default" in reader_field
        if self.new_is_reader:
            text = f"field '{path}' added" + ("" if has_default else " without a default")
        else:
            text = f"field '{path}' removed"
        self._report(text, not has_default)

    def _extra_in_writer(self, writer_field: dict[str, Any], path: str) -> None:
        if self.new_is_reader:
            self._report(f"field '{path}' removed", False)
        else:
            has_default = "default" in writer_field
            self._report(
                f"field '{path}' added" + ("" if has_default else " without a default"), False
            )

    def _check_enum(self, r: dict[str, Any], w: dict[str, Any], path: str) -> None:
        if not self._names_match(r, w):
            self._type_changed(r, w, path)
            return
        missing = [s for s in w.get("symbols", []) if s not in r.get("symbols", [])]
        if missing:
            verb = "lost" if self.new_is_reader else "gained"
            text = f"enum '{path or '(root)'}' {verb} {', '.join(map(str, missing))}"
            self._report(text, "default" not in r)
