"""The Markdown layer: the same document model as plain text, for review or diffing."""

from __future__ import annotations

from .model import Document, Paragraph

__all__ = ["to_markdown"]


def _paragraph(paragraph: Paragraph) -> str:
    text = "".join(f"**{s.text}**" if s.kind in ("lead2", "lead3") else s.text for s in paragraph.spans)
    if paragraph.role == "title":
        return f"# {text}"
    if paragraph.role == "heading":
        return f"## {text}"
    if paragraph.role == "byline":
        return f"<p align=\"center\">{text}</p>"
    return text


def to_markdown(document: Document) -> str:
    """Markdown text ending in a newline (without the fingerprint line the writer adds)."""
    return "\n\n".join(_paragraph(p) for p in document.paragraphs) + "\n"
