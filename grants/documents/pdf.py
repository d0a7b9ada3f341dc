"""HTML → PDF with WeasyPrint, never reaching outside our own static assets."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path

import weasyprint
import weasyprint.pdf
from markupsafe import Markup
from weasyprint.css import ColorProfile
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)


class _ClosingColorProfile(ColorProfile):
    """WeasyPrint 70 opens its sRGB profile for every PDF/A and never closes the file (a
    ResourceWarning per archival PDF, and a file handle held until garbage collection).
    Same profile, file closed once read."""

    def __init__(self, file_object, *args, **kwargs):
        try:
            super().__init__(file_object, *args, **kwargs)
        finally:
            close = getattr(file_object, "close", None)
            if close is not None:
                close()


weasyprint.pdf.ColorProfile = _ClosingColorProfile

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"
ASSET_BASE = "https://assets.grants.invalid/"


class AssetsOnlyFetcher(URLFetcher):
    """Serves files below grants/static for URLs under ASSET_BASE; refuses everything else
    (file://, http(s) elsewhere, data: larger than a small icon). User text can therefore never
    make WeasyPrint read a local file or open a network connection."""

    MAX_DATA_URL = 64 * 1024

    def fetch(self, url, headers=None):
        if url.startswith(ASSET_BASE):
            relative = url[len(ASSET_BASE):].split("?")[0].split("#")[0]
            path = (STATIC_ROOT / relative).resolve()
            if STATIC_ROOT in path.parents and path.is_file():
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body=path.read_bytes(),
                                          headers={"Content-Type": mime})
        if url.startswith("data:") and len(url) <= self.MAX_DATA_URL:
            return super().fetch(url, headers)
        logger.warning("PDF renderer refused to fetch %.200s", url)
        raise ValueError(f"fetching {url[:80]!r} is not allowed")


def html_to_pdf(html: str, *, title: str = "", pdf_variant: str | None = None,
                attachments: list | None = None, tagged: bool = False) -> bytes:
    """`pdf_variant` e.g. "pdf/a-3b"; `attachments` are weasyprint.Attachment objects made
    from bytes we hold (never from a URL); `tagged` adds the structure tree (headings, tables,
    reading order) that screen readers and PDF/UA checkers use."""
    document = weasyprint.HTML(string=html, base_url=ASSET_BASE, url_fetcher=AssetsOnlyFetcher())
    return document.write_pdf(pdf_variant=pdf_variant, uncompressed_pdf=False,
                              attachments=attachments or None, pdf_tags=tagged,
                              font_config=font_configuration())


_font_configuration: FontConfiguration | None = None


def font_configuration() -> FontConfiguration:
    """One font configuration per process, shared by every render. WeasyPrint makes a new one
    per document otherwise, and each keeps about 0.2 MB of native memory (Pango's font map)
    after its document is done: a process rendering many PDFs would grow without end. Shared,
    memory stays flat, and the fonts loaded by the worker's warm-up stay loaded."""
    global _font_configuration  # noqa: PLW0603 - a per-process cache
    if _font_configuration is None:
        _font_configuration = FontConfiguration()
    return _font_configuration


# Everything a render loads once per process and keeps: the fonts of the PDF stylesheet in
# every size and weight it uses (Pango and HarfBuzz cache them per size), the page footers and
# the table of contents, and the Swedish and English hyphenation dictionaries (hyphens: auto;
# loading one costs more than a tenth of a second). A few pages using every class of
# application.css.
WARM_UP_HTML = """<html lang="sv"><head><link rel="stylesheet" href="pdf/application.css">
<style>@page { @bottom-center { content: "Sida " counter(page) " av " counter(pages); }
@bottom-left { content: "Förvärmning"; } }</style></head><body>
<div class="watermark" aria-hidden="true">UTKAST</div>
<section class="cover"><p class="cover-funder">Finansiär åäö</p><p class="cover-call">Utlysning</p>
<h1 class="cover-title">Förvärmning av typsnitt</h1>
<table class="cover-facts"><tr><th scope="row">Organisation</th><td>Bibliotek 123456-7890</td></tr>
</table><p class="cover-draft">Utkast</p><p class="cover-fingerprint">0123456789abcdef</p></section>
<nav class="toc"><h2 id="toc">Innehåll</h2><ol><li><a href="#s1">1. Avsnitt</a></li></ol></nav>
<section class="section" id="s1"><h2>1. Avsnitt åäö</h2><h3>Fråga</h3>
<p style="width: 30mm">Förvärmningen läser in <strong>typsnitt</strong>, <em>avstavning</em>,
<code>kod</code>: biblioteksverksamhetsutvecklingsprojektet kompetensförsörjningsinsatserna.</p>
<p lang="en" style="width: 30mm">The warm-up loads the hyphenation of internationalisation and
interdisciplinary responsibilities.</p><p class="money">1 000 kr</p><p class="empty">–</p>
<div class="richtext"><ul><li>Punkt</li></ul><ol><li>Nummer <a href="#s1">länk</a></li></ol></div>
<table class="value-table"><thead><tr><th scope="col">Kostnadsslag</th><th scope="col">Belopp</th>
</tr></thead><tbody><tr><td>Personal 2027</td><td class="num">1 000 kr</td></tr>
<tr class="sum"><td>Summa</td><td class="num">1 000 kr</td></tr></tbody></table>
<p class="sha">0123456789abcdef</p><p class="small">Liten text</p><div class="blank-answer"></div>
<table class="signature-block"><tr><td>Underskrift</td><td>Namnförtydligande</td></tr></table>
</section></body></html>"""


def warm_up() -> None:
    """Load fonts, Pango and the hyphenation dictionaries once (the worker calls this before
    forking, so that no job pays for it)."""
    html_to_pdf(WARM_UP_HTML)


def css_string(value) -> str:
    """Text for inside a double-quoted CSS string in a PDF template (running headers and
    footers): letters, digits, spaces and harmless punctuation as they are, everything else as
    a CSS escape, so user text can neither end the string nor the <style> element."""
    safe = " .,-_:;!?()'–—"
    return Markup("".join(ch if ch.isalnum() or ch in safe else f"\\{ord(ch):06x}"  # noqa: S704
                          for ch in str(value if value is not None else "")))
