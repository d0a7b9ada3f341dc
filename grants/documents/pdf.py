"""HTML → PDF with WeasyPrint, never reaching outside our own static assets."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path

import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

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


def html_to_pdf(html: str, *, title: str = "", pdf_variant: str | None = None) -> bytes:
    document = weasyprint.HTML(string=html, base_url=ASSET_BASE, url_fetcher=AssetsOnlyFetcher())
    return document.write_pdf(pdf_variant=pdf_variant, uncompressed_pdf=False)


def warm_up() -> None:
    """Load fonts and Pango once (the worker calls this before forking)."""
    html_to_pdf("<html lang='sv'><body><p>Förvärmning åäö</p></body></html>")
