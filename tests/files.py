"""Real files of each accepted kind, made on the fly, for upload tests."""

import io
import zipfile

from PIL import Image


def pdf_bytes(text: str = "Avsiktsförklaring") -> bytes:
    import weasyprint
    return weasyprint.HTML(string=f"<p>{text}</p>").write_pdf()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (31, 78, 140)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _zip(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "_rels/.rels": "<Relationships/>",
                 "word/document.xml": "<w:document/>"})


def xlsx_bytes() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "_rels/.rels": "<Relationships/>",
                 "xl/workbook.xml": "<workbook/>"})


def odt_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


HTML_DISGUISED_AS_PDF = b"<html><body><script>alert(1)</script></body></html>"
