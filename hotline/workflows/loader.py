"""Parse a definition's YAML into a checked ``Definition``, naming the line of every problem."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hotline import handlers, workflows
from hotline.engine import checks
from hotline.engine.checks import check
from hotline.engine.definition import Definition
from hotline.engine.machine import CompiledDefinition
from hotline.errors import DefinitionError, Problem
from hotline.workflows import calendars, reading

DEFAULT = workflows.DEFAULT


@contextlib.contextmanager
def _without_gc() -> Iterator[None]:
    """Pause the cycle collector: parsing allocates hundreds of thousands of long-lived objects,
    and the full collections they trigger make a large definition take twice as long."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(text: str | bytes, source: str = "<definition>") -> Definition:
    """The definition in ``text``; raise DefinitionError listing every problem with its line.

    Bytes are decoded as UTF-8 first. Schema problems and the semantic problems that can
    still be judged (on the parts that passed the schema) are reported together.
    """
    with _without_gc():
        return _parse(text, source)


def _parse(text: str | bytes, source: str) -> Definition:
    if isinstance(text, bytes):
        text = reading.decode(text, source)
    data, lines, repeated = reading.compose(text, source)
    if not isinstance(data, dict):
        raise DefinitionError([*repeated, Problem("a definition is a YAML mapping", (), 1)], source)
    try:
        definition = Definition.model_validate(data)
    except ValidationError as error:
        problems = [_problem(e, lines) for e in error.errors()]
        later = _local_problems(data, error)
        found = [*repeated, *problems, *(_locate(p, lines) for p in later)]
        raise DefinitionError(_unique(found), source) from None
    problems = check(definition, handlers.names())
    if definition.calendar not in calendars.names():
        known = ", ".join(calendars.names())
        problems.append(
            Problem(f"unknown calendar {definition.calendar!r}; known: {known}", ("calendar",))
        )
    if problems or repeated:
        found = [*repeated, *(_locate(p, lines) for p in problems)]
        raise DefinitionError(_unique(found), source)
    return definition


def _local_problems(data: dict[str, Any], error: ValidationError) -> list[Problem]:
    """The checks that do not need the whole definition, run on it without the list items the
    schema refused (a state, a transition…); paths point back into the original lists."""
    bad: dict[str, set[int]] = {}
    for e in error.errors():
        loc = e["loc"]
        if len(loc) < 2 or not isinstance(loc[1], int) or not isinstance(data.get(loc[0]), list):
            return []  # a refused setting, not a list item: nothing sound is left to check
        bad.setdefault(str(loc[0]), set()).add(loc[1])
    kept = {key: [i for i in range(len(data[key])) if i not in gone] for key, gone in bad.items()}
    pruned = data | {key: [data[key][i] for i in indexes] for key, indexes in kept.items()}
    try:
        partial = Definition.model_validate(pruned)
    except ValidationError:
        return []
    return [_original(p, kept) for p in checks.check_local(partial, handlers.names())]


def _original(problem: Problem, kept: dict[str, list[int]]) -> Problem:
    path = problem.path
    if len(path) > 1 and path[0] in kept and isinstance(path[1], int):
        path = (path[0], kept[str(path[0])][path[1]], *path[2:])
    return Problem(problem.message, path, problem.line)


def compile_source(text: str, version: int, source: str = "<definition>") -> CompiledDefinition:
    """Parse, check and compile a definition with its business calendar."""
    definition = parse(text, source)
    with _without_gc():
        return CompiledDefinition(definition, version, calendars.load(definition.calendar))


def read_file(path: str | Path) -> str:
    """A definition file's text: refused (DefinitionError) if over the size limit or not UTF-8,
    the size checked before the file is read."""
    path = Path(path)
    reading.require_size(path.stat().st_size, str(path))
    return reading.decode(path.read_bytes(), str(path))


def load_file(path: str | Path) -> tuple[Definition, str]:
    """The checked definition in a file, and its text."""
    text = read_file(path)
    return parse(text, str(path)), text


def shipped_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml")
        for p in resources.files(__package__).iterdir()
        if p.name.endswith(".yaml")
    )


def shipped_text(name: str = DEFAULT) -> str:
    return resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")


def _unique(problems: list[Problem]) -> list[Problem]:
    """One problem per line and message: a mistake in a YAML anchor shows once, not per alias."""
    return list({(p.line, p.message): p for p in problems}.values())


def _locate(problem: Problem, lines: reading.Lines) -> Problem:
    return Problem(problem.message, problem.path, lines.line(problem.path))


def _problem(error: Any, lines: reading.Lines) -> Problem:
    path = tuple(error["loc"])
    where = ".".join(str(p) for p in path)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = f"unknown key {path[-1]!r}"
    return Problem(f"{where}: {message}", path, lines.line(path))
