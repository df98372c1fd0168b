"""HTML pages from the Jinja2 templates in this folder.

Autoescaping is on for every template, so text from data (LA names, error messages, registry
fields) is escaped wherever it lands; HTML made here or by nbconvert is passed in as Markup.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

_OPTIONS = {"trim_blocks": True, "lstrip_blocks": True, "undefined": StrictUndefined}
_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=True, **_OPTIONS)
# plain-text sentences (templates/parts/): not HTML, so no autoescape; the series escapes them as Markdown
_WORDS = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=False, **_OPTIONS)
_WORDS.filters["capfirst"] = lambda s: str(s)[:1].upper() + str(s)[1:]


def render_template(name: str, **context: object) -> Markup:
    """Template ``name`` filled in; Markup, so a section nests in a page without being escaped again."""
    return Markup(_ENV.get_template(name).render(**context))


def words(name: str):
    """The macros of a plain-text template under parts/ (a part's sentences, filled from typed facts)."""
    return _WORDS.get_template(name).module
