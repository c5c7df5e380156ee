"""Chinese by default, English as a choice: gettext catalogs compiled from the shipped ``.po``.

Message ids are English, so English needs no catalog. The ``.po`` source is compiled with Babel
when first asked for, so a fresh checkout (``pip install -e .``) needs no build step.
"""

from __future__ import annotations

import functools
import gettext
import io
from importlib import resources

from babel.messages import mofile, pofile

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "hotline_lang"
DOMAIN = "console"


def chosen(cookie: str | None) -> str:
    """The language a request asked for (its cookie), or the default."""
    return cookie if cookie in LANGUAGES else DEFAULT


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English: the message ids themselves)."""
    if language == "en":
        return gettext.NullTranslations()
    source = resources.files("hotline.console") / "locale" / language / "LC_MESSAGES"
    with (source / f"{DOMAIN}.po").open("rb") as po:
        catalog = pofile.read_po(po, locale=language)
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
