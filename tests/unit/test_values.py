"""``values.frozen`` builds values a frozen dataclass would build, and ``values.evolve`` copies
them as ``dataclasses.replace`` would."""

from __future__ import annotations

import dataclasses
from dataclasses import field

import pytest

from hotline.engine import values


@values.frozen
class Sample:
    name: str
    count: int = 3
    tags: list[str] = field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Plain:
    name: str
    count: int = 3
    tags: list[str] = field(default_factory=list)


def test_a_frozen_value_is_built_as_a_frozen_dataclass_would_be():
    for args, kwargs in [(("a",), {}), (("a", 5), {}), (("a",), {"tags": ["x"]})]:
        built, plain = Sample(*args, **kwargs), Plain(*args, **kwargs)
        assert dataclasses.astuple(built) == dataclasses.astuple(plain)
        assert repr(built) == repr(plain).replace("Plain", "Sample")
    assert Sample("a") == Sample("a", 3, [])
    assert hash(Sample("a", 1, ())) == hash(Sample("a", 1, ()))  # type: ignore[arg-type]
    assert Sample("a").tags is not Sample("a").tags  # a factory's value for each
    assert [f.name for f in dataclasses.fields(Sample)] == ["name", "count", "tags"]


def test_a_frozen_value_refuses_what_a_dataclass_refuses():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Sample("a").name = "b"  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        Sample()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        Sample("a", colour="red")  # type: ignore[call-arg]


def test_evolve_copies_with_changes_and_refuses_unknown_fields():
    original = Sample("a", 1, ["x"])
    changed = values.evolve(original, count=2)
    assert changed == dataclasses.replace(original, count=2) and original.count == 1
    with pytest.raises(TypeError, match="Sample has no field colour"):
        values.evolve(original, colour="red")


def test_a_value_with_a_post_init_is_refused():
    with pytest.raises(TypeError, match="__post_init__"):

        @values.frozen
        class Checked:
            name: str

            def __post_init__(self) -> None:
                pass
