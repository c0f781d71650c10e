"""Markup for article bodies: body elements -> HTML in each site's habits.

Part of the offline mirror.  The page templates call :func:`render_body`; the
``rng`` (seeded per article) only decides *cosmetic* noise that a correct
extractor must see through: ``&nbsp;`` runs, raw newlines, inline ``<strong>`` /
``<em>`` / ``<a>``, decomposed (NFD) text, justify styles.  No choice made here
changes the text a paragraph stands for.

Figure layouts:

``ct-table``  old Cần Thơ: ``<p><table>…<img>…<p>caption</p>…</table>tail…</p>``; an
              HTML5 parser closes the outer ``<p>`` at ``<table>``, so ``tail`` ends up
              as a bare text node after the table (and ``</p>`` makes an empty ``<p>``)
``note``      newer VDOC: ``<p class="note ignore"><img><br>caption</p>``
``hue-table`` Huế old site: ``<table class="image">`` with the caption in ``td.image_desc``
``figure``    Huế ngày nay (DNN): ``<figure><img><figcaption>caption</figcaption></figure>``
``wp-caption`` Mediatech: ``<div class="wp-caption"><img><p class="wp-caption-text"><span>caption``
``jp-table``  the Java platform: a table, the image in one row, the caption ``<p><span>`` in the next

An article of an older era served under its DotNetNuke URL keeps the markup of its body
(the CMS migrated the stored HTML), so any layout can meet any page template.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterable
from html import escape

from crawler.mirror.spec import DataTable, Element, Figure, Heading, ItemList, Noise, Para, Template


def esc(text: str) -> str:
    """Escape a text node."""
    return escape(text, quote=False)


def attr(text: str) -> str:
    """Escape an attribute value (for use inside double quotes)."""
    return escape(text, quote=True)


def _decorate(text: str, style: str, rng: random.Random) -> str:
    """One line of a paragraph as markup; the text content (modulo white space) is ``text``."""
    if style == "nfd":
        return esc(unicodedata.normalize("NFD", text))
    words = text.split(" ")
    if style == "nbsp" and len(words) > 3:
        spots = set(rng.sample(range(1, len(words)), min(3, len(words) - 1)))
        out = esc(words[0])
        for n, word in enumerate(words[1:], 1):
            out += ("&nbsp;" * rng.randint(1, 3) + " " if n in spots else " ") + esc(word)
        return out + "&nbsp;"
    if style == "newline" and len(words) > 6:
        cut = rng.randrange(2, len(words) - 2)
        return esc(" ".join(words[:cut])) + "\n" + esc(" ".join(words[cut:]))
    if style == "inline" and len(words) > 6:
        start = rng.randrange(0, len(words) - 4)
        end = start + rng.randint(1, 3)
        tag = rng.choice(("strong", "em", "a"))
        inner = esc(" ".join(words[start:end]))
        inner = f'<a href="https://www.google.com/search?q={attr(inner)}">{inner}</a>' if tag == "a" else (
            f"<{tag}>{inner}</{tag}>")
        head = esc(" ".join(words[:start]))
        tail = esc(" ".join(words[end:]))
        return (head + " " if head else "") + inner + (" " + tail if tail else "")
    return esc(text)


def _para(el: Para, rng: random.Random) -> str:
    open_tag = '<p style="text-align: justify;">' if rng.random() < 0.3 else "<p>"
    return open_tag + "<br>\n".join(_decorate(line, el.style, rng) for line in el.lines) + "</p>"


def _figure(el: Figure, title_raw: str) -> str:
    cap = esc(el.caption) if el.caption is not None else None
    alt = attr(el.caption or "")
    if el.layout == "ct-table":
        cap_row = (
            '<tr>\n<td><span style="font-size: 8pt; font-family: Arial; color: blue;">\n'
            f'<p dir="ltr" align="center">{cap}</p></span></td></tr>'
            if cap is not None else ""
        )
        return (
            '<p>\n<table width="2" align="right" border="0">\n<tbody>\n<tr>\n'
            f'<td><img title="{attr(title_raw)}" class="zoomimg" alt="" src="{attr(el.image)}"></td></tr>\n'
            f"{cap_row}</tbody></table>{esc(el.tail or '')}</p>"
        )
    if el.layout == "note":
        img = f'<img class="zoomimg" src="{attr(el.image)}" alt="{alt}">'
        return f'<p class="note ignore">{img}<br>{cap}</p>' if cap is not None else f'<p class="note ignore">{img}</p>'
    if el.layout == "hue-table":
        cap_row = f'<tr><td class="image_desc">{cap}</td></tr>' if cap is not None else ""
        return (
            '<table class="image center" align="center" border="0" cellpadding="3" cellspacing="0"><tbody>'
            f'<tr><td><img src="{attr(el.image)}" alt="{alt}" width="640"></td></tr>{cap_row}</tbody></table>'
        )
    if el.layout == "wp-caption":  # Mediatech (baotayninh 88701): WordPress-style caption box
        text = f'<p class="wp-caption-text"><span>{cap}</span></p>' if cap is not None else ""
        return (f'<div class="wp-caption aligncenter"><img class="" src="{attr(el.image)}" alt="" width="599" '
                f'height="399" srcset="" sizes="">{text}</div>')
    if el.layout == "jp-table":  # the Java platform's migrated bodies (phuyen 64112): image row, caption row
        cap_row = ('<tr><td> <p style="TEXT-ALIGN: justify; MARGIN: 0in 0in 10pt" class="MsoNormal"><span style="'
                   f'FONT-FAMILY: Tahoma; COLOR: blue; FONT-SIZE: 10pt">{cap}\n<o:p></o:p></span></p></td></tr>'
                   if cap is not None else "")
        return ('<table style="WIDTH: 22.23%" border="0" cellspacing="1" cellpadding="1" align="center"><tbody>'
                f'<tr><td><img border="0" alt="" align="center" src="{attr(el.image)}" width="360"></td></tr>'
                f"{cap_row}</tbody></table>")
    figcap = f"<figcaption>{cap}</figcaption>" if cap is not None else ""
    return f'<figure class="img-wrap"><img src="{attr(el.image)}" alt="{alt}" loading="lazy">{figcap}</figure>'


def _noise(el: Noise, template: Template) -> str:
    if el.kind == "ad":
        host = {"baoangiang": "baoangiang.com.vn", "baocantho": "baocantho.com.vn"}.get(template, "baothuathienhue.vn")
        return f'<div class="AMN_res_{host}_mid"></div>'
    if el.kind == "comment":
        return "<!-- <p>Bản nháp: đoạn này đã được biên tập viên lược bỏ.</p> -->"
    if el.kind == "script":
        return '<script type="text/javascript">var adLabel = "Quảng cáo"; /* Nội dung tài trợ */</script>'
    return "<p>&nbsp;</p>"


def render_element(el: Element, template: Template, rng: random.Random, title_raw: str) -> str:
    if isinstance(el, Para):
        return _para(el, rng)
    if isinstance(el, Heading):
        if el.style == "strong":
            return f"<p><strong>{esc(el.text)}</strong></p>"
        return f"<{el.style}>{esc(el.text)}</{el.style}>"
    if isinstance(el, ItemList):
        return "<ul>\n" + "\n".join(f"<li>{esc(item)}</li>" for item in el.items) + "\n</ul>"
    if isinstance(el, Figure):
        return _figure(el, title_raw)
    if isinstance(el, DataTable):
        rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in el.rows)
        return f'<table class="table" border="1" cellpadding="4"><tbody>{rows}</tbody></table>'
    return _noise(el, template)


def render_body(elements: Iterable[Element], template: Template, rng: random.Random, title_raw: str) -> str:
    """The body elements as markup, one element per line."""
    return "\n".join(render_element(el, template, rng, title_raw) for el in elements)


def render_byline(lines: tuple[str, ...], template: Template) -> str:
    """The byline paragraph in the site's habit (empty string for no byline)."""
    if not lines:
        return ""
    inner = "<br>".join(esc(line) for line in lines)
    if template == "baocantho":
        return f'<p align="right">{inner}</p>'
    if template == "baoangiang":
        return f'<p class="author ignore">{inner}</p>'
    if template in ("hue-a", "hue-vdoc"):
        return f'<p align="right"><strong>{inner}</strong></p>'
    return f'<p style="text-align: right;"><em>{inner}</em></p>'
