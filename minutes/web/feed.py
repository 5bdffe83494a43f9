"""An Atom feed (RFC 4287) of a search: each entry a record, newest paper first, `updated`
when its paper entered the store, so a feed reader shows what the nightly sync added."""
from __future__ import annotations

import re
from typing import Optional
from xml.etree import ElementTree as ET

from minutes.model import Hit

ATOM = "http://www.w3.org/2005/Atom"
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # e.g. a PDF's form feed
KIND_WORDS = {"question": "Question", "response": "Answer", "recommendation": "Decision", "passage": "Passage"}


def atom(hits: list[Hit], *, title: str, self_url: str, site_url: str, base: str,
         ingested: dict[str, str], generated: str) -> bytes:
    """The feed's XML. `ingested`: document sha256 -> when it was ingested (ISO);
    `base`: the site's root URL, for entry links."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", title)
    _text(feed, "id", self_url)
    stamps = [ingested.get(h.record.document_sha256) or generated for h in hits]
    _text(feed, "updated", max(stamps) if stamps else generated)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url, type="application/atom+xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=site_url, type="text/html")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "minutes")
    _text(feed, "generator", "minutes")
    for hit, stamp in sorted(zip(hits, stamps), key=lambda p: (p[1], p[0].record.meeting_date or ""), reverse=True):
        r = hit.record
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        where = " · ".join(x for x in (r.committee, r.council, r.meeting_date) if x)
        head = f"{KIND_WORDS.get(r.kind, r.kind)}{': ' + r.speaker if r.speaker else ''}"
        _text(entry, "title", f"{head} ({where})" if where else head)
        _text(entry, "id", f"{base}/record/{r.id}")
        _text(entry, "updated", stamp)
        if r.meeting_date:
            _text(entry, "published", f"{r.meeting_date}T00:00:00Z")
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=f"{base}/record/{r.id}")
        if r.url:
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", type="text/html", href=r.url)
        lines = [r.text] + [f"Answer{': ' + a.speaker if a.speaker else ''}: {a.text}" for a in hit.responses]
        if r.outcome:
            lines.append(f"Outcome: {r.outcome}")
        if r.agenda_item:
            lines.insert(0, f"Item: {r.agenda_item}")
        _text(entry, "summary", "\n\n".join(lines))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _text(parent: ET.Element, name: str, value: Optional[str]) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{name}").text = NOT_XML.sub(" ", value or "")


__all__ = ["atom"]
