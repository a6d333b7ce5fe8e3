"""The text a reader sees in a Word ``.docx`` file, read from its XML parts with lxml.

python-docx's document API reads body paragraphs and tables only, and cannot open a
"Strict Open XML" file at all; this reader follows ECMA-376 directly, for both the
Transitional and the Strict namespaces (elements are matched by their local names):

* the main document part (found through the package relationships), in reading order:
  paragraphs (``w:t`` text, ``w:tab`` as a tab, ``w:br``/``w:cr`` as line breaks), tables
  (one line per row, cells joined by `` | ``), content controls, and **text boxes**
  (``w:txbxContent``: their paragraphs follow the paragraph that anchors them; the VML
  copy Word keeps in ``mc:Fallback`` is skipped, so a text box is read once);
* **footnotes** and **endnotes** (after the body, ``[1] text``; Word's separators skipped);
* **comments** are reviewers' remarks, not the student's words: they are returned apart
  (author and text) for the entry's metadata.

Deleted text of tracked changes (``w:delText``) and field codes (``w:instrText``) are not
text a reader sees and are left out.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

__all__ = ["DocxText", "read_docx"]

_MAX_PART = 20_000_000  # bytes of XML read from one part (a zip bomb stops here)


@dataclass
class DocxText:
    text: str
    comments: list[dict[str, str]] = field(default_factory=list)
    strict: bool = False


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _attr(el: etree._Element, name: str) -> str:
    for key, value in el.attrib.items():
        if str(key).rsplit("}", 1)[-1] == name:
            return str(value)
    return ""


def _inline(el: etree._Element, out: list[str], boxes: list[etree._Element]) -> None:
    """Text of a paragraph's runs into ``out``; text boxes met on the way into ``boxes``."""
    for child in el:
        name = _local(child)
        if name == "t":
            out.append(child.text or "")
        elif name in ("tab", "ptab"):
            out.append("\t")
        elif name in ("br", "cr"):
            out.append("\n")
        elif name == "noBreakHyphen":
            out.append("-")
        elif name == "txbxContent":
            boxes.append(child)
        elif name in ("Fallback", "delText", "instrText", "del"):
            continue  # VML copy of a text box; deleted text; field codes
        else:
            _inline(child, out, boxes)


def _blocks(parent: etree._Element, lines: list[str]) -> None:
    for child in parent:
        name = _local(child)
        if name == "p":
            parts: list[str] = []
            boxes: list[etree._Element] = []
            _inline(child, parts, boxes)
            lines.append("".join(parts))
            for box in boxes:
                _blocks(box, lines)
        elif name == "tbl":
            for row in (r for r in child if _local(r) == "tr"):
                cells = []
                for cell in (c for c in row if _local(c) == "tc"):
                    inner: list[str] = []
                    _blocks(cell, inner)
                    cells.append("\n".join(x for x in inner if x.strip()).strip())
                unique = list(dict.fromkeys(c for c in cells if c))
                lines.append(" | ".join(unique))
        elif name in ("sdt", "sdtContent", "customXml", "ins", "smartTag", "body"):
            _blocks(child, lines)


def _xml(archive: zipfile.ZipFile, name: str) -> etree._Element | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _MAX_PART:
        raise ValueError(f"{name} is larger than {_MAX_PART // 1_000_000} MB")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(archive.read(name), parser)


def _targets(archive: zipfile.ZipFile, rels_name: str, base: str) -> dict[str, str]:
    """Relationship type (its last path segment) -> part name, from a ``.rels`` part."""
    root = _xml(archive, rels_name)
    out: dict[str, str] = {}
    if root is None:
        return out
    for rel in root:
        kind = _attr(rel, "Type").rsplit("/", 1)[-1]
        target = _attr(rel, "Target")
        if _attr(rel, "TargetMode") == "External" or not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
        out.setdefault(kind, posixpath.normpath(path))
    return out


def _notes(root: etree._Element | None, kind: str) -> list[str]:
    if root is None:
        return []
    lines = []
    for note in (n for n in root if _local(n) == kind):
        if _attr(note, "type") in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        inner: list[str] = []
        _blocks(note, inner)
        text = " ".join(x.strip() for x in inner if x.strip())
        if text:
            lines.append(f"[{_attr(note, 'id')}] {text}")
    return lines


def read_docx(path: Path) -> DocxText:
    """Read ``path``; ValueError says why it is not a readable .docx file."""
    try:
        with zipfile.ZipFile(path) as archive:
            package = _targets(archive, "_rels/.rels", "")
            main = package.get("officeDocument", "word/document.xml")
            document = _xml(archive, main)
            if document is None:
                raise ValueError("not a readable .docx file (it has no document part)")
            folder, name = posixpath.split(main)
            parts = _targets(archive, posixpath.join(folder, "_rels", name + ".rels"), folder)
            lines: list[str] = []
            for child in document:
                if _local(child) == "body":
                    _blocks(child, lines)
            notes = [
                *_notes(
                    _xml(archive, parts["footnotes"]) if "footnotes" in parts else None, "footnote"
                ),
                *_notes(
                    _xml(archive, parts["endnotes"]) if "endnotes" in parts else None, "endnote"
                ),
            ]
            comments = []
            if "comments" in parts:
                root = _xml(archive, parts["comments"])
                for comment in root if root is not None else []:
                    if _local(comment) != "comment":
                        continue
                    inner: list[str] = []
                    _blocks(comment, inner)
                    comments.append(
                        {
                            "author": _attr(comment, "author"),
                            "text": " ".join(x.strip() for x in inner if x.strip()),
                        }
                    )
    except (zipfile.BadZipFile, etree.XMLSyntaxError, OSError, EOFError) as exc:
        raise ValueError(f"not a readable .docx file ({type(exc).__name__})") from exc
    if notes:
        lines += ["", *notes]
    strict = str(document.tag).startswith("{http://purl.oclc.org/ooxml/")
    return DocxText("\n".join(lines), [c for c in comments if c["text"]], strict)
