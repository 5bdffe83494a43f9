"""spaCy pipeline: blank English, a sentencizer, and the `minutes_cues` rule component."""
from __future__ import annotations

from pathlib import Path

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans  # noqa: F401  (re-exported for rule authors)

from .rules import load_rules, vocabularies

CUES_KEY = "cues"


class CueMatcher:
    """Marks cue phrases (question, response, resolution, motion...) as labelled spans.

    Each span's `id_` is the name of the rule that matched, so every record can say
    which rule produced it.
    """

    def __init__(self, nlp: Language, pattern_files: list[str] | None = None):
        self.matcher = Matcher(nlp.vocab)
        paths = [Path(p) for p in pattern_files] if pattern_files else None
        self.labels: dict[str, str] = {}
        for rule in load_rules(paths):
            self.matcher.add(rule.id, [rule.pattern])
            self.labels[rule.id] = rule.label

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for match_id, start, end in self.matcher(doc):
            rule_id = doc.vocab.strings[match_id]
            spans.append(Span(doc, start, end, label=self.labels[rule_id], span_id=rule_id))
        doc.spans[CUES_KEY] = sorted(spans, key=lambda s: (s.start, -s.end))
        return doc


@Language.factory("minutes_cues", default_config={"pattern_files": None})
def make_cue_matcher(nlp: Language, name: str, pattern_files: list[str] | None) -> CueMatcher:
    return CueMatcher(nlp, pattern_files)


def build_nlp(pattern_files: list[str] | None = None) -> Language:
    """spacy.blank("en") + sentencizer + cue matcher; no trained model is needed."""
    import spacy

    nlp = spacy.blank("en")
    for abbreviation in vocabularies().get("abbreviations", []):
        for form in {abbreviation, abbreviation.upper(), abbreviation.capitalize()}:
            nlp.tokenizer.add_special_case(form, [{"ORTH": form}])
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("minutes_cues", config={"pattern_files": pattern_files})
    return nlp
