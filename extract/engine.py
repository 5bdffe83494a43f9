"""The record builder: walks a document's blocks and sentences, reading the cue spans the
`minutes_cues` component marked, and turns them into question, response and recommendation
records with their links.

Rules of the genre (see ANNOTATION.md) that live here rather than in patterns:
- who speaks: members ask and comment, officers answer; impersonal voice continues;
- where a record ends: the next question, a new speaker's answer, a new paragraph;
- what a list means: after "RESOLVED that:" its items are resolutions, after "In response
  to questions it was said:" its items are answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from minutes.model import Document, Section

from .blocks import Block
from .lexicon import Lexicon, lexicon
from .rules import ATTRIBUTES
from .speakers import people_of, resolve_speaker

Q_LABELS = {"QUESTION", "WRITTEN_QUESTION"}
R_STRONG = {"RESPONSE"}
R_WEAK = {"RESPONSE_WEAK"}
R_UNDERTAKING = {"UNDERTAKING"}
R_ANY = R_STRONG | R_WEAK | R_UNDERTAKING

class Vocab:
    """The lexicon's lists as the engine uses them: sets, and patterns compiled once."""

    def __init__(self, lx: Lexicon):
        self.honorifics = lx.set("honorifics") | lx.set("determiners")
        self.pronouns = lx.set("pronouns")
        self.personal_pronouns = lx.set("personal_pronouns")
        self.expletives = lx.set("expletives")
        self.member_titles = lx.set("member_titles")
        self.role_words = lx.set("role_words")
        self.answerer_titles = lx["answerer_titles"]
        self.list_intros = tuple(t.lower() for t in lx["response_list_intros"])
        self.procedural = tuple(t.lower() for t in lx["procedural_questions"])
        self.exclude_set = lx.set("exclude_headings")
        alternatives = lx.alternation("exclude_headings")
        self.exclude_inline = re.compile(rf"(?:{alternatives})\s*[:–—-]")
        self.exclude_prefix = re.compile(rf"(?:{alternatives})(?: |$)")
        self.leading_fillers = lx.regex(r"^(?:{w}\s*,?\s*)+", w="leading_fillers")
        self.other_question = lx.regex(r"^\s*{w}(?!\s+further)\s+\w+", w="reply_to_another")
        self.reply_to_questions = lx.regex(r"^\s*{w}\b(?!\s+{topic}\b)", w="reply_to_questions",
                                           topic="topic_prepositions")
        self.continuation = lx.regex(r"^{w}\b", w="continuation_starts")
        # "I will move at the next Meeting that ...": the motion's words start at "that"
        self.notice_lead = lx.regex(r"^{w}\b[^.;:]{{0,40}}?\b(that)\b", w="notice_of_motion_leads")
        self.proposal_heading = lx.regex(r"^(?:[\d.]+\s*)?{w}s?\b", w="proposal_headings")  # proposed, not decided
        self.that_intro = re.compile(r"^[“\"‘']?That\s")  # a motion's own words, capital T
        self.body_start = lx.regex(r"^[“\"‘']?{w}\b", w="motion_body_starts")
        self.strip_lead = lx.regex(r"^[\s:;,\-–—.]*(?:{w}\b[\s:,\-–—]*)?", w="that_words")
        self.vote = lx.regex(r"\b{verbs}\b[^.;]*?\b(\d{{1,3}})\s*(?:-|–|to|/|:)\s*(\d{{1,3}})\b"
                             r"|\({yes}[:\s]*(\d{{1,3}})[,;\s]+{no}[:\s]*(\d{{1,3}})",
                             verbs="vote_verbs", yes="vote_for", no="vote_against")
        self.settles = lx.regex(r"\b{w}\b", w="settles")
        self.lost_words = lx.regex(r"\b{w}\b", w="lost_words")
        self.motion_nouns = lx.regex(r"\b{w}\b", w="motion_nouns")
        self.against = lx.regex(r"\b{w}\b", w="vote_against")
        self.decision_verb = lx.regex(r"^{w}\b", w="decision_verbs")
        self.decision_label = lx.regex(r"\s*{w}\s*[:\-–]\s*", w="decision_labels")
        self.decision_list = lx.regex(r"^{w}\b[:\s]*$", w="decision_list_headings")
        self.settling_only = lx.regex(r"(?:{w}|)[.;:]?", w="settling_only")
        self.asking_lead = re.compile(rf"^(?:(?i:{lx.alternation('asking_bodies')})|(?i:{lx.alternation('honorifics')})"
                                      r"\.?\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)\b")
        # "REPLY:", "Response provided by Paul Gatenby, Director Infrastructure Services:"
        self.reply_heading = lx.regex(r"(?:written\s+)?{w}(?:\s+(?:provided\s+|given\s+|received\s+)?(?:by|from)\s+([^.?!:]{{2,90}}))?\s*[:\-–]?",
                                      w="reply_headings")
        self.question_heading = lx.regex(
            r"^(?:{kind}\s+)?question\s+(?:no\.?\s*)?(?:\d+\s+)?(?:(?:submitted|tabled|asked|put)\s+)?(?:from|by)\s+"
            r"({title}\.?\s.+?)\s*[:.]?$", kind="question_heading_kinds", title="honorifics")
        self.intro_asked = lx.regex(r"\b{w}", w="question_words_in_intros")
        self.auxiliaries = lx.regex(r"\b{w}\b", w="auxiliaries")
        self.presenter_stop = lx.regex(r"\b{w}\b", w="presenter_stop")
        self.first_person = lx.regex(r"^[“\"‘']?{w}\b", w="first_person")
        self.joints = lx.regex(r"(?:\s{w}\s|;\s)", w="answer_joints")
        self.impersonal_responders = lx.set("impersonal_responders")
        self.responder_starts = tuple(lx["responder_starts"])
        self.referral = lx.regex(r"\b{w}\b", w="referral_words")
        self.carried = lx.regex(r"\b{w}\b", w="outcome_carried")
        self.noted = lx.regex(r"\b{w}\b", w="outcome_noted")
        self.approving = lx.regex(r"\b{w}", w="outcome_approving")
        self.aye = lx.regex(r"\b{w}\b", w="aye_words")
        self.nay = lx.regex(r"\b{w}\b|\bno\b(?= vote)", w="nay_words")
        self.bare_fillers = lx.set("bare_mover_fillers")
        # "Mr A acknowledged X and inquired if Y": the same speaker goes on to ask
        self.coordinated_verb = lx.regex(r"(?:,\s*|\s){w}\s+(?:(?:he|she|they|also|then)\s+)*$", w="answer_joints")
        self.decision_modal = lx.regex(r"\b{w}\b", w="decision_modals")
        self.reasons_heading = lx.regex(r"\b{w}\b", w="reasons_words")
        self.public_askers = lx["public_askers"]
        self.passive_auxiliaries = lx.set("passive_auxiliaries")
        self.passive_adverbs = lx.set("passive_adverbs")
        self.action_start = lx.regex(r"\b{w}\b", w="action_starts")
        self.action_end_word = lx.regex(r"\s{w}$", w="action_starts")
        self.action_tail = lx.regex(r"[,;]\s*{w}\b.*$|\.?\s*(?:the\s+)?(?:{m}\s+)?{out}\b.*$", w="seconder_words",
                                    m="motion_words", out="outcome_carried")
        self.row_decision = lx.regex(r"^(?:[£€$]\s?[\d,.]+\s+)?{w}\b", w="row_decisions")
        self.trailing_decision = lx.regex(r"[\s–—-]+{w}(?:\s+[£€$]\s?[\d,.]+)?(?:\s*\([^)]{{0,60}}\))?", w="trailing_decisions")
        self.minute_ref = lx.regex(r"[\s:–—-]*(?:{w}\s*)?(?:no\.?|number)?\s*[A-Z]{{0,6}}\.?\s*\d{{1,4}}(?:[/.\-]\d{{1,4}}){{1,2}}[.:]?",
                                   w="minute_ref_words")
        self.resolution_heading = re.compile(rf"^(?:{lx.alternation('resolution_labels_cased')})\b{self.minute_ref.pattern}$")
        self.relative_start = lx.regex(r"^{w}\s+", w="relative_pronouns")
        self.motion_phrase = lx.regex(r"\b{m}\s+(?:to|by|from|that)\b|^\w+\s+{m}\b", m="motion_words")
        self.motion_start = lx.regex(r"^\s*{m}\b", m="motion_words")
        self.motion_referent = lx.regex(r"^{w}s?\b|^it\b", w="motion_referents")
        self.item_prefix = lx.regex(r"^(?:{item}\s+\d+[a-z]?\s*[:.\-–]\s*|\d+[.)]?\s+)", item="item_words")
        self.item_ref = lx.regex(r"\(?{item} \d+\)?", item="item_words")


@lru_cache(maxsize=4)
def _vocab(lx: Lexicon) -> Vocab:
    return Vocab(lx)


# a statement answers a question still open at most this many paragraphs later (a named
# officer's statement, any number later within the item)
PENDING_BLOCKS = 1
BACKREF_MAX_WORDS = 10  # "This was agreed by all present."
ACTION_GAP_WORDS = 8  # "moved by Mr A, seconded by Ms B, that ...": the seconder's name at most
ROW_MAX_WORDS = 30  # a table row this long or shorter is its own record text
SINGLE_ITEM_WORDS = 20  # a line of its own that ends with its decision
ITEM_MAX_WORDS = 30  # items run together in one paragraph are each at most this long
UNCUED_MIN_WORDS = 4  # a shorter line after a question ("Lead: CAO.") answers nothing
# a procedural item longer than this (and this share of the paper) is not skipped
SWALLOW_CHARS = 2500
SWALLOW_SHARE = 0.3
QUOTE_OPEN = re.compile(r"\s*[:,]?\s*([“\"])")
INLINE_ITEM = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=;)|(?<=:))\((?:[a-z]|[ivx]{1,4}|\d{1,2})\)\s+")


@dataclass
class Cue:
    label: str
    rule: str  # the rule's id: names it, never read to decide
    start: int  # doc char offsets
    end: int
    tok: int  # token index within the sentence
    attrs: dict = field(default_factory=dict)  # the rule's declared attributes (minutes.extract.rules)

    def attr(self, name: str):
        return self.attrs.get(name, ATTRIBUTES[name][0] if name in ATTRIBUTES else None)


@dataclass
class Sent:
    start: int
    end: int
    text: str
    cues: list[Cue]
    first: bool = False

    def has(self, labels: set[str]) -> bool:
        return any(c.label in labels for c in self.cues)

    def first_cue(self, labels: set[str]) -> Optional[Cue]:
        for c in self.cues:
            if c.label in labels:
                return c
        return None


@dataclass
class Draft:
    kind: str
    start: int
    end: int
    rule: str
    speaker: Optional[str] = None
    reply_to: Optional["Draft"] = None
    section: Optional[Section] = None
    outcome: Optional[str] = None
    undertaking: bool = False
    answers: list = field(default_factory=list)
    asker_member: bool = True
    block_index: int = -1
    addressee: bool = False  # "X was asked whether...": X answers
    interrogative: bool = False  # found by its question mark alone
    default_speaker: Optional[str] = None  # the item's presenter, for answers in the impersonal voice
    moved: bool = False  # a motion as moved in debate: a later resolution replaces it


def _last(matches):
    found = None
    for found in matches:
        pass
    return found


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'’\-]*", text)


class Engine:
    def __init__(self, document: Document):
        self.doc = document
        self.v = v = _vocab(lexicon())
        self.member_titles = v.member_titles
        self.role_words = v.role_words
        self.answerer_titles = v.answerer_titles
        self.people = people_of(document.text)  # surname -> "Full Name (Role)"
        self.drafts: list[Draft] = []
        self._reset_section(None)

    # ---- state -------------------------------------------------------------------
    def _reset_section(self, section: Optional[Section]) -> None:
        self.section = section
        self.presenter = None
        self.current_q: Optional[Draft] = None
        self.pending: list[Draft] = []
        self.list_ctx: Optional[dict] = None
        self.excluded = False
        self.excluded_by = ""  # the heading (or title line) that made the item procedural
        self.last_heading: Optional[Block] = None
        self.item_start = -1
        self.last_that: Optional[Block] = None
        self.motion_words: Optional[tuple[int, int]] = None  # a quoted 'That ...' motion not yet settled
        self.motion: Optional[dict] = None
        self.provisional: Optional[Draft] = None  # a motion whose vote comes later
        self.prev_block: Optional[Block] = None
        self.presenter: Optional[str] = None  # who presented the item answers "It was responded..."
        self.expect: Optional[tuple[str, Optional[str]]] = None  # after "Question from X:" / "REPLY:"
        self.expect_more: Optional[Draft] = None
        self.expect_items = False
        self.quote: Optional[tuple[Draft, str]] = None  # a record whose quoted words run on ('asked:' then "...")

    def emit(self, draft: Draft) -> Draft:
        draft.section = self.section
        if draft.kind == "recommendation":
            # "... before publication. Reasons for the decision: ...": the reasons are not the decision
            low = self.text(draft.start, draft.end).lower()
            for m in re.finditer(r"[.;]\s+", low):
                if self.v.exclude_inline.match(low, m.end()):
                    draft.end = draft.start + m.start() + 1
                    break
        if draft.kind == "response":
            draft.default_speaker = self.presenter
        if draft.kind == "question" and (not draft.speaker or len(draft.speaker.split()) > 4):
            lead = self.v.asking_lead.match(self.text(draft.start, draft.end))
            draft.speaker = lead.group(0) if lead else draft.speaker
        self.drafts.append(draft)
        return draft

    # ---- helpers -----------------------------------------------------------------
    def text(self, start: int, end: int) -> str:
        return self.doc.text[start:end]

    def subject(self, sent: Sent, cue: Cue) -> str:
        raw = self.text(sent.start, cue.start).strip(" ,;:-–—")
        return self.v.leading_fillers.sub("", raw).strip(" ,;:-–—")

    def is_member(self, subject: str) -> bool:
        low = subject.lower()
        if not low:
            return False
        words = set(re.findall(r"[a-z\-]+", low))
        if any(t in low for t in self.answerer_titles[:2]):
            return True
        return bool(words & self.member_titles) or any(
            " " in t and t in low for t in self.member_titles)

    def is_public(self, subject: str) -> bool:
        """A resident or member of the public: asks, and members may answer."""
        low = subject.lower()
        return any(re.search(rf"\b{re.escape(t)}\b", low) for t in self.v.public_askers)

    def is_answerer(self, subject: str) -> bool:
        low = subject.lower()
        return any(t in low for t in self.answerer_titles)

    @staticmethod
    def first_name_only(subject: str) -> bool:
        """'Dick', 'Jan': informal minutes of a board's discussion, one answer thread."""
        return bool(re.fullmatch(r"[A-Z][a-z]+", subject.strip()))

    def plausible_speaker(self, subject: str) -> bool:
        """Someone who can speak: a pronoun, a name, a role or an impersonal 'it was'."""
        if self.is_impersonal(subject):
            return True
        words = subject.split()
        if len(words) > 12 or self.v.auxiliaries.search(subject):
            return False
        if any(w[:1].isupper() for w in words[1:]) or (len(words) == 1 and words[0][:1].isupper()):
            return True
        low = set(re.findall(r"[a-z\-]+", subject.lower()))
        return bool(low & self.role_words) or self.is_member(subject)

    def is_impersonal(self, subject: str) -> bool:
        low = subject.lower().strip()
        return not low or low in self.v.pronouns or low.split()[0] in self.v.expletives

    def person_key(self, subject: str) -> str:
        head = re.split(r"[,(]", subject)[0]
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z'’\-]*\.?", head)
                 if w.lower().rstrip(".") not in self.v.honorifics]
        caps = [w.rstrip(".") for w in words if w[:1].isupper()]
        if caps:
            return caps[-1].lower()
        return head.lower().strip()

    def same_person(self, subject: str, draft: Optional[Draft]) -> bool:
        if draft is None or not draft.speaker:
            return False
        low = subject.lower().strip()
        if low in self.v.pronouns:
            return True
        return self.person_key(subject) == self.person_key(draft.speaker)

    def speaker_name(self, subject: str) -> Optional[str]:
        subject = subject.strip(" ,;:")
        if not subject or self.is_impersonal(subject) or len(subject.split()) > 14:
            return None
        if self.v.first_person.match(subject) or not self.plausible_speaker(subject):
            return None
        return subject

    # ---- entry point -------------------------------------------------------------
    def feed(self, index: int, block: Block, sents: list[Sent]) -> None:
        self._feed(index, block, sents)
        self.prev_block = block

    def _feed(self, index: int, block: Block, sents: list[Sent]) -> None:
        if block.section is not self.section:
            self._close_motion()
            self._reset_section(block.section)
            if block.section is not None and self._excluded_heading(block.section.title) \
                    and not self._swallowing(block.section):
                self.excluded, self.excluded_by = True, block.section.title
        if block.is_heading:
            self._close_motion()
            self.list_ctx = None
            self.expect = self._label_heading(block.text)
            self.excluded = self._excluded_heading(block.text)
            self.excluded_by = block.text if self.excluded else ""
            self.last_heading = block
            if not self.v.decision_list.match(block.text.strip()):
                self.item_start = block.end  # a "Decision" heading stays in its item
            if not self.excluded and self.v.decision_list.match(block.text.strip()):
                self._supersede_motions()
                self.list_ctx = {"kind": "resolution", "style": None, "rule": "recommendation.decision_list"}
            if self.v.resolution_heading.match(block.text.strip()):  # "RESOLUTION CWC 24/103": the motion follows
                self.motion = {"drafts": [], "start": block.start, "end": block.end, "before": None}
            return
        if self.excluded or self._excluded_heading(block.text, inline=True):
            self._decisions_only(index, block, sents, self.excluded_by if self.excluded else block.text)
            return
        if len(block.text) < 60 and self._excluded_heading(block.text, exact=True):
            self._close_motion()
            self.list_ctx = None
            self.excluded, self.excluded_by = True, block.text
            return
        if self.motion is not None and self._feed_motion_body(index, block, sents):
            return
        if self._table_row(index, block) or self._decided_items(index, block):
            return
        if self._feed_quote(block):
            return
        if self.list_ctx is not None:
            if self._feed_list_item(index, block, sents):
                return
        if block.role == "text" and self.v.that_intro.match(block.text) and block.text.rstrip().endswith((":", ":-")) \
                and not (self.last_heading is not None and self.v.proposal_heading.match(self.last_heading.text.strip())):
            # "That Council approve the recommendations in Report X as follows:" (carried on consent)
            self._open_list("resolution", block, "recommendation.that_follows", outcome="agreed", that_items=True)
            return
        intro = self._response_intro(block, sents)
        if intro == "impersonal":
            self._open_list("response", block, "response.list_item")
            return
        self._feed_sentences(index, block, sents, mode="normal")
        if intro == "named":
            last = next((d for d in reversed(self.drafts) if d.kind == "response" and d.end >= block.end - 2), None)
            if last is not None:
                self._open_list("response_append", block, last.rule, draft=last)
        if block.role == "text" and self.v.body_start.match(block.text) and not any(
                d.block_index == index for d in self.drafts):
            self.last_that = block
        self._remember_motion_words(block)
        last = self.drafts[-1] if self.drafts else None
        if last is not None and last.kind in ("question", "response") and last.end >= block.end - 1 \
                and block.text.rstrip().endswith(":"):
            self.quote = (last, "")  # "Ms A asked:" - her words are the next paragraph

    def _remember_motion_words(self, block: Block) -> None:
        """'Notice of Motion submitted by Cllr A' then '"That the Council ..."': the words a later
        'The Motion was adopted.' settles."""
        text = self.text(block.start, block.end)
        m = re.search(r"(?:^|\s)([“\"‘']\s*That\b)", text) \
            or self.v.notice_lead.match(text)
        if m is None:
            return
        start = block.start + m.start(1)
        head = self.text(self.prev_block.start, self.prev_block.end) if self.prev_block is not None else ""
        if not (self.v.motion_nouns.search(self.text(block.start, start)) or
                len(_words(self.text(block.start, start))) <= 10 and self.v.motion_nouns.search(head)):
            return
        if any(d.start < block.end and d.end > start for d in self.drafts):
            return
        self.motion_words = (start, block.end)

    def _settle_motion_words(self, sent: Sent, index: int) -> bool:
        """'Following discussion, the Motion was agreed.' after the motion's quoted words."""
        if self.motion_words is None or self.motion is not None or self.provisional is not None:
            return False
        lead = re.sub(r"^[^,]{0,40},\s*", "", sent.text.strip())
        if not self.v.motion_referent.match(lead.lower()) or len(_words(lead)) > 10:
            return False
        start, end = self.motion_words
        self.motion_words = None
        if self._lost(sent) or any(d.start < end and d.end > start for d in self.drafts):
            return True
        self.emit(Draft("recommendation", start, end, "recommendation.motion_settled",
                        outcome=self._outcome(sent.text), block_index=index))
        return True

    def _feed_quote(self, block: Block) -> bool:
        """The quoted words after 'asked:' or 'responded:', over one paragraph or several."""
        if self.quote is None:
            return False
        draft, closing = self.quote
        text = block.text.strip()
        if not closing:
            if not text[:1] in "“\"":
                self.quote = None
                return False
            closing = "”" if text[0] == "“" else '"'
            text = text[1:]
        draft.end = block.end
        self.quote = None if closing in text else (draft, closing)
        return True

    # ---- decisions in tables and item lists --------------------------------------
    def _table_row(self, index: int, block: Block) -> bool:
        """A table row ("Scouts | New tents | £800 | Approved £500") whose cell after the first
        holds a decision is one recommendation: the row when short, else its decision cell
        (the row's subject stays in the record's context)."""
        if " | " not in block.text:
            return False
        cells, pos = [], block.start
        for cell in block.text.split(" | "):
            cells.append((pos, pos + len(cell)))
            pos += len(cell) + 3
        for k, (cs, ce) in enumerate(cells[1:], start=1):
            if self.v.row_decision.match(self.text(cs, ce).strip()):
                start = block.start if len(_words(block.text)) <= ROW_MAX_WORDS else cs
                self.emit(Draft("recommendation", start, block.end, "recommendation.table_row",
                                outcome=self._outcome(self.text(cs, ce)), block_index=index))
                return True
        return False

    def _decided_items(self, index: int, block: Block) -> bool:
        """Items run together, each ending with its decision ("Invoice for insurance £689.62
        resolved to pay Village Hall fees £40.00 resolved to pay"): one record per item."""
        ends = [m.end() for m in self.v.trailing_decision.finditer(block.text)
                if not self._passive_before(block.start + m.start())]
        single = len(ends) == 1 and not block.text[ends[0]:].strip(" .;") \
            and len(_words(block.text)) <= SINGLE_ITEM_WORDS  # "Kirkby Lane Allotment Society ... £420 Approved £420"
        if len(ends) < 2 and not single:
            return False
        starts = [0] + ends[:-1]
        pieces = [(block.start + a, block.start + b) for a, b in zip(starts, ends)]
        if any(len(_words(self.text(a, b))) > ITEM_MAX_WORDS for a, b in pieces):
            return False
        for a, b in pieces:
            self.emit(Draft("recommendation", a, b, "recommendation.decided_item", outcome=self._outcome(self.text(a, b)),
                            block_index=index))
        return True

    def _swallowing(self, section: Section) -> bool:
        """A procedural item (Apologies) that holds most of a long paper has swallowed the
        items after it (their headings were not found): its text is read, not skipped."""
        size = section.end - section.start
        return size > SWALLOW_CHARS and size > SWALLOW_SHARE * len(self.doc.text)

    def _label_heading(self, text: str) -> Optional[tuple[str, Optional[str]]]:
        """'REPLY:' or 'Question submitted by Cllr X' standing alone: the next paragraph is the record."""
        text = text.strip()
        m = self.v.reply_heading.fullmatch(text)
        if m:
            return ("response", m.group(1))
        m = self.v.question_heading.match(text)
        if m:
            return ("question", m.group(1))
        return None

    def _response_intro(self, block: Block, sents: list[Sent]) -> Optional[str]:
        """'In response to questions, it was said:' opens a list of answers."""
        text = block.text.rstrip()
        if not sents or not text.endswith((":", ":-", "–", "—")):
            return None
        last = sents[-1]
        low = last.text.lower()
        cues = [c for c in last.cues if c.label in R_ANY]
        cue = cues[-1] if cues else None
        if cue is None and not any(t in low for t in self.v.list_intros):
            return None
        if last.has({"RESOLUTION"}) or self._question_cue(last) is not None and cue is None:
            return None
        asked = self.pending or self.v.intro_asked.search(low)
        if not asked:
            return None
        if cue is None:
            return "impersonal"
        subject = self.subject(last, cue).split(",")[-1].strip()
        impersonal = [c for c in cues if c.attr("voice") == "impersonal"]
        if any(c.start <= cue.start < c.end for c in impersonal) \
                or self.is_impersonal(subject):
            return "impersonal"
        return "named" if self.plausible_speaker(subject) else None

    def _excluded_heading(self, text: str, inline: bool = False, exact: bool = False) -> bool:
        low = re.sub(r"^[\d.\s]+", "", text[:200].lower()).strip(" :.-–—*#")
        if exact:
            return low in self.v.exclude_set
        if not inline:
            m = self.v.exclude_prefix.match(low)
            return bool(m) and len(low) < m.end() + 30
        return bool(self.v.exclude_inline.match(low))

    # ---- lists -------------------------------------------------------------------
    def _feed_list_item(self, index: int, block: Block, sents: list[Sent]) -> bool:
        ctx = self.list_ctx
        if block.role != "list_item" and ctx.get("that_items") and self.v.that_intro.match(block.text) \
                and not block.text.rstrip().endswith(":"):
            self.emit(Draft("recommendation", block.start, block.end, ctx["rule"],
                            outcome=ctx.get("outcome", "agreed"), block_index=index))
            return True
        if block.role != "list_item":
            self.list_ctx = None
            return False
        if ctx["style"] is None:
            ctx["style"] = block.marker
        elif block.marker != ctx["style"] and {block.marker, ctx["style"]} != {"alpha", "roman"}:
            if ctx.get("parent_style") == block.marker or ctx["kind"] != "response":
                self.list_ctx = None
                return False
        if ctx["kind"] == "resolution":
            if any(s.has({"LOST"}) for s in sents) and not any(s.has({"CARRIED"}) for s in sents):
                return True
            draft = self.emit(Draft("recommendation", block.start, block.end, ctx["rule"],
                                    outcome=ctx.get("outcome", "agreed"), block_index=index))
            if self.motion is not None:
                self.motion["drafts"].append(draft)
            return True
        if ctx["kind"] == "response_append":
            ctx["draft"].end = block.end
            return True
        self._feed_sentences(index, block, sents, mode="response_list")
        return True

    def _open_list(self, kind: str, block: Block, rule: str, **extra) -> None:
        self.list_ctx = {"kind": kind, "style": None, "parent_style": block.marker, "rule": rule, **extra}

    # ---- sentences ---------------------------------------------------------------
    def _labelled_block(self, index: int, block: Block, sents: list[Sent]) -> bool:
        """'Question 2 from Cllr X to ...: ...' and 'REPLY: ...' paragraphs are one record each."""
        expect = self.expect
        self.expect = None
        if expect is not None and (block.role == "text" or expect[0] == "response" and block.role == "list_item"):
            kind, speaker = expect
            self.expect_items = block.role == "list_item"  # "REPLY:" then "(a) ...", "(b) ..."
            draft = self.emit(Draft(kind, block.start, block.end, f"{kind}.after_label", speaker=speaker,
                                    block_index=index, asker_member=bool(speaker) and self.is_member(speaker or "")))
            if kind == "question":
                self.current_q = draft
                self.pending.append(draft)
            else:
                target = self.pending[-1] if self.pending else self.current_q
                if target is not None:
                    self._link(draft, target)
                self.expect_more = draft
            return True
        cue = sents[0].cues[0] if sents and sents[0].cues else None
        if cue is None or cue.start - block.start > 2:
            if self.expect_more is not None and not any(s.cues for s in sents) and (
                    block.role == "text" or block.role == "list_item" and self.expect_items):
                self.expect_more.end = block.end  # a reply runs over several paragraphs
                return True
            self.expect_more = None
            return False
        self.expect_more = None
        label_only = len(_words(self.text(cue.end, block.end))) <= 6 and block.text.rstrip().endswith((":", "-", "–")) \
            or not _words(self.text(cue.end, block.end))
        if cue.label == "WRITTEN_QUESTION" and label_only:
            m = re.search(r"\b(?:from|by)\s+(.+?)(?:\s+to\s+|[:(]|$)", self.text(cue.start, block.end))
            self.expect = ("question", m.group(1).strip(" ,:") if m else None)
            return True
        if cue.attr("form") == "label" and cue.label in R_ANY and label_only:
            self.expect = ("response", None)
            return True
        if cue.label == "WRITTEN_QUESTION":
            m = re.search(r"\b(?:from|by)\s+(.+?)(?:\s+to\s+|[:(]|$)", self.text(cue.start, block.end))
            draft = self.emit(Draft("question", block.start, block.end, cue.rule,
                                    speaker=m.group(1).strip(" ,") if m else None, block_index=index,
                                    asker_member=bool(m) and self.is_member(m.group(1))))
            self.current_q = draft
            self.pending.append(draft)
            return True
        if cue.attr("form") == "label" and cue.label in R_ANY:
            draft = self.emit(Draft("response", block.start, block.end, cue.rule, block_index=index))
            target = self.pending[-1] if self.pending else self.current_q
            if target is not None:
                self._link(draft, target)
            return True
        return False

    def _note_presenter(self, sents: list[Sent]) -> None:
        for sent in sents:
            cue = sent.first_cue({"PRESENTER"})
            if cue is None or self.presenter is not None:
                continue
            subject = self.v.presenter_stop.split(self.subject(sent, cue))[0]
            subject = subject.strip(" ,;:")
            if subject and self.plausible_speaker(subject) and not self.is_member(subject) \
                    and not self.is_impersonal(subject):
                self.presenter = subject

    def _feed_sentences(self, index: int, block: Block, sents: list[Sent], mode: str) -> None:
        self._note_presenter(sents)
        if mode == "normal" and self._labelled_block(index, block, sents):
            return
        current: Optional[Draft] = None  # record that the next plain sentence may continue
        member_turn = False  # a question was asked earlier in this block
        comment_turn = False  # a member commented earlier in this block
        other_turn = False  # a comment or a decision came first in this block
        i = 0
        while i < len(sents):
            sent = sents[i]
            consumed = self._resolution(index, block, sents, i) or self._motion(index, block, sents, i)
            if consumed:
                current = None
                other_turn = True
                i = consumed
                continue
            q = self._question_cue(sent)
            if q is not None and current is not None and current.kind == "response" and \
                    self.v.first_person.match(self.subject(sent, q)):
                q = None
            if q is not None:
                current = self._question(index, block, sents, i, q, current)
                member_turn = True
                i = self._quoted(current, q, sents, i, block) + 1
                continue
            r = self._response_cue(sent, current, member_turn, mode, block, index, comment_turn)
            if r is not None:
                cue, subject = r
                current = self._response(index, sent, cue, subject, current, mode)
                i = self._quoted(current, cue, sents, i, block) + 1
                continue
            if sent.has({"COMMENT"}) or self._member_statement(sent):
                if current is not None and current.kind == "question" and self._asker_continues(sent, current):
                    current.end = sent.end
                else:
                    current = None
                    self.current_q = None if mode == "normal" else self.current_q
                comment_turn = self._commenter(sent) or True
                other_turn = True
                i += 1
                continue
            if current is not None:
                if current.kind == "response":
                    current.end = sent.end
                elif current.kind == "question":
                    if self.v.continuation.match(sent.text) or self._asker_continues(sent, current):
                        current.end = sent.end
                    else:
                        current = self._uncued_answer(index, sent, current)
            elif mode == "response_list" and not other_turn and not self.v.body_start.match(sent.text):
                current = self._response(index, sent, None, "", None, mode, rule="response.list_item")
            i += 1

    def _member_statement(self, sent: Sent) -> bool:
        cue = sent.first_cue(R_WEAK | R_UNDERTAKING)
        return cue is not None and self.is_member(self.subject(sent, cue)) and not self.is_answerer(
            self.subject(sent, cue))

    def _asker_continues(self, sent: Sent, question: Draft) -> bool:
        first = sent.text.split(" ", 1)[0].lower()
        if first in self.v.personal_pronouns:
            return True
        cue = sent.first_cue(R_WEAK | {"COMMENT"} | Q_LABELS)
        subject = self.subject(sent, cue) if cue else ""
        return bool(subject) and self.same_person(subject, question)

    # ---- questions ---------------------------------------------------------------
    def _question_cue(self, sent: Sent) -> Optional[Cue]:
        if any(c.label == "NOT_QUESTION" and c.attr("scope") == "sentence" for c in sent.cues):
            return None
        blocked = [(c.start, c.end) for c in sent.cues if c.label == "NOT_QUESTION"]
        q = None
        for c in sent.cues:
            if c.label in Q_LABELS and not any(s <= c.start < e for s, e in blocked):
                q = c
                break
        r = sent.first_cue(R_ANY)
        if q is not None:
            if r is not None and r.start < q.start:
                subj = self.subject(sent, r)
                same_asker = r.label not in R_STRONG and self.v.coordinated_verb.search(self.text(sent.start, q.start))
                if not self.is_member(subj) and not same_asker:
                    return None  # "The officer explained X and asked Members to ..."
                if r.label in R_STRONG:
                    return None
            if sent.has({"RESOLUTION"}) and sent.first_cue({"RESOLUTION"}).start < q.start:
                return None
            subj = self.subject(sent, q)
            if len(subj.split()) > 25:
                return None
            return q
        if sent.text.rstrip().endswith("?") and (r is None or self.is_member(self.subject(sent, r))) \
                and not self._procedural(sent.text):
            return Cue("QUESTION", "question.interrogative", sent.start, sent.start, 0, {"interrogative": True})
        return None

    def _procedural(self, text: str) -> bool:
        """'Is there a second?', 'Can you please read item 47?': chairing, not a question on a matter."""
        low = re.sub(r"^[\w .'’-]{1,30}:\s*", "", text.lower()).strip(" “\"")
        return len(low.split()) < 2 or any(low.startswith(p) or p in low for p in self.v.procedural)

    def _question(self, index: int, block: Block, sents: list[Sent], i: int, cue: Cue,
                  current: Optional[Draft]) -> Draft:
        sent = sents[i]
        subject = self.subject(sent, cue) if not cue.attrs.get("interrogative") else ""
        if cue.label == "WRITTEN_QUESTION":
            m = re.search(r"\bfrom\s+(.+?)(?:\s+to\s+|[:,(]|$)", self.text(cue.start, sent.end))
            subject = m.group(1) if m else ""
        # "It was also queried..." straight after a question continues that question.
        passive = re.search(r"\b(?:was|were)\s+(?:\w+ly\s+|also\s+|therefore\s+)?\S+$", self.text(sent.start, cue.end))
        if (current is not None and current.kind == "question" and not current.answers
                and (re.search(r"\balso\b", self.text(sent.start, cue.end), re.I) or passive)
                and (self.is_impersonal(subject) or self.same_person(subject, current) or passive)):
            current.end = self._split_answer(index, sent, cue, current) or sent.end
            return current
        start = sent.start  # the question's own sentence: what led up to it is not asked
        addressee = bool(re.search(r"\b(?:was|were)\s+(?:also\s+)?asked$", self.text(sent.start, cue.end))) \
            and not self.is_impersonal(subject)
        draft = self.emit(Draft("question", start, sent.end, cue.rule,
                                speaker=None if addressee else self.speaker_name(subject), block_index=index,
                                asker_member=bool(subject) and self.is_member(subject) and not addressee
                                and not self.is_public(subject), interrogative=bool(cue.attrs.get("interrogative")),
                                addressee=addressee))
        self.current_q = draft
        self.pending.append(draft)
        answer_end = self._split_answer(index, sent, cue, draft)
        if answer_end:
            return self.drafts[-1]
        return draft

    def _split_answer(self, index: int, sent: Sent, q: Cue, question: Draft) -> Optional[int]:
        """'Members queried how X and were advised that Y': cut at the answer cue."""
        for r in sent.cues:
            if r.label not in R_ANY or r.start <= q.end:
                continue
            if any(c.label == "COMMENT" and c.start <= r.start < c.end for c in sent.cues):
                continue
            between = self.text(q.end, r.start)
            # the last joint before the answer: a conjunction or semicolon, else a comma
            m = _last(self.v.joints.finditer(between)) \
                or _last(re.finditer(r",\s", between))
            if m is None:
                continue
            responder = between[m.end():].strip()
            relative = self.v.relative_start.match(responder)  # ", which Superintendent Kern explained"
            if relative:
                responder = responder[relative.end():].strip()
            passive = r.attr("voice") == "impersonal"
            if len(responder.split()) > 12:
                continue
            if responder:
                if responder.lower() in self.v.impersonal_responders and not passive:
                    continue
                if not (responder[:1].isupper() or responder.lower().startswith(self.v.responder_starts)):
                    continue
                named = responder[:1].isupper() and not self.is_impersonal(responder) \
                    and len(_words(responder)) <= 5 and r.label in R_ANY
                if self.is_member(responder) and not self.is_answerer(responder) and not (named and m.group(0).strip() == ","):
                    continue  # "Cllr A asked X, Cllr B advised Y": one member answers another
                if self.same_person(responder, question):
                    continue
            elif not passive:
                continue
            cut = q.end + m.end()
            question.end = q.end + m.start()
            resp = self.emit(Draft("response", cut, sent.end, r.rule,
                                   speaker=self.speaker_name(responder), block_index=index,
                                   undertaking=r.label in R_UNDERTAKING))
            self._link(resp, question)
            return sent.end
        return None

    # ---- responses ---------------------------------------------------------------
    def _response_cue(self, sent: Sent, current: Optional[Draft], member_turn: bool, mode: str,
                      block: Block, index: int = -1, comment_turn: bool = False) -> Optional[tuple[Cue, str]]:
        comments = [(c.start, c.end) for c in sent.cues if c.label in ("COMMENT", "NOT_RESPONSE")]
        cue = next((c for c in sent.cues if c.label in R_ANY
                    and not any(s <= c.start < e for s, e in comments)), None)
        if cue is None:
            return None
        subject = self.subject(sent, cue)
        if len(subject.split()) > 14:
            return None
        if cue.attr("voice") == "impersonal":
            subject = ""  # "Members were advised that", "it was explained": no speaker before the cue
        elif subject.lower() in self.v.personal_pronouns and current is not None and current.kind == "question" \
                and not current.addressee:
            return None  # the asker goes on
        elif cue.label not in R_STRONG and not self.plausible_speaker(subject):
            return None
        if cue.label in R_STRONG:
            return cue, subject
        member = self.is_member(subject)
        question_open = current is not None and current.kind in ("question", "response")
        if member and not self.is_answerer(subject):
            # A member answers only a question put by someone who is not a member.
            asker = current.reply_to if current is not None and current.kind == "response" else current
            if question_open and asker is not None and not asker.asker_member and mode != "response_list":
                return cue, subject
            return None
        if mode == "response_list" or question_open or member_turn:
            return cue, subject
        officer = self.is_officer(subject)
        if comment_turn and (officer or isinstance(comment_turn, str) and subject[:1].isupper()
                             and self.person_key(subject) != comment_turn and not member):
            return cue, subject  # a reply to a member's comment by someone else, not a member
        last = self.pending[-1] if self.pending else None
        if last is not None and last.block_index >= 0 and self.section is last.section \
                and (officer or index - last.block_index <= PENDING_BLOCKS):
            return cue, subject
        return None

    def _commenter(self, sent: Sent) -> Optional[str]:
        cue = sent.first_cue({"COMMENT"} | R_WEAK | R_UNDERTAKING)
        subject = self.subject(sent, cue) if cue else ""
        return self.person_key(subject) if subject and not self.is_impersonal(subject) else None

    def is_officer(self, subject: str) -> bool:
        """Someone who answers for the council: a role ("the Clerk", "Head of Housing"), the
        item's presenter, or an answering title (Cabinet Member); not a plain member."""
        if not subject or self.is_impersonal(subject):
            return bool(subject) is False and self.presenter is not None
        low = set(re.findall(r"[a-z\-]+", subject.lower()))
        if self.is_answerer(subject) or (self.presenter and self.same_person(subject, Draft("x", 0, 0, "", self.presenter))):
            return True
        if bool(low & self.role_words) and not self.is_member(subject):
            return True
        known = resolve_speaker(subject, self.people) or ""  # "Ms. Phillips" -> her role in the attendance list
        role = known[known.find("(") + 1:].lower() if "(" in known else ""
        return bool(set(re.findall(r"[a-z\-]+", role)) & self.role_words) and not self.is_member(role)

    def _response(self, index: int, sent: Sent, cue: Optional[Cue], subject: str,
                  current: Optional[Draft], mode: str, rule: Optional[str] = None) -> Draft:
        if current is not None and current.kind == "response" and (
                self.is_impersonal(subject) or self.same_person(subject, current)
                or (cue is not None and cue.label in R_STRONG and not subject)
                or (not current.speaker and re.search(r"\balso\b", sent.text[:len(subject) + 25]))
                or self.first_name_only(subject)):
            current.end = sent.end
            if cue is not None and cue.label in R_UNDERTAKING:
                current.undertaking = current.undertaking or not current.reply_to
            return current
        if cue is not None and cue.attr("speaker") == "after" and len(subject.split()) <= 1:
            later = next((c for c in sent.cues if c.label in R_ANY and c.start > cue.end), None)
            if later is not None:
                subject = self.text(cue.end, later.start).rsplit(",", 1)[-1].strip()
        draft = self.emit(Draft("response", sent.start, sent.end, rule or (cue.rule if cue else "response"),
                                speaker=self.speaker_name(subject) if subject else None,
                                block_index=index,
                                undertaking=cue is not None and cue.label in R_UNDERTAKING))
        if self.v.other_question.match(sent.text) and not self.v.reply_to_questions.match(sent.text):
            return draft
        if current is not None and current.kind == "response":
            if current.reply_to is not None:
                self._link(draft, current.reply_to)
            return draft
        if current is not None and current.kind == "question":
            self._link(draft, current)
            return draft
        target = self._best_pending(sent) or self.current_q
        if target is not None:
            self._link(draft, target)
        return draft

    def _uncued_answer(self, index: int, sent: Sent, question: Draft) -> Optional[Draft]:
        """A plain statement straight after a question, in its paragraph, answers it."""
        words = _words(sent.text)
        if len(words) < UNCUED_MIN_WORDS or self.is_member(" ".join(words[:4])):
            return None
        if self.v.body_start.match(sent.text) or sent.text.rstrip(" ”\"'’").endswith("?") \
                or self._procedural(sent.text):
            return None  # more of the asking, or the chair moving on ("Hearing none.")
        if question.interrogative:
            return None  # a question read out is answered by someone named, with a cue
        draft = self.emit(Draft("response", sent.start, sent.end, "response.follows_question",
                                block_index=index))
        self._link(draft, question)
        return draft

    def _best_pending(self, sent: Sent) -> Optional[Draft]:
        if not self.pending:
            return None
        if len(self.pending) == 1:
            return self.pending[0]
        mine = {w.lower() for w in _words(sent.text) if len(w) > 3}
        best, score = None, 0
        for q in self.pending:
            overlap = len(mine & {w.lower() for w in _words(self.text(q.start, q.end)) if len(w) > 3})
            if overlap > score:
                best, score = q, overlap
        return best or self.pending[0]

    def _link(self, response: Draft, question: Draft) -> None:
        response.reply_to = question
        question.answers.append(response)
        if question in self.pending:
            self.pending.remove(question)
        self.current_q = question

    # ---- recommendations ---------------------------------------------------------
    def _resolution(self, index: int, block: Block, sents: list[Sent], i: int) -> int:
        sent = sents[i]
        decision = sent.first_cue({"DECISION"})
        if decision is not None and (decision.start == sent.start or self.v.decision_label.fullmatch(
                self.text(sent.start, decision.start))):
            if not (sent.has({"LOST"}) and not sent.has({"CARRIED"})):
                self.emit(Draft("recommendation", decision.start, sent.end, decision.rule,
                                outcome=self._outcome(sent.text), block_index=index))
            return i + 1
        cue = sent.first_cue({"RESOLUTION"})
        if cue is None:
            return 0
        if self._settle_motion_words(sent, index):
            return i + 1
        if cue.attr("form") == "caps":
            word = self.text(cue.start, cue.end)
            after = self.text(cue.end, min(block.end, cue.end + 3)).strip()
            if word.lower().startswith(("decision", "resolution")) and not (after[:1] in (":", "-", "–") or cue.end >= block.end - 1) \
                    and not (i == 0 and len(sents) == 1 and self.v.minute_ref.fullmatch(self.text(cue.end, block.end).strip())):
                return 0
        if sent.has({"LOST"}) and not sent.has({"CARRIED"}):
            return len(sents)
        if sent.has({"NOT_AGREED"}) and cue.attr("subject") == "body":
            return 0
        at_block_start = cue.start - block.start <= 3 or i == 0 and len(self.text(block.start, cue.start).split()) <= 8
        labelled = cue.attr("form") in ("label", "caps")
        end = block.end if at_block_start and i == 0 and labelled else sent.end
        if cue.attr("span") == "previous":
            if i > 0 and len(_words(sent.text)) <= BACKREF_MAX_WORDS and not self._covered(sents[i - 1]):
                self.emit(Draft("recommendation", sents[i - 1].start, sent.end, cue.rule,
                                outcome=self._outcome(sent.text), block_index=index))
                return i + 1
            return 0
        if cue.attr("span") == "sentence":
            self.emit(Draft("recommendation", sent.start, sent.end, cue.rule,
                            outcome=self._outcome(sent.text), block_index=index))
            return i + 1
        rest_start = cue.end
        m = self.v.strip_lead.match(self.text(rest_start, end))
        rest_start += m.end() if m else 0
        rest = self.text(rest_start, end).strip()
        outcome = self._outcome(self.text(sent.start, end))
        rule = cue.rule
        if self.v.minute_ref.fullmatch(rest) and end == block.end:
            # "RESOLVED: Minute No. CWC 24/102", "RESOLUTION 24/102": the motion's words follow
            self.motion = {"drafts": [], "start": block.start, "end": block.end, "before": None}
            self.list_ctx = None
            return len(sents)
        if not rest or rest.endswith((":", ":-", "–", "—")) or re.search(r"\bfollowing\b[^.]*:?\s*-?$", rest):
            self._supersede_motions()
            self._open_list("resolution", block, rule, outcome=outcome)
            return len(sents) if end == block.end else i + 1
        if self.v.settling_only.fullmatch(rest.lower().strip()):
            # "AGREED unanimously." settles the motion before it; it is not a recommendation itself
            if self.provisional is not None or self.motion is not None:
                self._motion_outcome(sent)
            elif self.drafts and self.drafts[-1].kind == "recommendation" and self.drafts[-1].section is self.section:
                self.drafts[-1].outcome = self._outcome(self.text(sent.start, end))
            return len(sents) if end == block.end else i + 1
        if labelled:
            self._supersede_motions()
        parts = self._split_inline(rest_start, end)
        j = i
        if len(parts) == 1 and end == sent.end:  # "... reinstate the noticeboard. Given our reserves we should offer to pay."
            while j + 1 < len(sents) and all(c.label in R_WEAK | {"COMMENT"} for c in sents[j + 1].cues) \
                    and self.v.decision_modal.search(sents[j + 1].text) \
                    and not self._excluded_heading(sents[j + 1].text, inline=True):  # "Reasons for the decision: ..."
                j += 1
            parts = [(parts[0][0], sents[j].end)]
        for s, e in parts:
            self.emit(Draft("recommendation", s, e, rule, outcome=outcome, block_index=index))
        return len(sents) if end == block.end else j + 1

    def _supersede_motions(self) -> None:
        """'A moved that ...; as an amendment B moved that ...' then 'RESOLVED that' or 'Decision: The
        Committee agreed:': the resolution is the record, not the motions debated before it."""
        since = self.item_start
        for d in [d for d in self.drafts if d.moved and d.section is self.section
                  and d.start > since]:
            self.drafts.remove(d)
        self.provisional = None

    def _split_inline(self, start: int, end: int) -> list[tuple[int, int]]:
        text = self.text(start, end)
        marks = list(INLINE_ITEM.finditer(text))
        if len(marks) < 2:
            return [(start, end)]
        out = []
        for k, m in enumerate(marks):
            s = start + m.end()
            e = start + (marks[k + 1].start() if k + 1 < len(marks) else len(text))
            seg = re.sub(r"(?:[\s;,]+(?:and|or))?[\s;,]*$", "", self.doc.text[s:e])
            out.append((s, s + len(seg)))
        return out

    def _outcome(self, text: str) -> str:
        low = text.lower()
        base = "carried" if self.v.carried.search(low) else (
            "noted" if self.v.noted.search(low) and not self.v.approving.search(low) else "agreed")
        vote = self.v.vote.search(text)
        if "unanimous" in low:
            return f"{base} unanimously"
        if vote:
            nums = [g for g in vote.groups() if g]
            return f"{base} {nums[0]}-{nums[1]}"
        ayes = len(self.v.aye.findall(low))
        nays = len(self.v.nay.findall(low))
        if ayes:
            return f"{base} {ayes}-{nays}"
        return base

    def _motion(self, index: int, block: Block, sents: list[Sent], i: int) -> int:
        sent = sents[i]
        if not sent.has({"MOTION", "SECONDED"}):
            if (self.provisional is not None or self.motion is not None) and self.v.settles.search(sent.text) \
                    and len(sent.text.split()) <= 15 and not sent.has(Q_LABELS | R_ANY):
                self._motion_outcome(sent)
                return i + 1
            return 0
        if self.v.motion_referent.match(sent.text) and not any(c.attr("mover") == "phrase" for c in sent.cues):
            if sent.has({"CARRIED", "LOST"}):
                self._motion_outcome(sent)
            return i + 1
        mover = any(c.attr("mover") and not self._passive_cue(c) for c in sent.cues) or sent.has({"SECONDED"}) \
            or self.v.motion_phrase.search(sent.text)
        if not mover:
            if (self.provisional is not None or self.motion is not None) and self.v.settles.search(sent.text):
                self._motion_outcome(sent)
                return i + 1
            return 0
        # find the outcome in this block
        last = i
        lost = carried = False
        for j in range(i, len(sents)):
            s = sents[j]
            if j > i and s.has({"QUESTION", "RESOLUTION"}):
                break
            if j > i and s.has({"MOTION"}) and any(c.attr("mover") == "phrase" for c in s.cues):
                break
            if self._lost(s):
                lost = True
                last = j
                break
            aye = bool(self.v.aye.search(s.text))
            if s.has({"CARRIED"}) or s.has({"SECONDED"}) or aye:
                carried = carried or s.has({"CARRIED"}) or aye
                last = j
        if lost:
            self.motion = None
            self.provisional = None
            return last + 1
        action = self._action(sent) if last == i == len(sents) - 1 else None
        if action is not None and self.text(*action).rstrip().endswith((":", ":-")):
            # "to approve the Consent Agenda as follows:": each item that follows is a decision
            self._open_list("resolution", block, "recommendation.consent_item", outcome="carried")
            return last + 1
        bare = self._bare_mover(sent)
        if (bare and last == i and (i == 0 or i == len(sents) - 1 and not carried)) \
                or (last == i == len(sents) - 1 and re.search(r"(?::|:-|\bthat)\s*$", block.text)):
            # "Proposed: Cllr A", "MOVED Cr A SECONDED Cr B", "X moved the following motion:"
            if self.motion is None:
                self.motion = {"drafts": [], "start": block.start, "end": block.end,
                               "before": self._motion_body_before() if bare and i == 0 else None}
            else:
                self.motion["end"] = block.end
            self.list_ctx = None
            return len(sents)
        start, end = sent.start, sents[last].end
        if bare and i > 0 and self.v.motion_start.match(sent.text):
            start = sents[i - 1].start
        outcome = self._outcome(self.text(start, end))
        action = None if start != sent.start else self._action(sent)
        if action is not None:  # "moved by A, seconded by B, that X": the record is X
            start, end = action
        draft = self.emit(Draft("recommendation", start, end, "recommendation.motion",
                                outcome=outcome, block_index=index, moved=True))
        if not carried:
            self.provisional = draft
        return last + 1

    def _action(self, sent: Sent) -> Optional[tuple[int, int]]:
        """The action a motion takes ("to adopt Resolution 12", "that the minutes be approved"),
        after who moved and seconded it and before its outcome; None when it has no such start."""
        movers = [c for c in sent.cues if c.label in ("MOTION", "SECONDED") and not self._passive_cue(c)]
        if not movers:
            return None
        # "moved to approve": the cue ends with the action's first word
        after = max(c.end - len(self.v.action_end_word.search(self.text(c.start, c.end)).group(0))
                    if self.v.action_end_word.search(self.text(c.start, c.end)) else c.end for c in movers)
        m = self.v.action_start.search(self.text(after, sent.end))
        if m is None or len(_words(self.text(after, after + m.start()))) > ACTION_GAP_WORDS:
            return None  # no "to"/"that" straight after who moved and seconded
        start = after + m.start()
        if start < sent.start:
            return None
        tail = self.v.action_tail.search(self.text(start, sent.end))
        end = start + tail.start() if tail else sent.end
        if len(_words(self.text(start, end))) < 2:
            return None
        return start, end

    def _quoted(self, draft: Optional[Draft], cue: Cue, sents: list[Sent], i: int, block: Block) -> int:
        """'Ms A asked: "... When will it reopen?"': the record runs to the closing quote.
        Returns the index of the last sentence it takes."""
        if draft is None or draft.end < sents[i].end:
            return i
        opener = QUOTE_OPEN.match(self.doc.text, cue.end, min(block.end, cue.end + 6))
        if opener is None:
            return i
        closing = "”" if opener.group(1) == "“" else '"'
        close = self.doc.text.find(closing, opener.end(), block.end)
        if close < 0:
            return i
        j = i
        while j + 1 < len(sents) and sents[j + 1].start <= close:
            j += 1
        draft.end = max(draft.end, min(block.end, close + 1), sents[j].end)
        return j

    def _decisions_only(self, index: int, block: Block, sents: list[Sent], heading: str) -> None:
        """In a procedural item (apologies, declarations) only an explicit resolution is read
        ("Committee resolved to note the apologies"): nothing there is asked or answered, and
        under "Reasons for the decision" or "Other options" nothing is decided either."""
        if self.v.reasons_heading.search(heading):
            return
        i = 0
        while i < len(sents):
            if sents[i].has({"RESOLUTION"}):
                i = self._resolution(index, block, sents, i) or i + 1
            else:
                i += 1

    def _covered(self, sent: Sent) -> bool:
        return any(d.start < sent.end and d.end > sent.start for d in self.drafts)

    def _passive_before(self, offset: int) -> bool:
        """"had now been agreed", "is approved": a report of a decision, not an item's own."""
        words = self.text(max(0, offset - 24), offset).lower().split()[-2:]
        return any(w in self.v.passive_auxiliaries or w in self.v.passive_adverbs for w in words)

    def _passive_cue(self, cue: Cue) -> bool:
        """"were moved to HMYOI Feltham": not someone moving a motion."""
        before = self.text(max(0, cue.start - 12), cue.start).split()
        return bool(before) and before[-1].lower() in self.v.passive_auxiliaries

    def _lost(self, sent: Sent) -> bool:
        return sent.has({"LOST"}) and not self.v.against.search(sent.text) \
            or bool(self.v.lost_words.search(sent.text) and self.v.motion_nouns.search(sent.text))

    def _motion_outcome(self, sent: Sent) -> None:
        """'The motion was put to the vote and CARRIED / LOST' settles the open motion."""
        drafts = list(self.motion["drafts"]) if self.motion else []
        if self.provisional is not None:
            drafts.append(self.provisional)
        if self._lost(sent):
            for d in drafts:
                if d in self.drafts:
                    self.drafts.remove(d)
            self.motion = None
        else:
            for d in drafts:
                d.outcome = self._outcome(sent.text)
            if self.motion is not None:
                self._close_motion()
        self.provisional = None

    def _feed_motion_body(self, index: int, block: Block, sents: list[Sent]) -> bool:
        """After bare mover lines: "That Council ..." is the motion; CARRIED or LOST ends it."""
        motion = self.motion
        text = block.text.strip()
        if block.role != "list_item" and self.v.body_start.match(text):
            if text.endswith((":", ":-")):
                self._open_list("resolution", block, "recommendation.moved", outcome="carried",
                                that_items=bool(self.v.that_intro.match(text)))
            else:
                motion["drafts"].append(self.emit(Draft(
                    "recommendation", block.start, block.end, "recommendation.moved",
                    outcome="carried", block_index=index)))
            return True
        decision = sents[0].first_cue({"DECISION"}) if sents else None
        if decision is not None and block.role != "list_item":
            motion["drafts"].append(self.emit(Draft(
                "recommendation", decision.start, block.end, decision.rule,
                outcome=self._outcome(text), block_index=index)))
            return True
        lost = any(s.has({"LOST"}) for s in sents)
        carried = any(s.has({"CARRIED"}) for s in sents)
        if (lost or carried) and len(text.split()) <= 12:
            if lost and not carried:
                for d in motion["drafts"]:
                    self.drafts.remove(d)
                self.motion = None
            else:
                for d in motion["drafts"]:
                    d.outcome = self._outcome(text)
                motion["end"] = block.end
                self._close_motion()
            self.list_ctx = None
            return True
        if block.role == "list_item" and self.list_ctx is not None:
            return False
        if block.is_heading or not sents:
            return False
        if motion["drafts"] or sents[0].has({"MOTION", "SECONDED"}):
            return False
        self._close_motion()
        return False

    def _bare_mover(self, sent: Sent) -> bool:
        words = [w.lower() for w in _words(sent.text)]
        filler = self.v.bare_fillers
        caps = [w for w in _words(sent.text) if w[:1].isupper() and w.lower() not in filler]
        content = [w for w in words if w not in filler and w not in {c.lower() for c in caps}]
        return len(content) < 3

    def _motion_body_before(self) -> Optional[tuple[int, int]]:
        if self.last_that is not None and self.prev_block is self.last_that:
            return self.last_that.start, self.last_that.end
        if self.last_heading is not None and self.prev_block is self.last_heading:
            h = self.last_heading
            m = self.v.item_prefix.match(h.text)
            title = h.text[m.end() if m else 0:]
            if len(_words(self.v.item_ref.sub("", title))) < 3:
                return None
            return h.start + (m.end() if m else 0), h.end
        if self.section is not None:
            return None
        return None

    def _close_motion(self) -> None:
        motion = self.motion
        self.motion = None
        if motion is None or motion["drafts"]:
            return
        before = motion["before"]
        if before is not None:
            self.emit(Draft("recommendation", before[0], motion["end"], "recommendation.proposed_seconded",
                            outcome="agreed"))

    def finish(self) -> list[Draft]:
        self._close_motion()
        for draft in self.drafts:
            if draft.kind == "response" and not draft.speaker:
                draft.speaker = draft.default_speaker
        return sorted(self.drafts, key=lambda d: (d.start, d.end))

