"""Canonical JSON and its SHA-256: the fingerprint of a snapshot, a document or a version. The
same data always gives the same text (sorted keys, no spaces, UTF-8), so the same hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def fingerprint(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
