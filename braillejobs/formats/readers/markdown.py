"""Markdown (CommonMark with GFM tables) via markdown-it-py's token stream.

Inline HTML for emphasis (<em>, <i>, <strong>, <b>, <u>) and <br> is honoured; HTML blocks are
read with the HTML reader's tree walker; images keep their alt text.
"""

from __future__ import annotations

import re

from ..blocks import (BOLD, ITALIC, UNDERLINE, BlockQuote, Document, Heading, Inline, LineBreak,
                      ListItem, Paragraph, Span, Table, normalise_inlines, plain_text)
from .txt import decode_text

_HTML_EMPH = {"em": ITALIC, "i": ITALIC, "cite": ITALIC, "strong": BOLD, "b": BOLD,
              "u": UNDERLINE, "ins": UNDERLINE}
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)\s*>")


def _inline(tokens, base: int = 0) -> list[Inline]:
    out: list[Inline] = []
    emph = base
    counts = {ITALIC: 0, BOLD: 0, UNDERLINE: 0}

    def change(flag: int, delta: int) -> None:
        nonlocal emph
        counts[flag] = max(0, counts[flag] + delta)
        emph = base
        for f, n in counts.items():
            if n:
                emph |= f

    for tok in tokens or []:
        t = tok.type
        if t == "text" or t == "code_inline":
            out.append(Span(tok.content, emph))
        elif t == "softbreak":
            out.append(Span(" ", emph))
        elif t == "hardbreak":
            out.append(LineBreak())
        elif t == "em_open":
            change(ITALIC, 1)
        elif t == "em_close":
            change(ITALIC, -1)
        elif t == "strong_open":
            change(BOLD, 1)
        elif t == "strong_close":
            change(BOLD, -1)
        elif t == "image":
            alt = "".join(c.content for c in (tok.children or [])) or tok.content
            if alt.strip():
                out.append(Span(f" {alt} ", emph))
        elif t == "html_inline":
            m = _TAG.match(tok.content.strip())
            if m:
                name = m.group(2).lower()
                if name == "br":
                    out.append(LineBreak())
                elif name in _HTML_EMPH and not m.group(3):
                    change(_HTML_EMPH[name], -1 if m.group(1) else 1)
        # link_open/close, s_open/close and others carry no text of their own
    return normalise_inlines(out)


def read_markdown(data: bytes, filename: str) -> Document:
    from markdown_it import MarkdownIt

    text, warnings = decode_text(data, filename)
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = md.parse(text)
    doc = Document([], warnings=warnings)
    stack: list[list] = [doc.blocks]
    lists: list[dict] = []  # open lists: ordered?, counter
    item: list[dict] = []  # open list items: level, marker, used?
    table: dict | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        t = tok.type
        if t == "heading_open":
            content = _inline(tokens[i + 1].children)
            if content:
                stack[-1].append(Heading(int(tok.tag[1]), content))
                if doc.title is None and tok.tag == "h1":
                    doc.title = plain_text(content)
            i += 3
            continue
        if t == "paragraph_open":
            content = _inline(tokens[i + 1].children)
            if content:
                if item:
                    it = item[-1]
                    stack[-1].append(ListItem(it["level"], content,
                                              "" if it["used"] else it["marker"], it["used"]))
                    it["used"] = True
                else:
                    stack[-1].append(Paragraph(content))
            i += 3
            continue
        if t in ("bullet_list_open", "ordered_list_open"):
            start = tok.attrGet("start")
            lists.append({"ordered": t == "ordered_list_open",
                          "n": int(start) - 1 if start is not None else 0})
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif t == "list_item_open":
            lst = lists[-1]
            marker = ""
            if lst["ordered"]:
                lst["n"] += 1
                marker = f"{lst['n']}{tok.markup or '.'}"
            item.append({"level": len(lists) - 1, "marker": marker, "used": False})
        elif t == "list_item_close":
            it = item.pop()
            if not it["used"] and it["marker"]:
                stack[-1].append(ListItem(it["level"], [Span(it["marker"])], ""))
        elif t == "blockquote_open":
            stack.append([])
        elif t == "blockquote_close":
            quoted = stack.pop()
            if quoted:
                stack[-1].append(BlockQuote(quoted))
        elif t in ("fence", "code_block"):
            lines = tok.content.rstrip("\n").split("\n")
            content: list[Inline] = []
            for n, line in enumerate(lines):
                if n:
                    content.append(LineBreak())
                content.append(Span(line))
            content = normalise_inlines(content)
            if content:
                stack[-1].append(Paragraph(content))
        elif t == "html_block":
            from .html import document_from_tree, parse_html
            root = parse_html(tok.content.encode("utf-8"), filename, [])
            sub = document_from_tree(root, filename)
            stack[-1].extend(sub.blocks)
        elif t == "table_open":
            table = {"rows": [], "header": 0, "in_head": False}
        elif t == "thead_open" and table is not None:
            table["in_head"] = True
        elif t == "thead_close" and table is not None:
            table["in_head"] = False
        elif t == "tr_open" and table is not None:
            table["rows"].append([])
            if table["in_head"]:
                table["header"] += 1
        elif t == "inline" and table is not None:
            table["rows"][-1].append(_inline(tok.children))
        elif t == "table_close" and table is not None:
            stack[-1].append(Table(table["rows"], table["header"]))
            table = None
        i += 1
    return doc
