"""Uploaded files: the kind is read from the content (magic bytes), never from the name."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import filetype

KIND_MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "png": "image/png",
    "jpg": "image/jpeg",
}


def identify(content: bytes) -> str | None:
    """'pdf', 'docx', 'xlsx', 'odt', 'png' or 'jpg' from the bytes; None for anything else."""
    kind = filetype.guess(content)
    if kind is None:
        return None
    return kind.extension if kind.extension in KIND_MIME else None


_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


def safe_filename(name: str, kind: str) -> str:
    """A name safe for Content-Disposition and any file system, keeping å ä ö; the extension
    is the one the content has."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _UNSAFE.sub("_", stem).strip(" ._") or "bilaga"
    return f"{stem[:100]}.{kind}"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'[^A-Za-z0-9._() -]', "_", ascii_name) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
