"""Documents: plain text, Markdown (split by headings; YAML front matter -> title, tags, category), HTML
(the main text: navigation, headers, footers, scripts and forms dropped) and PDF (text per page)."""

from __future__ import annotations

import io
import re
from pathlib import PurePosixPath
from typing import Any

from ..errors import Invalid
from .formats import Document, Splitter, sections_to_chunks

__all__ = ["html", "markdown", "pdf", "plain"]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _title(name: str) -> str:
    return PurePosixPath(name).name or "upload"


def plain(text: str, name: str, split: Splitter) -> list[Document]:
    return [sections_to_chunks(Document(_title(name), "document", "text"), [("", text)], split)]


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text
    import yaml

    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        return {}, text  # not front matter after all: keep it as text
    rest = text[end + 4 :].lstrip("-").lstrip("\n")
    return (meta if isinstance(meta, dict) else {}), rest


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [t for t in re.split(r"[,\s]+", value) if t]
    if not isinstance(value, list):
        return []
    return [str(t).strip().lower()[:100] for t in value if str(t).strip()][:40]


def markdown(text: str, name: str, split: Splitter, fmt: str = "markdown") -> list[Document]:
    meta, body = _front_matter(text)
    doc = Document(str(meta.get("title") or _title(name))[:300], "document", fmt)
    doc.tags = _tags(meta.get("tags", meta.get("keywords")))
    if isinstance(meta.get("category"), str) and meta["category"].strip():
        doc.category = meta["category"].strip()[:100]
    sections: list[tuple[str, str]] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        if any(x.strip() for x in lines):
            sections.append((" > ".join(t for _, t in path), "\n".join(lines)))
        lines.clear()

    for line in body.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        m = None if fenced else _HEADING.match(line)
        if m is None:
            lines.append(line)
            continue
        flush()
        level = len(m.group(1))
        path = [(lv, t) for lv, t in path if lv < level] + [(level, m.group(2))]
    flush()
    return [sections_to_chunks(doc, sections, split)]


_DROP = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "template")


def html(text: str, name: str, split: Splitter) -> list[Document]:
    """The main text of a page as Markdown-like sections (headings kept), then as Markdown."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(list(_DROP)):
        tag.decompose()
    for tag in soup.find_all(None, {"role": ["navigation", "banner", "contentinfo", "complementary"]}):
        tag.decompose()
    main = soup.find("main") or soup.find("article") or soup.body or soup
    blocks: list[str] = []
    for el in main.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "dd", "dt"]):
        if el.find_parent(["p", "li", "pre", "blockquote", "td", "dd"]) is not None:
            continue  # its text is in the enclosing block already
        words = el.get_text(" ", strip=True)
        if not words:
            continue
        blocks.append(f"{'#' * int(el.name[1])} {words}" if el.name[0] == "h" and el.name[1:].isdigit() else words)
    if not blocks:
        blocks = [main.get_text("\n", strip=True)]
    md = "\n\n".join(blocks)
    docs = markdown(md, name, split, "html")
    if title:
        docs[0].title = title[:300]
    return docs


def pdf(data: bytes, name: str, split: Splitter) -> Document:
    """Text per page (``page N`` leads each page's chunks); a PDF without a text layer is refused."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "") for page in reader.pages]
        meta = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise Invalid(name or "file", f"is not a readable PDF: {exc}") from None
    if not any(p.strip() for p in pages):
        raise Invalid(name or "file", f"is a PDF of {len(pages)} page(s) with no text layer (scanned?): run OCR first")
    title = (meta.title if meta is not None and meta.title else "") or _title(name)
    doc = Document(str(title)[:300], "document", "pdf")
    sections = [(f"{title} > page {i}", text) for i, text in enumerate(pages, 1) if text.strip()]
    return sections_to_chunks(doc, sections, split)
