"""`minutes stats` (counts by committee, council, year or kind) and `minutes report` (a
self-contained HTML summary of a store).

The report holds: records per committee per year (chart and table), records by kind per
committee, the most-asked topics (questions grouped by the cosine similarity of their stored
embeddings: greedy, each question joins the first topic whose centroid is within
`TOPIC_THRESHOLD`, else starts one; by shared keywords when a store has no embeddings), and
the recommendations with their outcomes. Charts are drawn with matplotlib (`pip install
'minutes[report]'`), using `matplotlib.figure.Figure` (no pyplot, no global state) and
inlined as SVG with text as text. The page loads nothing: no scripts, fonts, stylesheets or
images from anywhere; every record's text is HTML-escaped (Jinja2 autoescape).
"""
from __future__ import annotations

import html
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from .errors import MinutesError
from .model import RECORD_KINDS, Record


STATS_BY = ("committee", "council", "year", "kind")
REPORT_MISSING = "The HTML report needs matplotlib: pip install 'minutes[report]'"
UNKNOWN = "(unknown)"
# Two questions are on the same topic when the cosine similarity of their embedded text
# (question, agenda item and answers) to the topic's centroid is at least this. On corpus/
# 0.6 groups the dentistry, GP, bus and fly-tipping questions asked at several meetings;
# 0.65 already splits the dentistry question asked again in June from January's.
TOPIC_THRESHOLD = 0.6
KEYWORD_THRESHOLD = 0.35  # Jaccard overlap of content words, without embeddings
TOP_TOPICS = 12
MAX_RECOMMENDATIONS = 500

_STOP = frozenset("""a about above after again against all also am an and any are as asked at be because been
before being below between both but by can could councillor councillors cllr cllrs did do does
doing down during each enquired few for from further had has have having he her here his how i
if in into is it its itself just may me member members more most mr mrs ms dr my no nor not of
off on once only or other our out over own queried raised same she should so some sought such
than that the their them then there these they this those through to too under until up very
was we were what when where whether which while who whom why will with would you your
question questions sought clarification asked noted requested regarding around whether
officer officers update""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]{2,}")


# --------------------------------------------------------------------------- stats


def _year(r: Record) -> Optional[str]:
    return r.meeting_date[:4] if r.meeting_date else None


def stats(records: Iterable[Record], by: str = "committee") -> dict[str, Any]:
    """Counts of records (total, and by kind) and documents per group.

    `by`: "committee" (a committee is named with its council: the same name at two councils
    is two committees), "council", "year" (of the meeting date) or "kind". Groups are sorted
    by records (year: by year; kind: question, response, recommendation, passage); an unknown
    value is None."""
    if by not in STATS_BY:
        raise MinutesError(f"unknown --by {by!r}: use one of {', '.join(STATS_BY)}")
    keys = {"committee": ("council", "committee"), "council": ("council",), "year": ("year",),
            "kind": ("kind",)}[by]
    kinds: dict[tuple, Counter] = defaultdict(Counter)
    docs: dict[tuple, set] = defaultdict(set)
    all_kinds: Counter = Counter()
    all_docs: set = set()
    for r in records:
        values = {"council": r.council, "committee": r.committee, "year": _year(r), "kind": r.kind}
        key = tuple(values[k] for k in keys)
        kinds[key][r.kind] += 1
        docs[key].add(r.document_sha256)
        all_kinds[r.kind] += 1
        all_docs.add(r.document_sha256)
    groups = []
    for key, counter in kinds.items():
        row: dict[str, Any] = dict(zip(keys, key))
        row["documents"] = len(docs[key])
        row["records"] = sum(counter.values())
        if by != "kind":
            row.update({k: counter.get(k, 0) for k in RECORD_KINDS})
        groups.append(row)
    if by == "year":
        groups.sort(key=lambda g: (g["year"] is None, g["year"] or ""))
    elif by == "kind":
        order = {k: i for i, k in enumerate(RECORD_KINDS)}
        groups.sort(key=lambda g: order.get(g["kind"], len(order)))
    else:
        groups.sort(key=lambda g: (-g["records"], *[(g[k] or "").lower() for k in keys]))
    total: dict[str, Any] = {"documents": len(all_docs), "records": sum(all_kinds.values())}
    if by != "kind":
        total.update({k: all_kinds.get(k, 0) for k in RECORD_KINDS})
    columns = [*keys, "documents", "records", *([] if by == "kind" else RECORD_KINDS)]
    return {"by": by, "columns": columns, "groups": groups, "total": total}


def format_stats(data: dict[str, Any]) -> str:
    """A plain-text table of `stats()` output, with a total row."""
    columns = data["columns"]
    rows = [[UNKNOWN if g[c] is None else str(g[c]) for c in columns] for g in data["groups"]]
    total = data["total"]
    label_cols = [c for c in columns if c not in total]
    rows.append(["total"] + [""] * (len(label_cols) - 1) + [str(total[c]) for c in columns[len(label_cols):]])
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    numeric = [c not in label_cols for c in columns]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.rjust(w) if num else cell.ljust(w)
                         for cell, w, num in zip(cells, widths, numeric)).rstrip()

    out = [line(columns), line(["-" * w for w in widths])]
    out += [line(r) for r in rows[:-1]]
    out += [line(["-" * w for w in widths]), line(rows[-1])]
    return "\n".join(out)


# --------------------------------------------------------------------------- topics


@dataclass
class Topic:
    """Questions on one matter: the most-asked topics of the report."""

    questions: list[Record] = field(default_factory=list)
    label: str = ""
    keywords: list[str] = field(default_factory=list)

    @property
    def meetings(self) -> int:
        return len({q.document_sha256 for q in self.questions})

    @property
    def committees(self) -> list[str]:
        return sorted({_committee_label(q) for q in self.questions})

    @property
    def dates(self) -> list[str]:
        return sorted({q.meeting_date for q in self.questions if q.meeting_date})


def _words(text: str) -> list[str]:
    return [w.lower().strip("'-") for w in _WORD.findall(text or "") if w.lower() not in _STOP]


def _content(r: Record) -> set[str]:
    speaker = set(_words(r.speaker or ""))
    return {w for w in _words(r.text) if w not in speaker}


def topics(questions: Sequence[Record], vectors: Optional[dict[str, Sequence[float]]] = None,
           threshold: Optional[float] = None) -> list[Topic]:
    """Group questions by similarity, biggest topic first.

    With `vectors` (record id -> embedding), greedy clustering on cosine similarity to each
    topic's centroid (`TOPIC_THRESHOLD`); questions without a vector, or all of them when
    `vectors` is None, are grouped by the Jaccard overlap of their content words
    (`KEYWORD_THRESHOLD`). Questions are taken in meeting order, so runs are repeatable."""
    ordered = sorted(questions, key=lambda q: (q.meeting_date or "9999", q.source or "", q.start, q.id))
    groups: list[list[Record]] = []
    with_vec = [q for q in ordered if vectors and q.id in vectors]
    if with_vec:
        import numpy as np

        t = TOPIC_THRESHOLD if threshold is None else threshold
        sums: list[Any] = []
        for q in with_vec:
            v = np.asarray(vectors[q.id], dtype=np.float64)  # type: ignore[index]
            n = np.linalg.norm(v)
            v = v / n if n else v
            best, best_sim = None, t
            for i, s in enumerate(sums):
                sim = float(np.dot(v, s) / (np.linalg.norm(s) or 1.0))
                if sim >= best_sim:
                    best, best_sim = i, sim
            if best is None:
                groups.append([q])
                sums.append(v.copy())
            else:
                groups[best].append(q)
                sums[best] = sums[best] + v
    rest = [q for q in ordered if not (vectors and q.id in vectors)]
    if rest:
        t = KEYWORD_THRESHOLD if threshold is None or with_vec else threshold
        bags: list[Counter] = []
        start = len(groups)
        for q in rest:
            words = _content(q)
            best, best_sim = None, t
            for i, bag in enumerate(bags):
                common = set(w for w, n in bag.items() if n * 2 >= len(groups[start + i]))
                union = words | common
                sim = len(words & common) / len(union) if union else 0.0
                if sim >= best_sim:
                    best, best_sim = i, sim
            if best is None:
                groups.append([q])
                bags.append(Counter(words))
            else:
                groups[start + best].append(q)
                bags[best].update(words)
    out = []
    for members in groups:
        counts: Counter = Counter()
        for q in members:
            counts.update(_content(q))
        keywords = [w for w, n in counts.most_common(6) if n > 1 or len(members) == 1][:4]
        items = Counter(_clean_item(q.agenda_item) for q in members if q.agenda_item)
        label = items.most_common(1)[0][0] if items else " ".join(keywords[:3]) or members[0].text[:60]
        out.append(Topic(members, label, keywords))
    out.sort(key=lambda tp: (-len(tp.questions), -tp.meetings, tp.label.lower()))
    return out


def _clean_item(item: Optional[str]) -> str:
    """An agenda item without its number: "3 Schedule of Works 2025" -> "Schedule of Works 2025"."""
    text = re.sub(r"^\s*(?:item\s+)?[\dA-Za-z]{0,3}[\d][\w.]*[.)]?\s+", "", item or "", flags=re.I)
    return (text or item or "").strip()


# --------------------------------------------------------------------------- charts


def _committee_label(r: Record) -> str:
    name = r.committee or UNKNOWN
    return f"{name} ({r.council})" if r.council else name


def _matplotlib():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise MinutesError(REPORT_MISSING) from None
    return matplotlib, Figure


_SVG_STRIP = (
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*"),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r'\s+xmlns(?::\w+)?="[^"]*"'),
)
PALETTE = ["#1f5f8b", "#e07b39", "#3a9a5b", "#b8434a", "#7a5aa6", "#8c6d46", "#c06aa8", "#6b6b6b",
           "#a8a23a", "#2aa3b5"]


def _svg(fig, salt: str, alt: str) -> str:
    """The figure as inline SVG markup for an HTML page: text kept as text (no glyph
    paths, no font files), unique ids per chart, no XML prolog, DOCTYPE, metadata or
    namespace declarations (HTML's parser supplies the SVG namespace), and a title."""
    matplotlib, _ = _matplotlib()
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    for pattern in _SVG_STRIP:
        text = pattern.sub("", text)
    text = re.sub(r"<svg\b", f'<svg role="img" aria-label="{html.escape(alt)}" class="chart"', text, count=1)
    return text


def _barh(series: dict[str, dict[str, int]], stacks: list[str], title: str, salt: str,
          xlabel: str = "records") -> str:
    """A horizontal stacked bar chart: one bar per key of `series`, one colour per stack."""
    _, Figure = _matplotlib()
    labels = list(series)
    height = 1.2 + 0.38 * max(1, len(labels))
    fig = Figure(figsize=(9, height), dpi=96)
    ax = fig.add_subplot()
    left = [0] * len(labels)
    ys = list(range(len(labels)))[::-1]
    for i, stack in enumerate(stacks):
        values = [series[lab].get(stack, 0) for lab in labels]
        if not any(values):
            continue
        ax.barh(ys, values, left=left, color=PALETTE[i % len(PALETTE)], label=stack, height=0.7)
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(ys, [lab if len(lab) <= 60 else lab[:57] + "…" for lab in labels], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    if len(stacks) > 1:
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    return _svg(fig, salt, title)


def _bar(counts: dict[str, int], title: str, salt: str, ylabel: str) -> str:
    _, Figure = _matplotlib()
    fig = Figure(figsize=(6, 3.2), dpi=96)
    ax = fig.add_subplot()
    names = list(counts)
    ax.bar(names, [counts[n] for n in names], color=[PALETTE[i % len(PALETTE)] for i in range(len(names))])
    for i, n in enumerate(names):
        ax.annotate(str(counts[n]), (i, counts[n]), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, salt, title)


def outcome_category(outcome: Optional[str]) -> str:
    """"carried 5-2" -> "carried"; None -> "not minuted"."""
    if not outcome:
        return "not minuted"
    return outcome.split()[0].lower()


# --------------------------------------------------------------------------- report


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="referrer" content="no-referrer">
<title>{{ title }}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
         max-width: 1100px; padding: 1.5rem; color: #1d2630; background: #fff; line-height: 1.45; }
  h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 2px solid #1f5f8b; padding-bottom: .2rem; }
  .meta { color: #5a6570; font-size: .9rem; }
  .cards { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
  .card { border: 1px solid #d5dbe1; border-radius: 6px; padding: .5rem .9rem; min-width: 7rem; }
  .card b { display: block; font-size: 1.4rem; }
  table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .5rem 0 1rem; }
  th, td { border-bottom: 1px solid #e3e7eb; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f3f5f7; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  svg.chart { max-width: 100%; height: auto; display: block; margin: .5rem 0; }
  .topic { border-left: 4px solid #1f5f8b; padding: .2rem .8rem; margin: .8rem 0; }
  .topic h3 { font-size: 1rem; margin: .2rem 0; }
  .topic ul { margin: .3rem 0; padding-left: 1.2rem; }
  .kw { color: #5a6570; font-size: .85rem; }
  .outcome { white-space: nowrap; font-weight: 600; }
  .outcome.agreed, .outcome.carried { color: #2b7a45; }
  .outcome.lost, .outcome.not { color: #b8434a; }
  .small { color: #5a6570; font-size: .8rem; }
  td.date { white-space: nowrap; }
</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p class="meta">Store: {{ store }}{% if dates.min %} · meetings {{ dates.min }} to {{ dates.max }}{% endif %}
 · generated {{ generated }} · rules {{ versions.rules or "?" }}, reader {{ versions.reader or "?" }}, model {{ versions.model or "?" }}</p>
</header>
<section class="cards" aria-label="totals">
  <div class="card"><b>{{ totals.documents }}</b>documents</div>
  <div class="card"><b>{{ totals.records }}</b>records</div>
  {% for k in kinds %}<div class="card"><b>{{ totals[k] }}</b>{{ k }}s</div>{% endfor %}
</section>

<section id="committees">
<h2>Records per committee per year</h2>
{{ charts.committee_year | safe }}
<table>
<thead><tr><th>Committee</th>{% for y in years %}<th class="n">{{ y }}</th>{% endfor %}<th class="n">total</th></tr></thead>
<tbody>
{% for name, row in committee_year.items() %}<tr><td>{{ name }}</td>{% for y in years %}<td class="n">{{ row.get(y, 0) }}</td>{% endfor %}<td class="n">{{ row.values() | sum }}</td></tr>
{% endfor %}</tbody>
</table>
{{ charts.committee_kind | safe }}
</section>

<section id="topics">
<h2>Most-asked topics</h2>
<p class="small">Questions grouped {{ topic_method }}; {{ questions }} questions in {{ topic_count }} topics. The {{ shown_topics | length }} largest:</p>
{% for t in shown_topics %}
<div class="topic">
  <h3>{{ t.label }} — asked {{ t.questions | length }} time{{ "s" if t.questions | length != 1 }}{% if t.meetings > 1 %} at {{ t.meetings }} meetings{% endif %}</h3>
  <div class="kw">{% if t.keywords %}keywords: {{ t.keywords | join(", ") }} · {% endif %}{{ t.committees | join("; ") }}{% if t.dates %} · {{ t.dates[0] }}{% if t.dates | length > 1 %} to {{ t.dates[-1] }}{% endif %}{% endif %}</div>
  <ul>{% for q in t.questions[:5] %}<li>{{ q.text }} <span class="small">({{ q.meeting_date or "undated" }}, {{ q.answer_status or "status unknown" }})</span></li>{% endfor %}
  {% if t.questions | length > 5 %}<li class="small">and {{ t.questions | length - 5 }} more</li>{% endif %}</ul>
</div>
{% else %}<p>No questions in this store.</p>
{% endfor %}
</section>

<section id="recommendations">
<h2>Recommendations and their outcomes</h2>
{{ charts.outcomes | safe }}
<table>
<thead><tr><th>Meeting</th><th>Committee</th><th>Agenda item</th><th>Recommendation</th><th>Outcome</th></tr></thead>
<tbody>
{% for r in recommendations %}<tr><td class="date">{{ r.meeting_date or "undated" }}</td><td>{{ r.committee or "" }}{% if r.council %}<br><span class="small">{{ r.council }}</span>{% endif %}</td><td>{{ r.agenda_item or "" }}</td><td>{{ r.text }}</td><td class="outcome {{ category(r.outcome) }}">{{ r.outcome or "not minuted" }}</td></tr>
{% endfor %}</tbody>
</table>
{% if more_recommendations %}<p class="small">and {{ more_recommendations }} more (the latest {{ recommendations | length }} are shown; <code>minutes export --kind recommendation</code> lists all).</p>{% endif %}
</section>
<footer class="small"><p>Made by <code>minutes report</code>. Every count comes from the store's records; sources are cited in <code>minutes export</code>.</p></footer>
</body>
</html>
"""


def build_report(records: Sequence[Record], *, vectors: Optional[dict[str, Sequence[float]]] = None,
                 store: str = "", versions: Optional[dict[str, Any]] = None,
                 title: Optional[str] = None, generated: Optional[str] = None) -> str:
    """The report's HTML for `records` (and the question embeddings in `vectors`)."""
    _matplotlib()
    from jinja2 import Environment

    records = list(records)
    totals = stats(records, by="kind")["total"]
    totals.update({k: sum(1 for r in records if r.kind == k) for k in RECORD_KINDS})
    years = sorted({_year(r) or "undated" for r in records}, key=lambda y: (y == "undated", y))
    committee_year: dict[str, Counter] = defaultdict(Counter)
    committee_kind: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        committee_year[_committee_label(r)][_year(r) or "undated"] += 1
        committee_kind[_committee_label(r)][r.kind] += 1
    order = sorted(committee_year, key=lambda c: (-sum(committee_year[c].values()), c.lower()))
    committee_year = {c: dict(committee_year[c]) for c in order}
    committee_kind_d = {c: dict(committee_kind[c]) for c in order}

    questions = [r for r in records if r.kind == "question"]
    found = topics(questions, vectors)
    recs = sorted((r for r in records if r.kind == "recommendation"),
                  key=lambda r: (r.meeting_date or "", r.source or "", r.start), reverse=True)
    outcome_counts = Counter(outcome_category(r.outcome) for r in recs)

    charts = {
        "committee_year": _barh(committee_year, years, "Records per committee, by year of meeting", "cy") if records else "",
        "committee_kind": _barh(committee_kind_d, list(RECORD_KINDS), "Records per committee, by kind", "ck") if records else "",
        "outcomes": _bar(dict(outcome_counts.most_common()), "Recommendations by outcome", "oc", "recommendations") if recs else "",
    }
    env = Environment(autoescape=True)
    page = env.from_string(TEMPLATE).render(
        title=title or "Committee minutes: what was asked, answered and agreed",
        store=store, generated=generated or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        versions=versions or {}, dates={"min": min((r.meeting_date for r in records if r.meeting_date), default=None),
                                        "max": max((r.meeting_date for r in records if r.meeting_date), default=None)},
        totals=totals, kinds=RECORD_KINDS, years=years, committee_year=committee_year, charts=charts,
        questions=len(questions), topic_count=len(found), shown_topics=[t for t in found if len(t.questions) > 1][:TOP_TOPICS] or found[:TOP_TOPICS],
        topic_method=("by the similarity of their embeddings" if questions and vectors
                      and any(q.id in vectors for q in questions) else "by shared keywords"),
        recommendations=recs[:MAX_RECOMMENDATIONS], more_recommendations=max(0, len(recs) - MAX_RECOMMENDATIONS),
        category=lambda o: outcome_category(o).split()[0],
    )
    return page


def write_report(path: Path, records: list[Record], *, vectors: Optional[dict] = None, rows: Iterable = (),
                 store: str = "", model: Optional[str] = None, title: Optional[str] = None) -> Path:
    """Build the report from a store's records (with question vectors and manifest rows)
    and write it to `path` (atomically)."""
    _matplotlib()
    rows = list(rows)
    versions = {}
    for key, attr in (("rules", "rules_version"), ("reader", "reader_version"), ("model", "model")):
        seen = Counter(getattr(r, attr) for r in rows)
        versions[key] = ", ".join(v for v, _ in seen.most_common()) or None
    versions["model"] = versions["model"] or model
    where = store
    page = build_report(records, vectors=vectors or {}, store=where, versions=versions, title=title)
    path = Path(path)
    if not path.parent.exists():
        raise MinutesError(f"cannot write {path}: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.partial")
    try:
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise MinutesError(f"cannot write {path}: {exc}") from exc
    return path
