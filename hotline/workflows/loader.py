"""Parse a definition's YAML into a checked ``Definition``, naming the line of every problem."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hotline import handlers, workflows
from hotline.engine.checks import check
from hotline.engine.definition import Definition
from hotline.engine.machine import CompiledDefinition
from hotline.errors import DefinitionError, Problem
from hotline.workflows import calendars

Path_ = tuple[str | int, ...]
DEFAULT = workflows.DEFAULT
# libyaml's loader reads a definition ~10x faster (every CLI command compiles one); the
# pure-Python loader stays the reference for error messages and where libyaml is missing.
_FAST: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str, source: str = "<definition>") -> Definition:
    """The definition in ``text``; raise DefinitionError listing every problem with its line."""
    try:
        node, data = _load(text, _FAST)
    except yaml.YAMLError:
        node, data = None, None  # the pure-Python loader below words the error
    try:
        if node is None:
            node, data = _load(text, yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        # The context mark points at what was left open (a "[" never closed), the problem
        # mark at where the parser gave up, often a line later.
        mark = error.context_mark or error.problem_mark
        what = "; ".join(filter(None, (error.context, error.problem)))
        line = mark.line + 1 if mark else None
        raise DefinitionError([Problem(f"not valid YAML: {what}", (), line)], source) from None
    except yaml.YAMLError as error:  # unmarked: e.g. a control character the reader refuses
        raise DefinitionError([Problem(f"not valid YAML: {error}")], source) from None
    if not isinstance(data, dict):
        raise DefinitionError([Problem("a definition is a YAML mapping", (), 1)], source)
    lines = _lines(node)
    try:
        definition = Definition.model_validate(data)
    except ValidationError as error:
        problems = [_problem(e, lines) for e in error.errors()]
        raise DefinitionError(_unique(problems), source) from None
    problems = check(definition, handlers.names())
    if definition.calendar not in calendars.names():
        known = ", ".join(calendars.names())
        problems.append(
            Problem(f"unknown calendar {definition.calendar!r}; known: {known}", ("calendar",))
        )
    if problems:
        raise DefinitionError(_unique([_locate(p, lines) for p in problems]), source)
    return definition


def _load(text: str, loader: type[yaml.SafeLoader]) -> tuple[yaml.Node, Any]:
    """The node tree (for line numbers) and the data of ``text``."""
    return yaml.compose(text, Loader=loader), yaml.load(text, Loader=loader)  # noqa: S506


def compile_source(text: str, version: int, source: str = "<definition>") -> CompiledDefinition:
    """Parse, check and compile a definition with its business calendar."""
    definition = parse(text, source)
    return CompiledDefinition(definition, version, calendars.load(definition.calendar))


def load_file(path: str | Path) -> tuple[Definition, str]:
    """The checked definition in a file, and its text."""
    text = Path(path).read_text(encoding="utf-8")
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


def _lines(node: yaml.Node | None, path: Path_ = ()) -> dict[Path_, int]:
    """Map each path in the document (("transitions", 3, "dest")) to its 1-based line."""
    found: dict[Path_, int] = {}
    if node is None:
        return found
    found[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(_lines(value, (*path, key.value)))
            found[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.update(_lines(item, (*path, i)))
    return found


def _line_of(path: Path_, lines: dict[Path_, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _locate(problem: Problem, lines: dict[Path_, int]) -> Problem:
    return Problem(problem.message, problem.path, _line_of(problem.path, lines))


def _problem(error: Any, lines: dict[Path_, int]) -> Problem:
    path = tuple(error["loc"])
    where = ".".join(str(p) for p in path)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = f"unknown key {path[-1]!r}"
    return Problem(f"{where}: {message}", path, _line_of(path, lines))
