"""Drawing a definition's state machine with the diagram extension of ``transitions``.

Mermaid text is built by transitions itself and needs nothing installed. SVG and PNG go through
its Graphviz engine, which needs the ``graphviz`` Python package *and* the ``dot`` program;
transitions would quietly fall back to mermaid without them, so both are checked first and
their absence is said plainly.

transitions draws a *model's* machine: left to right, the model's current state in red, and
every trigger between two states on one line joined by ``|``. A definition has no current
state, and its many self-loops (whistle, exclude) made one line thousands of pixels wide, so
``_Legible`` draws top to bottom, every state alike, one trigger per line.
"""

from __future__ import annotations

import copy
import importlib.util
import shutil
from typing import Any

from transitions.extensions.diagrams import GraphMachine

from hotline.engine.checks import sources
from hotline.engine.definition import Definition
from hotline.errors import HotlineError

FORMATS = ("mermaid", "svg", "png")


class GraphvizMissing(HotlineError):
    def __init__(self, fmt: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"--format {fmt} needs Graphviz, which is not installed here (missing: "
            f"{' and '.join(missing)}); install it with `pip install graphviz` and "
            "`apt-get install graphviz` (or your system's package), or use --format mermaid"
        )


class _Model:
    """What GraphMachine draws; it is never fired."""


def _plain_styles() -> dict[str, Any]:
    styles = copy.deepcopy(GraphMachine.style_attributes)
    styles["node"]["active"] = dict(styles["node"]["inactive"])  # the initial state is not "on"
    styles["graph"]["active"] = dict(styles["graph"]["default"])
    return styles


class _Lines:
    """A Graphviz graph whose edge labels put each trigger on a line of its own."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph

    def edge(self, source: str, dest: str, label: str = "", **attributes: Any) -> None:
        self.graph.edge(source, dest, label=label.replace(" | ", "\n"), **attributes)


class _Legible(GraphMachine):  # type: ignore[misc]
    machine_attributes = {
        **GraphMachine.machine_attributes,
        "rankdir": "TB",
        "nodesep": "0.6",
        "ranksep": "0.5",
        "fontname": "sans-serif",
    }
    style_attributes = _plain_styles()

    def _init_graphviz_engine(self, graph_engine: str) -> Any:
        drawn = super()._init_graphviz_engine(graph_engine)
        if graph_engine != "graphviz":
            return drawn

        class Graph(drawn):  # type: ignore[misc,valid-type]
            def _add_edges(self, transitions: Any, container: Any) -> None:
                super()._add_edges(transitions, _Lines(container))

        return Graph


def graphviz_missing() -> list[str]:
    """What SVG/PNG output lacks on this machine; empty when Graphviz is usable."""
    missing = []
    if importlib.util.find_spec("graphviz") is None:
        missing.append("the `graphviz` Python package")
    if shutil.which("dot") is None:
        missing.append("the `dot` program")
    return missing


def draw(definition: Definition, version: int, fmt: str) -> str | bytes:
    """The machine of ``definition`` as mermaid text, or as SVG/PNG bytes."""
    if fmt not in FORMATS:
        raise HotlineError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "mermaid":
        return _graph(definition, version, "mermaid").draw(None)
    missing = graphviz_missing()
    if missing:
        raise GraphvizMissing(fmt, missing)
    return _graph(definition, version, "graphviz").draw(None, format=fmt, prog="dot")


def _graph(definition: Definition, version: int, engine: str) -> Any:
    model = _Model()
    _Legible(
        model=model,
        states=definition.state_names,
        initial=definition.initial,
        transitions=[
            {
                "trigger": t.trigger,
                "source": sources(definition, t),
                "dest": t.dest,
                "conditions": list(t.conditions),
                "unless": list(t.unless),
            }
            for t in definition.transitions
        ],
        auto_transitions=False,
        show_conditions=True,
        graph_engine=engine,
        title=f"{definition.name}@{version}",
    )
    return model.get_graph()  # type: ignore[attr-defined]
