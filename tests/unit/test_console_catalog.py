"""Every text the console's templates and pages translate has its Chinese in the catalog, and
the catalog compiles from the shipped .po with Babel."""

from __future__ import annotations

import re
from pathlib import Path

from hotline.console import i18n, menu

CONSOLE = Path(i18n.__file__).parent
CALLED = re.compile(r"""_\((?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\)""")
TITLED = re.compile(r'title="([^"]+)"')


def texts() -> set[str]:
    found = set()
    for template in (CONSOLE / "templates").glob("*.html"):
        found |= {a or b for a, b in CALLED.findall(template.read_text(encoding="utf-8"))}
    for module in CONSOLE.glob("*.py"):
        found |= set(TITLED.findall(module.read_text(encoding="utf-8")))
    return found | {label for _, label, _ in menu.PAGES} | {"{n} d", "{n} h", "{n} min"}


def test_every_text_has_its_chinese():
    chinese = i18n.translations("zh")
    missing = sorted(t for t in texts() if chinese.gettext(t) == t)
    assert missing == []


def test_english_is_the_message_ids_and_unknown_languages_fall_back_to_chinese():
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
    assert i18n.chosen("fr") == "zh" and i18n.chosen("en") == "en"
