"""``crawler report``: the archive's health as one self-contained HTML file with charts.

Where it sits: the figures come from :mod:`crawler.use.health`; this module turns them into
Vega-Lite specifications and HTML.  Vega, Vega-Lite and vega-embed are vendored in the package
(``crawler/data/vega/``, from the npm registry; versions and licences in its README.md) and
inlined in the file, so it opens without a network (docs/decisions/0012-reading-and-reports.md).
Every chart is a ``<div class="chart" id="chart-<source>-<kind>">`` that vega-embed fills with
an SVG when the page loads.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from crawler.terminal import plural
from crawler.use.health import Health, SourceHealth

VEGA_FILES = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
CHART_KINDS = ("daily", "runs", "templates", "published", "rules")
WIDTH = 640


@cache
def vega_scripts() -> str:
    """The vendored libraries as inline ``<script>`` elements."""
    parts = []
    for name in VEGA_FILES:
        code = resources.files("crawler").joinpath("data", "vega", name).read_text(encoding="utf-8")
        if re.search(r"</script", code, re.IGNORECASE):  # would end the element early
            raise AssertionError(f"{name} contains '</script'")
        parts.append(f"<script>/* {name} */\n{code}\n</script>")
    return "\n".join(parts)


def _json(value: object) -> str:
    """JSON safe inside an HTML ``<script>`` element (no ``</script>`` or ``<!--`` can appear) and valid for
    ``JSON.parse`` (a NaN or infinity from a damaged run file becomes null: that point is not drawn)."""
    return json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False).replace(
        "<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def id_part(key: str) -> str:
    """A source key from the archive as part of an element id: only ``[A-Za-z0-9_-]`` (others as ``.XX.``),
    so it is the same text in HTML, in a URL fragment and in a CSS selector; configured keys are unchanged."""
    return re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}.", key)


Window = tuple[int, int]  # the charts' time axis: first day 00:00 and the day after the last, ms since 1970 (UTC)


def window(health: Health) -> Window:
    start = datetime.fromisoformat(health.since).replace(tzinfo=UTC)
    end = start + timedelta(days=health.days)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _day(span: Window, field: str = "day", title: str = "day (UTC)") -> dict[str, Any]:
    """A time axis of days over the whole window: days without data show as gaps."""
    return {"field": field, "type": "temporal", "timeUnit": "utcyearmonthdate", "title": title,
            "scale": {"domain": list(span)}, "axis": {"format": "%d %b", "labelAngle": 0}}


def _time(span: Window, field: str = "started", title: str = "run started (UTC)") -> dict[str, Any]:
    return {"field": field, "type": "temporal", "title": title, "scale": {"domain": list(span)},
            "axis": {"format": "%d %b", "labelAngle": 0}}


_COUNT_AXIS = {"tickMinStep": 1, "format": "d"}


def _share(span: Window, values: list[dict[str, Any]], color: str, title: str, *,
           facet: str | None = None) -> dict[str, Any]:
    """A stacked bar per day normalised to 100 %: the share of pages of each ``color`` value."""
    spec: dict[str, Any] = {
        "data": {"values": values},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": _day(span),
            "y": {"aggregate": "sum", "field": "pages", "type": "quantitative", "stack": "normalize",
                  "title": "share of pages", "axis": {"format": "%"}},
            "color": {"field": color, "type": "nominal", "title": title,
                      "legend": {"orient": "bottom", "columns": 1, "labelLimit": 600}},
        },
        "width": WIDTH, "height": 70 if facet else 140,
    }
    if facet:
        spec["encoding"]["row"] = {"field": facet, "type": "nominal", "title": None,
                                   "header": {"labelAngle": 0, "labelAlign": "left"}}
        spec["resolve"] = {"scale": {"color": "independent"}}
    return spec


def shown_path(archive: str, cwd: Path | None = None) -> str:
    """The archive as the report shows it: relative to the current directory when inside it, else its name
    only, so a report passed around does not show the machine's scratch or home paths."""
    path = Path(archive)
    try:
        return path.resolve().relative_to((cwd or Path.cwd()).resolve()).as_posix() or "."
    except (ValueError, OSError):
        return path.name or str(path)


def listed(health: Health) -> list[SourceHealth]:
    """The sources the report shows: those the archive holds something of, configured or not."""
    return [s for s in health.sources if s.has_data]


def _by_month(source: SourceHealth) -> dict[str, Any]:
    """Template shares by publication month: old articles in an old layout are early months, not a redesign."""
    months = sorted({str(r["month"]) for r in source.templates_published})
    return {
        "data": {"values": source.templates_published},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "title": "month of publication", "sort": months,
                  "axis": {"labelAngle": -45 if len(months) > 12 else 0}},
            "y": {"aggregate": "sum", "field": "pages", "type": "quantitative", "stack": "normalize",
                  "title": "share of articles", "axis": {"format": "%"}},
            "color": {"field": "template", "type": "nominal", "title": "adapter template",
                      "legend": {"orient": "bottom", "columns": 1, "labelLimit": 600}},
        },
        "width": WIDTH, "height": 120,
    }


def specs(source: SourceHealth, span: Window) -> dict[str, dict[str, Any]]:
    """The Vega-Lite specification of each chart of ``source``, by kind."""
    runs = [{"started": r.started, "kind": kind, "count": count}
            for r in source.runs for kind, count in (("failed URLs", r.failed),
                                                     ("extraction failures", r.extraction_failures))]
    return {
        "daily": {
            "data": {"values": source.per_day},
            "transform": [{"fold": ["new", "changed"], "as": ["kind", "articles"]}],
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {"x": _day(span),
                         "y": {"field": "articles", "type": "quantitative", "title": "articles archived",
                               "axis": _COUNT_AXIS},
                         "color": {"field": "kind", "type": "nominal", "title": None,
                                   "scale": {"domain": ["new", "changed"], "range": ["#4c78a8", "#f58518"]}}},
            "width": WIDTH, "height": 140,
        },
        "runs": {
            "data": {"values": runs},
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {"x": _time(span),
                         "y": {"field": "count", "type": "quantitative", "title": "per run", "axis": _COUNT_AXIS},
                         "color": {"field": "kind", "type": "nominal", "title": None,
                                   "scale": {"domain": ["failed URLs", "extraction failures"],
                                             "range": ["#e45756", "#b279a2"]}}},
            "width": WIDTH, "height": 120,
        },
        "templates": _share(span, source.templates, "template", "adapter template"),
        "published": _by_month(source),
        "rules": _share(span, source.rules, "rule", "extraction rule", facet="field"),
    }


def durations_spec(health: Health) -> dict[str, Any]:
    values = [{"started": r.started, "seconds": r.seconds, "exit": str(r.exit_code)} for r in health.runs]
    return {
        "data": {"values": values},
        "mark": {"type": "point", "filled": True, "tooltip": True},
        "encoding": {"x": _time(window(health)),
                     "y": {"field": "seconds", "type": "quantitative", "title": "duration (s)"},
                     "color": {"field": "exit", "type": "nominal", "title": "exit code"}},
        "width": WIDTH, "height": 120,
    }


def _chart(chart_id: str, spec: dict[str, Any], title: str, note: str = "") -> str:
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return (f'<figure><figcaption>{html.escape(title)}</figcaption>{note_html}'
            f'<div class="chart" id="{html.escape(chart_id)}"></div>'
            f'<script type="application/json" class="spec" data-target="{html.escape(chart_id)}">{_json(spec)}'
            f'</script></figure>')


def _source_section(source: SourceHealth, health: Health) -> str:
    e = html.escape
    charts = specs(source, window(health))
    last = source.last_article
    last_html = (f'<a href="{e(last["url"])}">{e(last["title"])}</a> — archived {e(last["fetched_at"][:19])} UTC, '
                 f'published {e(last["published"][:16])}' if last else "none yet")
    since_7 = source.archived_since((datetime.fromisoformat(health.generated) - timedelta(days=6)).date().isoformat())
    rows = "".join(f"<tr><td><a href=\"{e(f.url)}\">{e(f.url)}</a></td><td>{f.attempts}</td>"
                   f"<td>{e(f.next_try or '')}</td><td>{e(f.last_error or '')}</td></tr>" for f in source.failed)
    more = f" (the first {len(source.failed)} listed)" if source.failed_count > len(source.failed) else ""
    failed_html = (f"<details><summary>{plural(source.failed_count, 'permanently failed URL')}{more}</summary>"
                   f"<table><tr><th>URL</th><th>attempts</th><th>next try</th><th>last error</th></tr>{rows}"
                   f"</table></details>") if source.failed_count else "<p>No permanently failed URL.</p>"
    days = f"the last {health.days} days"
    return f"""
<section class="source" id="source-{e(id_part(source.key))}">
<h2>{e(source.name)} <small>({e(source.key)})</small></h2>
<ul class="figures">
<li><b>{plural(source.articles, "article")}</b> ({plural(source.versions, "snapshot version")})</li>
<li><b>{plural(since_7, "new article")}</b> in the last 7 days</li>
<li>last successful article: {last_html}</li>
<li>frontier: <b>{source.frontier_waiting}</b> discovered, not yet fetched; <b>{source.frontier_retrying}</b> to retry
next run; <b>{source.failed_count}</b> permanently failed (retried on a slow schedule)</li>
</ul>
{_chart(f"chart-{id_part(source.key)}-daily", charts["daily"], f"Articles archived per day, {days}",
        "" if source.per_day else "No article archived in this window.")}
{_chart(f"chart-{id_part(source.key)}-runs", charts["runs"], "Failed URLs and extraction failures per run",
        "" if source.runs else "No run in this window.")}
{_chart(f"chart-{id_part(source.key)}-templates", charts["templates"],
        "Share of pages per adapter template, by capture day",
        "A template that takes over from one capture day to the next is the first sign of a site redesign. "
        "A steady mix is not: see the next chart for which articles each template reads.")}
{_chart(f"chart-{id_part(source.key)}-published", charts["published"],
        "Share of articles per adapter template, by publication month (every archived article)",
        "Old articles kept in an older layout (a site that changed CMS but kept its archive) show as early "
        "months in another template: not a redesign (an old article read at its new address shows in the new "
        "template). A redesign shows as the newest months changing template, and in the chart above."
        if source.templates_published else "No article archived.")}
{_chart(f"chart-{id_part(source.key)}-rules", charts["rules"], "Share of pages per extraction rule, per field",
        "A shift from a field's primary rule to fallbacks comes before extraction failures.")}
{failed_html}
</section>"""


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1000px;color:#222;
padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #4c78a8;padding-bottom:.2em;margin-top:2em}
small{color:#666;font-weight:normal}figure{margin:1.2em 0}figcaption{font-weight:600;margin-bottom:.3em}
.note{color:#666;margin:.2em 0;font-size:.9em}table{border-collapse:collapse;font-size:.85em}
td,th{border:1px solid #ddd;padding:.2em .4em;text-align:left;vertical-align:top}
td{word-break:break-all}nav a{margin-right:1em}.figures li{margin:.2em 0}
#summary td{word-break:normal}#summary td.n{text-align:right}#summary tr.total td{font-weight:600}
.chart{max-width:100%;overflow-x:auto}
"""


def _when(value: str | None, length: int) -> str:
    return html.escape(value[:length].replace("T", " ")) if value else "—"


def _shares(source: SourceHealth) -> str:
    shares = source.template_shares()
    total = sum(shares.values())
    return ", ".join(f"{html.escape(name)} {100 * pages / total:.0f}%" for name, pages in shares.items()) or "—"


def summary(health: Health) -> str:
    """The top of the report: one row per listed source and a total, then the sources without data."""
    e = html.escape
    shown = listed(health)
    rows = "".join(
        f'<tr><td><a href="#source-{e(id_part(s.key))}">{e(s.name)}</a></td><td class="n">{s.articles:,}</td>'
        f'<td class="n">{s.failed_count:,}</td><td class="n">{s.frontier_retrying:,}</td>'
        f"<td>{_when(s.newest_published, 16)}</td><td>{_when(s.newest_fetched, 16)}</td><td>{_shares(s)}</td></tr>"
        for s in shown)
    total = (f'<tr class="total"><td>{plural(len(shown), "paper")}</td>'
             f'<td class="n">{sum(s.articles for s in shown):,}</td>'
             f'<td class="n">{sum(s.failed_count for s in shown):,}</td>'
             f'<td class="n">{sum(s.frontier_retrying for s in shown):,}</td>'
             f"<td>{_when(max((s.newest_published or '' for s in shown), default=None), 16)}</td>"
             f"<td>{_when(max((s.newest_fetched or '' for s in shown), default=None), 16)}</td><td></td></tr>")
    empty = [s for s in health.sources if not s.has_data]
    empty_html = (f'<p class="note">{plural(len(empty), "configured source")} with nothing in this archive (not '
                  f"listed): {e(', '.join(s.key for s in empty))}.</p>") if empty else ""
    return (f'<section id="summary"><h2>Summary</h2>'
            f"<table><tr><th>paper</th><th>articles</th><th>failed</th><th>to retry</th>"
            f"<th>newest publication (local time)</th><th>newest capture (UTC)</th>"
            f"<th>templates (latest version of every article)</th></tr>{rows}{total}</table>{empty_html}</section>")


def render(health: Health) -> str:
    """The whole report as one HTML document (UTF-8, no external resource)."""
    e = html.escape
    shown = listed(health)
    nav = " ".join(f'<a href="#source-{e(id_part(s.key))}">{e(s.name)}</a>' for s in shown)
    runs = health.runs
    failed_runs = sum(1 for r in runs if r.exit_code not in (0, None))
    unreadable = "".join(f"<li>{e(u)}</li>" for u in health.unreadable_runs)
    unreadable_html = f"<p>Run files that could not be read:</p><ul>{unreadable}</ul>" if unreadable else ""
    sections = "".join(_source_section(s, health) for s in shown)
    archive = shown_path(health.archive)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Archive report: {e(archive)}</title>
<style>{CSS}</style>
{vega_scripts()}
</head><body>
<h1>Archive report</h1>
<p>Archive <code>{e(archive)}</code>, generated {e(health.generated)}; charts cover {plural(health.days, "day")} from
{e(health.since)} (UTC).</p>
<nav>{nav}</nav>
{summary(health)}
<section id="runs"><h2>Runs</h2>
<p>{plural(len(runs), "run")} in the window, {failed_runs} ended with a non-zero exit code.</p>
{_chart("chart-runs-durations", durations_spec(health), "Run durations", "" if runs else "No run in this window.")}
{unreadable_html}
</section>
{sections}
<script>
(function () {{
  var specs = document.querySelectorAll("script.spec");
  specs.forEach(function (element) {{
    var target = document.getElementById(element.dataset.target);
    try {{  // one bad chart must not stop the others
      vegaEmbed(target, JSON.parse(element.textContent), {{mode: "vega-lite", renderer: "svg", actions: false}})
        .catch(function (error) {{ target.textContent = "chart error: " + error; }});
    }} catch (error) {{ target.textContent = "chart error: " + error; }}
  }});
}})();
</script>
</body></html>
"""
