"""``hotline workflow graph``: the shipped definition drawn with transitions' diagram support."""

from __future__ import annotations

import html
import re

import pytest

from hotline.engine.checks import sources
from hotline.workflows import diagram, loader

SHIPPED = loader.parse(loader.shipped_text())


def edges(mermaid: str) -> dict[tuple[str, str], str]:
    found = {}
    for line in mermaid.splitlines():
        if "-->" in line and ":" in line:
            pair, label = line.strip().split(": ", 1)
            src, dst = pair.split(" --> ")
            found[(src, dst)] = label
    return found


def test_the_mermaid_graph_has_every_state_and_every_transition():
    drawn = diagram.draw(SHIPPED, 1, "mermaid")

    assert drawn.splitlines()[1] == "beijing-12345@1"
    for state in SHIPPED.state_names:
        assert f'state "{state}" as {state}' in drawn
    drawn_edges = edges(drawn)
    for t in SHIPPED.transitions:
        for source in sources(SHIPPED, t):
            label = drawn_edges[(source, t.dest or source)]
            assert t.trigger in label, (t.trigger, source)
            for guard in t.conditions:
                assert guard in label
    assert f"[*] --> {SHIPPED.initial}" in drawn


def test_svg_without_graphviz_says_what_is_missing_and_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` program on this PATH

    with pytest.raises(diagram.GraphvizMissing, match="the `dot` program") as refused:
        diagram.draw(SHIPPED, 1, "svg")

    assert "apt-get install graphviz" in str(refused.value)
    assert "--format mermaid" in str(refused.value)


@pytest.mark.skipif(
    bool(diagram.graphviz_missing()), reason="Graphviz (package and dot) not installed"
)
@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_with_graphviz_installed_svg_and_png_are_drawn(fmt, magic):
    drawn = diagram.draw(SHIPPED, 1, fmt)

    assert magic in drawn[:400]
    if fmt == "svg":
        text = html.unescape(drawn.decode())
        assert all(state in text for state in SHIPPED.state_names)


@pytest.mark.skipif(
    bool(diagram.graphviz_missing()), reason="Graphviz (package and dot) not installed"
)
def test_the_svg_is_drawn_top_to_bottom_with_no_state_in_red_and_a_trigger_a_line():
    svg = diagram.draw(SHIPPED, 1, "svg").decode()

    width, height = (
        float(n) for n in re.search(r'viewBox="0.00 0.00 ([\d.]+) ([\d.]+)"', svg).groups()
    )
    assert width < 2 * height  # was 7,158 x 260 px: one long row
    assert set(re.findall(r'(?:stroke|fill)="([^"]+)"', svg)) <= {
        "black",
        "white",
        "none",
        "transparent",
    }
    assert ">whistle_task_done [internal] [whistle_open]</text>" in svg  # its own line
