"""spaCy pipeline: blank English, a sentencizer, and the `minutes_cues` rule component."""
from __future__ import annotations

from pathlib import Path

import itertools

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from .lexicon import lexicon
from .rules import Rule, load_rules

CUES_KEY = "cues"
MAX_PHRASES = 5000


def literal_phrases(rule: Rule) -> tuple[str, list[list[str]]] | None:
    """A rule made only of literal words (LOWER/ORTH, optionally "?") as the word sequences
    it matches, so a PhraseMatcher can find them by hash lookup; None if it needs the Matcher."""
    attrs, options = set(), []
    for spec in rule.pattern:
        keys = set(spec) - {"OP"}
        if len(keys) != 1 or spec.get("OP") not in (None, "?"):
            return None
        attr = keys.pop()
        value = spec[attr]
        if attr not in ("LOWER", "ORTH"):
            return None
        if isinstance(value, str):
            words = [value]
        elif isinstance(value, dict) and set(value) == {"IN"}:
            words = list(value["IN"])
        else:
            return None
        attrs.add(attr)
        options.append(words + ([None] if spec.get("OP") == "?" else []))
    if len(attrs) != 1:
        return None
    phrases = []
    for combo in itertools.product(*options):
        words = [w for w in combo if w is not None]
        if words:
            phrases.append(words)
        if len(phrases) > MAX_PHRASES:
            return None
    return attrs.pop(), phrases


class CueMatcher:
    """Marks cue phrases (question, response, resolution, motion...) as labelled spans.

    Each span's `id_` is the name of the rule that matched, so every record can say
    which rule produced it.
    """

    def __init__(self, nlp: Language, pattern_files: list[str] | None = None):
        self.matcher = Matcher(nlp.vocab)
        self.phrases = {"LOWER": PhraseMatcher(nlp.vocab, attr="LOWER"),
                        "ORTH": PhraseMatcher(nlp.vocab, attr="ORTH")}
        paths = [Path(p) for p in pattern_files] if pattern_files else None
        self.labels: dict[str, str] = {}
        self.rules: dict[str, Rule] = {}
        for rule in load_rules(paths):
            self.labels[rule.id] = rule.label
            self.rules[rule.id] = rule
            literal = literal_phrases(rule)
            if literal is None:
                self.matcher.add(rule.id, [rule.pattern])
                continue
            attr, phrases = literal
            docs = [Doc(nlp.vocab, words=words) for words in phrases]
            self.phrases[attr].add(rule.id, docs)

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        matches = list(self.matcher(doc))
        for phrase_matcher in self.phrases.values():
            if len(phrase_matcher):
                matches.extend(phrase_matcher(doc))
        for match_id, start, end in matches:
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
    for abbreviation in lexicon()["abbreviations"]:
        for form in {abbreviation, abbreviation.upper(), abbreviation.capitalize()}:
            nlp.tokenizer.add_special_case(form, [{"ORTH": form}])
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("minutes_cues", config={"pattern_files": pattern_files})
    return nlp
