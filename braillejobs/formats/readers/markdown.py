"""Markdown (CommonMark with GFM tables and strike-through, and footnotes) via markdown-it-py's
token stream.

Code spans are uncontracted text, fenced and indented code blocks :class:`Code` blocks, ``~~x~~``
crossed-out text, ``---`` a :class:`Rule`. Inline HTML tags that change how text reads (emphasis,
<del>, <code>, <kbd>, <sup>, <sub>, <q>, <br>, <img>) are honoured as the HTML reader honours them;
HTML blocks are read with the HTML reader's tree walker. An image's alt text is a transcriber's
note. Footnote references (``[^1]``) are raised numbers and the notes follow the text at the end,
each opening with its number, as print sets them.

Nesting: markdown-it follows containers (list items, block quotes) to ``MAX_NESTING`` token
levels — about 10 lists within lists, or 20 block quotes within block quotes — and, left to
itself, skips everything from there to the end of the enclosing container. Here the text past the
limit is kept, in order, as paragraphs at the deepest level followed (block-quote and bullet
markers removed, item numbers kept as text), and the document gets a warning. Braille layout
loses little: lists deeper than ``flow.MAX_LIST_LEVEL`` are laid out at that level anyway (BANA
Braille Formats §8), and nested block quotes are displayed material at one margin. The HTML reader
refuses nesting past libxml2's limit instead, because there the parser drops the text before the
reader sees it.
"""

from __future__ import annotations

import html
import re

from ..blocks import (BOLD, EMPHASIS_MASK, ITALIC, NO_CONTRACT, STRIKE, SUPERSCRIPT,
                      BlockQuote, Cell, Code, Document, Heading, Inline, LineBreak, ListItem,
                      Paragraph, Rule, Span, Table, has_text, normalise_inlines, plain_text)
from .html import EMPHASIS as _HTML_FLAGS
from .html import QUOTES, close_up_notes, image_note
from .txt import decode_text

MAX_NESTING = 20  # markdown-it token levels followed (its CommonMark preset's maxNesting)

_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)\s*>")
_ALT = re.compile(r"""\salt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)
_TOKEN_FLAGS = {"em": ITALIC, "strong": BOLD, "s": STRIKE}  # markdown-it's x_open / x_close


def _inline(tokens, base: int = 0) -> list[Inline]:
    out: list[Inline] = []
    emph = base
    counts: dict[int, int] = {}
    quotes = 0  # inline <q> elements open

    def change(flag: int, delta: int) -> None:
        nonlocal emph
        counts[flag] = max(0, counts.get(flag, 0) + delta)
        emph = base
        for f, n in counts.items():
            if n:
                emph |= f

    for tok in tokens or []:
        t = tok.type
        if t == "text":
            out.append(Span(tok.content, emph))
        elif t == "code_inline":  # computer code is uncontracted (UEB 10.12)
            out.append(Span(tok.content, emph | NO_CONTRACT))
        elif t == "footnote_ref":  # a note reference: its number raised, as printed
            out.append(Span(str(tok.meta["id"] + 1), emph | SUPERSCRIPT))
        elif t == "softbreak":
            out.append(Span(" ", emph))
        elif t == "hardbreak":
            out.append(LineBreak())
        elif t.endswith(("_open", "_close")) and t.rsplit("_", 1)[0] in _TOKEN_FLAGS:
            change(_TOKEN_FLAGS[t.rsplit("_", 1)[0]], 1 if t.endswith("_open") else -1)
        elif t == "image":
            alt = "".join(c.content for c in (tok.children or [])) or tok.content
            out.extend(image_note(alt, emph))
        elif t == "html_inline":
            m = _TAG.match(tok.content.strip())
            if m:
                name = m.group(2).lower()
                closing = bool(m.group(1))
                if name == "br":
                    out.append(LineBreak())
                elif name == "img" and not closing:
                    alt = _ALT.search(tok.content)
                    if alt:
                        out.extend(image_note(html.unescape(next(g for g in alt.groups()
                                                                 if g is not None)), emph))
                elif name == "q" and not m.group(3):
                    if not closing:
                        out.append(Span(QUOTES[min(quotes, 1)][0], emph))
                        quotes += 1
                    elif quotes:
                        quotes -= 1
                        out.append(Span(QUOTES[min(quotes, 1)][1], emph))
                elif name in _HTML_FLAGS and not m.group(3):
                    change(_HTML_FLAGS[name], -1 if closing else 1)
        # link_open/close and others carry no text of their own
    return close_up_notes(normalise_inlines(out))


def _header_cells(cells: list[Cell]) -> list[Cell]:
    """GFM header cells without the emphasis that covers each whole cell when every header cell
    has it (``| **Name** |``): that is heading styling, and the listed table format repeats the
    headings on every row, each time with its indicator."""
    whole = [_whole_emphasis(cell.content) for cell in cells]
    if not any(has_text(cell.content) for cell in cells) or not all(
            flags for flags, cell in zip(whole, cells) if has_text(cell.content)):
        return cells
    return [Cell(normalise_inlines([Span(i.text, i.emphasis & ~flags) if isinstance(i, Span)
                                    else i for i in cell.content]), cell.colspan, cell.rowspan,
                 cell.header) for flags, cell in zip(whole, cells)]


def _whole_emphasis(content: list[Inline]) -> int:
    """The emphasis every character of ``content`` has (0 for no text)."""
    common = EMPHASIS_MASK
    spans = [i for i in content if isinstance(i, Span) and i.text.strip()]
    for span in spans:
        common &= span.emphasis
    return common if spans else 0


# block-quote and bullet-list markers at the start of a line; an ordered item's number is text
_CONTAINER_MARK = re.compile(r"[ \t]*(?:>[ \t]?|[-+*](?:[ \t]+|$))")
_ORDERED_MARK = re.compile(r"[ \t]*\d{1,9}[.)](?=[ \t]|$)")


def _without_markers(line: str) -> tuple[str, bool]:
    """A line's text without leading container markers, and whether it had any (or a number)."""
    pos, marked = 0, False
    while (m := _CONTAINER_MARK.match(line, pos)) is not None:
        pos, marked = m.end(), True
    rest = line[pos:]
    return rest.strip(), marked or _ORDERED_MARK.match(rest) is not None


def _flat_paragraphs(state, start: int, end: int) -> None:
    """Tokens for container content past the nesting limit: its lines as paragraphs.

    Ends where markdown-it's block loop would end this container (a block starting left of the
    container's indent) and leaves ``state.line`` there, so the enclosing rules go on as usual.
    A line that opens a list item or block quote, or follows a blank line, starts a paragraph;
    other lines continue it, as lazy continuation lines do.
    """
    line, first, parts = start, start, []

    def close(upto: int) -> None:
        if parts:
            state.push("paragraph_open", "p", 1).map = [first, upto]
            token = state.push("inline", "", 0)
            token.content, token.map, token.children = "\n".join(parts), [first, upto], []
            state.push("paragraph_close", "p", -1)
            parts.clear()

    while line < end:
        if state.isEmpty(line):
            close(line)
        elif state.sCount[line] < state.blkIndent and not (parts and state.sCount[line] < 0):
            break  # a block of an enclosing container (negative: a block quote's lazy line)
        else:
            text, marked = _without_markers(state.getLines(line, line + 1, state.blkIndent,
                                                           False))
            if marked or not text:
                close(line)
            if text:
                if not parts:
                    first = line
                parts.append(text)
        line += 1
    close(line)
    state.line = line
    state.env["over_deep"] = state.env.get("over_deep", 0) + 1


def _parser():
    """markdown-it (CommonMark, GFM tables, inline HTML) that keeps text nested past its limit."""
    from markdown_it import MarkdownIt
    from markdown_it.parser_block import ParserBlock

    class Blocks(ParserBlock):
        def tokenize(self, state, startLine: int, endLine: int) -> None:
            if state.level < state.md.options.maxNesting:
                super().tokenize(state, startLine, endLine)
            else:
                _flat_paragraphs(state, startLine, endLine)

    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"]).use(footnote_plugin)
    blocks = Blocks()
    blocks.ruler = md.block.ruler  # the rules as configured above
    md.block = blocks
    return md


def read_markdown(data: bytes, filename: str) -> Document:
    text, warnings = decode_text(data, filename)
    env: dict = {}
    tokens = _parser().parse(text, env)
    doc = Document([], warnings=warnings)
    if env.get("over_deep"):
        doc.warnings.append(
            f"{filename}: lists or block quotes are nested deeper than the Markdown reader "
            f"follows ({MAX_NESTING} levels); their text is kept as paragraphs at the deepest "
            "level — reduce the nesting to keep its structure")
    stack: list[list] = [doc.blocks]
    lists: list[dict] = []  # open lists: ordered?, counter
    item: list[dict] = []  # open list items: level, marker, used?
    table: dict | None = None
    note = ""  # the number of the footnote whose first paragraph is still to come

    def place(block) -> None:
        """A block other than a paragraph: an ordered list item it opens is numbered first."""
        if item and not item[-1]["used"] and item[-1]["marker"]:
            it = item[-1]
            stack[-1].append(ListItem(it["level"], [Span(it["marker"])], ""))
            it["used"] = True
        stack[-1].append(block)

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
            if note:  # a footnote opens with its number, as printed at the foot of a page
                content = normalise_inlines([Span(f"{note}. ")] + content)
                note = ""
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
            text = tok.content[:-1] if tok.content.endswith("\n") else tok.content
            if text.strip():
                info = tok.info.split() if t == "fence" else []
                place(Code(text.split("\n"), info[0][:40] if info else ""))
        elif t == "hr":
            place(Rule())
        elif t == "footnote_block_open":
            stack[-1].append(Rule())  # the notes follow the text, set apart as in print
        elif t == "footnote_open":
            note = str(tok.meta["id"] + 1)
            if i + 1 < len(tokens) and tokens[i + 1].type != "paragraph_open":
                stack[-1].append(Paragraph([Span(f"{note}.")]))
                note = ""
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
            table["rows"][-1].append(Cell(_inline(tok.children), header=table["in_head"]))
        elif t == "table_close" and table is not None:
            rows = table["rows"]
            if table["header"] and rows:
                rows[0] = _header_cells(rows[0])
            place(Table(rows, table["header"]))
            table = None
        i += 1
    return doc
