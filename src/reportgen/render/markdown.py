"""The Markdown layer: the same document model as plain text, for review or diffing.

The last line records a fingerprint of the text above it, so an edited Markdown draft is never
replaced unasked (``outputs.guard``).
"""

from __future__ import annotations

import hashlib
import itertools
import re

from ..content.model import Document, Paragraph

__all__ = ["MD_FINGERPRINT", "md_fingerprint", "to_markdown"]

MD_FINGERPRINT = re.compile(r"\n<!-- reportgen:fingerprint=([0-9a-f]{64}) -->\n?$")


def md_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _paragraph(paragraph: Paragraph) -> str:
    parts = []
    for bold, spans in itertools.groupby(paragraph.spans, key=lambda span: span.kind in ("lead2", "lead3")):
        text = "".join(span.text for span in spans)
        parts.append(f"**{text}**" if bold else text)
    text = "".join(parts)
    if paragraph.role == "title":
        return f"# {text}"
    if paragraph.role == "heading":
        return f"## {text}"
    if paragraph.role == "byline":
        return f"*{text}*" if text else text  # Markdown cannot centre a line; the byline is set apart in italics
    return text


def to_markdown(document: Document) -> bytes:
    """The draft as Markdown, its last line the fingerprint of the text before it."""
    text = "\n\n".join(_paragraph(p) for p in document.paragraphs) + "\n"
    return (text + f"\n<!-- reportgen:fingerprint={md_fingerprint(text)} -->\n").encode("utf-8")
