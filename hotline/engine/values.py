"""``@values.frozen``: a frozen dataclass that is built three times faster; ``evolve``: a copy
of one with some fields changed, ten times faster than ``dataclasses.replace``.

The ``__init__`` that ``dataclass(frozen=True)`` writes sets each field through
``object.__setattr__`` (its own ``__setattr__`` refuses), one call per field: building the
engine's values (events, deadlines, decisions) was a sixth of a what-if replay. The
``__init__`` written here takes the same arguments and fills the instance's dict in one
assignment. Everything else (equality, hashing, repr, ``dataclasses.fields`` and ``replace``,
refusing assignment) is the dataclass's own.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, dataclass_transform

C = TypeVar("C", bound=type)
V = TypeVar("V")
_NO_VALUE = object()  # an argument left out whose default comes from a factory


@dataclass_transform(frozen_default=True)  # type checkers see the dataclass
def frozen(cls: C) -> C:
    """``cls`` as a frozen dataclass with a faster ``__init__`` (see the module docstring)."""
    cls = dataclasses.dataclass(frozen=True)(cls)
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: @values.frozen does not run __post_init__")
    fields = dataclasses.fields(cls)
    scope: dict[str, Any] = {"_set": object.__setattr__, "_NO_VALUE": _NO_VALUE}
    params, entries = ["self"], []
    for f in fields:
        if f.kw_only or not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: @values.frozen takes plain fields only")
        given = f.name
        if f.default is not dataclasses.MISSING:
            scope[f"_default_{f.name}"] = f.default
            given = f"{f.name}=_default_{f.name}"
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"_factory_{f.name}"] = f.default_factory
            given = f"{f.name}=_NO_VALUE"
        params.append(given)
        entries.append(_entry(f))
    source = (
        f"def __init__({', '.join(params)}):\n"
        f"    _set(self, '__dict__', {{{', '.join(entries)}}})\n"
    )
    exec(source, scope)  # as ``dataclasses`` itself writes ``__init__``
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    return cls


def _entry(f: dataclasses.Field[Any]) -> str:
    """The dict entry of field ``f``: its argument, or its factory's value if left out."""
    if f.default_factory is dataclasses.MISSING:
        return f"{f.name!r}: {f.name}"
    return f"{f.name!r}: _factory_{f.name}() if {f.name} is _NO_VALUE else {f.name}"


_new, _set = object.__new__, object.__setattr__  # looked up once: ``evolve`` runs for every copy


def evolve(value: V, **changes: Any) -> V:
    """``value`` with ``changes``, as ``dataclasses.replace`` makes it but without running
    ``__init__`` again: the engine copies a ticket and its deadlines several times per command.
    Unknown names are refused, as by ``replace`` (a name that is no field adds a key: the
    copy would hold more than the value)."""
    held = value.__dict__
    values = held | changes
    if len(values) != len(held):
        names = {f.name for f in dataclasses.fields(value)}  # type: ignore[arg-type]
        unknown = ", ".join(sorted(changes.keys() - names))
        raise TypeError(f"{type(value).__name__} has no field {unknown}")
    copied = _new(value.__class__)
    _set(copied, "__dict__", values)  # frozen: its __setattr__ refuses
    return copied
