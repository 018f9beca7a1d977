"""The report's document: `Doc` collects headings, paragraphs, lists, tables and images and renders
them to Markdown and to one self-contained HTML page (images inlined); `fmt` writes a table cell."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np


def fmt(v, digits=3) -> str:
    """A value as a table cell: "" for None, yes/no, integers with thousands separators, "-" for
    NaN / inf, else `digits` significant digits (scientific outside 1e-3 .. 1e5)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if not np.isfinite(v):
        return "-"
    if float(v).is_integer() and abs(v) < 1e5:
        return f"{int(v):,}"
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.2e}"
    if a >= 100:
        return f"{v:,.1f}"
    return f"{v:.{digits}g}"


class Doc:
    """Blocks rendered to Markdown and to self-contained HTML."""

    def __init__(self, folder: Path):
        self.blocks: list[tuple[str, Any]] = []
        self.folder = folder

    def h(self, level: int, text: str):
        self.blocks.append(("h", (level, text)))

    def p(self, text: str):
        self.blocks.append(("p", text))

    def ul(self, items: list[str]):
        self.blocks.append(("ul", items))

    def table(self, header: list[str], rows: list[list[Any]]):
        self.blocks.append(("table", (header, [[fmt(c) for c in r] for r in rows])))

    def img(self, path: Path, caption: str):
        self.blocks.append(("img", (path, caption)))

    def markdown(self) -> str:
        out = []
        for kind, x in self.blocks:
            if kind == "h":
                out.append("#" * x[0] + " " + x[1])
            elif kind == "p":
                out.append(x)
            elif kind == "ul":
                out.append("\n".join(f"- {i}" for i in x))
            elif kind == "table":
                head, rows = x
                lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]  # |w| in a label
                out.append("\n".join(lines))
            elif kind == "img":
                out.append(f"![{x[1]}]({x[0].relative_to(self.folder)})\n\n*{x[1]}*")
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        def inline(t: str) -> str:
            import re

            t = html.escape(t)
            t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
            t = re.sub(r"\*(.+?)\*", r"<i>\1</i>", t)
            return re.sub(r"`(.+?)`", r"<code>\1</code>", t)

        out = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>{html.escape(title)}</title><style>",
            "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}",
            "table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;",
            "padding:2px 6px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}",
            "img{max-width:100%}figure{margin:1em 0}figcaption{font-size:12px;color:#555}code{background:#f4f4f4}",
            "</style></head><body>",
        ]
        for kind, x in self.blocks:
            if kind == "h":
                out.append(f"<h{x[0]}>{inline(x[1])}</h{x[0]}>")
            elif kind == "p":
                out.append(f"<p>{inline(x)}</p>")
            elif kind == "ul":
                out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in x) + "</ul>")
            elif kind == "table":
                head, rows = x
                out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>")
                out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows]
                out.append("</table>")
            elif kind == "img":
                b64 = base64.b64encode(Path(x[0]).read_bytes()).decode()
                out.append(
                    f"<figure><img src='data:image/png;base64,{b64}' alt='{html.escape(x[1])}'>"
                    f"<figcaption>{inline(x[1])}</figcaption></figure>"
                )
        out.append("</body></html>")
        return "\n".join(out)
