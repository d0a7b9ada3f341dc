"""Formatted text: Markdown written by users, rendered to sanitised HTML – the same on the page
and in the PDF (paragraphs, bold, italic, lists, links; nothing that runs or fetches)."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_MARKDOWN.disable(["image", "html_block", "html_inline"])
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h3", "h4", "blockquote",
                "code"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    html = _MARKDOWN.render(text)
    # Headings written as '#' become h3/h4 so they sit below the section's own heading.
    for level, target in (("h1", "h3"), ("h2", "h3"), ("h3", "h3"), ("h4", "h4"), ("h5", "h4"),
                          ("h6", "h4")):
        html = html.replace(f"<{level}>", f"<{target}>").replace(f"</{level}>", f"</{target}>")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=ALLOWED_SCHEMES, link_rel="noopener noreferrer nofollow")
    return Markup(clean)  # noqa: S704 - sanitised by nh3 with an allow-list
