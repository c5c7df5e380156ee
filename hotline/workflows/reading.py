"""Reading a definition's text safely: size, encoding, and a YAML tree of bounded cost.

An admin's file (or an API draft) may be anything: Latin-1 or UTF-16, megabytes long, nested
thousands deep, or an alias bomb (a few hundred bytes whose aliases expand to millions of
nodes). Each is refused here with a problem naming what is wrong, before any work grows with it.
The tree is composed once, checked for repeated keys, mapped to lines, then constructed.
"""

from __future__ import annotations

from typing import Any

import yaml
import yaml.cyaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from hotline.errors import DefinitionError, Problem

MAX_BYTES = 2_000_000  # a definition of 20,000 compact transitions fits in about 1 MB
MAX_DEPTH = 64  # the shipped definitions nest 7 deep
MAX_ALIASES = 1_000  # the shipped definitions use a handful
MAX_NODES = 500_000  # nodes with every alias expanded (20,000 transitions: about 200,000)

Path_ = tuple[str | int, ...]
MERGE = "<<"


class TooBig(yaml.YAMLError):
    """The tree grows beyond one of the limits; ``mark`` says where."""

    def __init__(self, message: str, mark: yaml.Mark | None) -> None:
        super().__init__(message)
        self.message, self.mark = message, mark


class _NotYaml(DefinitionError):
    """The parser refused the text (as opposed to a limit refusing it)."""


class _Bounded:
    """A composer that refuses deep nesting and too many aliases.

    The composer recurses once per level of nesting, so an unbounded depth would end in a
    RecursionError; aliases are shared nodes, cheap here but expanded by every later walk.
    """

    _depth = 0
    _aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise TooBig(f"more than {MAX_ALIASES} aliases (*name)", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise TooBig(f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1


class _Careful(_Bounded, yaml.SafeLoader):
    """PyYAML's own parser: slower, with the clearer error messages."""


if yaml.__with_libyaml__:

    class _Fast(_Bounded, Composer, yaml.cyaml.CParser, SafeConstructor, Resolver):
        """libyaml's parser (three times faster) under PyYAML's composer, so the bounds hold."""

        def __init__(self, text: str) -> None:
            yaml.cyaml.CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    LOADERS: tuple[type, ...] = (_Fast, _Careful)
else:  # pragma: no cover - PyYAML built without libyaml
    LOADERS = (_Careful,)


def decode(raw: bytes, source: str) -> str:
    """The text of a definition file: at most MAX_BYTES of UTF-8 (a BOM is allowed)."""
    require_size(len(raw), source)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _error("the file is UTF-16; save it as UTF-8", 1, source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start : error.start + 1].hex()
        message = f"not UTF-8 (byte 0x{byte} cannot be decoded); save the file as UTF-8"
        raise _error(message, line, source) from None


def require_size(size: int, source: str) -> None:
    if size > MAX_BYTES:
        message = f"the definition is {size:,} bytes; the limit is {MAX_BYTES:,}"
        raise _error(message, None, source)


def compose(text: str, source: str) -> tuple[Any, Lines, list[Problem]]:
    """The document's data, the line of every path in it, and its repeated keys as problems.

    Raise DefinitionError for text that is not YAML or exceeds a limit. libyaml parses; if it
    refuses the text, PyYAML's parser says why (its messages name the line of what is open).
    """
    require_size(len(text.encode("utf-8", "surrogatepass")), source)
    fast, careful = LOADERS[0], LOADERS[-1]
    try:
        return _compose(text, source, fast)
    except _NotYaml:
        if fast is careful:
            raise
    return _compose(text, source, careful)


def _compose(text: str, source: str, kind: type) -> tuple[Any, Lines, list[Problem]]:
    loader = None
    try:
        loader = kind(text)  # the reader refuses control characters right here
        node = loader.get_single_node()
        if node is None:
            return None, Lines(), []
        _require_nodes(node)
        lines, repeated = _walk(node)
        data = loader.construct_document(node)
    except TooBig as error:
        raise _error(error.message, error.mark.line + 1 if error.mark else None, source) from None
    except yaml.MarkedYAMLError as error:
        # The context mark points at what was left open (a "[" never closed), the problem
        # mark at where the parser gave up, often a line later.
        mark = error.context_mark or error.problem_mark
        what = "; ".join(filter(None, (error.context, error.problem)))
        line = mark.line + 1 if mark else None
        raise _NotYaml([Problem(f"not valid YAML: {what}", (), line)], source) from None
    except yaml.reader.ReaderError as error:  # a control character: unmarked, but placed
        line = text[: error.position].count("\n") + 1
        what = f"character #x{error.character:04x} is not allowed"
        raise _NotYaml([Problem(f"not valid YAML: {what}", (), line)], source) from None
    except yaml.YAMLError as error:
        raise _NotYaml([Problem(f"not valid YAML: {error}")], source) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines, repeated


def _require_nodes(root: yaml.Node) -> None:
    """Count the nodes of the tree as every later walk sees it (aliases expanded), once per
    distinct node: an alias bomb is refused in time linear in its text."""
    sizes: dict[int, int] = {}
    order, todo = [], [root]
    while todo:  # children before parents, each distinct node once
        node = todo.pop()
        if id(node) in sizes:
            continue
        sizes[id(node)] = 0
        order.append(node)
        todo.extend(_children(node))
    for node in reversed(order):
        sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
        if sizes[id(node)] > MAX_NODES:
            message = f"more than {MAX_NODES:,} nodes once its aliases are expanded"
            raise TooBig(message, node.start_mark)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class Lines:
    """The 1-based line of each path in the document (("transitions", 3, "dest")).

    A path under an alias is located where its anchor is, as the mistake is written there.
    """

    def __init__(self) -> None:
        self.at: dict[Path_, int] = {}
        self.aliases: dict[Path_, Path_] = {}  # the path of an alias -> the path of its anchor

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, or of its nearest ancestor the document has."""
        for end in range(len(path), -1, -1):
            head = path[:end]
            if head in self.aliases and end < len(path):
                return self.line((*self.aliases[head], *path[end:]))
            if head in self.at:
                return self.at[head]
        return None


def _walk(root: yaml.Node) -> tuple[Lines, list[Problem]]:
    """Locate every path, visiting each node once and without recursion; report a key
    repeated in one mapping, naming both lines."""
    lines = Lines()
    repeated: list[Problem] = []
    first: dict[int, Path_] = {}  # node -> the path it was first met at
    todo: list[tuple[yaml.Node, Path_]] = [(root, ())]
    while todo:
        node, path = todo.pop()
        lines.at.setdefault(path, node.start_mark.line + 1)
        if id(node) in first:
            lines.aliases[path] = first[id(node)]
            continue
        first[id(node)] = path
        later: list[tuple[yaml.Node, Path_]] = []  # children, visited in document order
        if isinstance(node, yaml.MappingNode):
            keys: dict[Any, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                line = key.start_mark.line + 1
                if name in keys and name != MERGE:
                    where = ".".join(str(p) for p in (*path, name))
                    message = f"key {where!r} appears twice, on lines {keys[name]} and {line}"
                    repeated.append(Problem(message, (*path, name), line))
                keys.setdefault(name, line)
                lines.at.setdefault((*path, name), line)
                later.append((value, (*path, name)))
        elif isinstance(node, yaml.SequenceNode):
            later.extend((item, (*path, i)) for i, item in enumerate(node.value))
        todo.extend(reversed(later))  # an anchor comes before its aliases
    return lines, repeated


def _error(message: str, line: int | None, source: str) -> DefinitionError:
    return DefinitionError([Problem(message, (), line)], source)
