"""What reaches an operator's terminal: stored text with its control characters made visible.

A summary, a unit's opinion or a token's name may hold ANSI escapes or other control
characters (a hostile intake, a pasted log). Printed raw they can recolour, hide or rewrite
what the operator sees, so every console of the CLI shows them as ``\\x1b``-style escapes;
the stored text stays as it came.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.text import Text

# C0 controls but newline and tab, DEL, C1 controls, and the bidi overrides that reorder text.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """``text`` with each control character shown as its escape (``\\x1b``, ``\\u202e``)."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


class SafeConsole(Console):
    """A rich Console that cleans every string it renders (printed text, table cells, panels)
    and reads no markup unless a call asks for it (``markup=True``): stored text such as
    ``[bold]`` is shown as it is."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"markup": False, **kwargs})

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(clean(text), **kwargs)
