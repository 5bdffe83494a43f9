"""Extraction rules, one sentence (or short passage) per case."""
from __future__ import annotations

import pytest

from minutes.extract import extract as extract_all
from tests.conftest import doc_from_text


def extract(document):
    """The records the rules make (passages, the text no record covers, are tested apart)."""
    return [r for r in extract_all(document) if r.kind != "passage"]


def kinds(text: str) -> list[str]:
    return [r.kind for r in extract(doc_from_text(text))]


QUESTIONS = [
    "Councillor Priya Nair asked whether the Hollins Road depot would reopen in the spring.",
    "A Member sought clarification on the timetable for the consultation.",
    "The Committee enquired as to whether the partnership had a role in capital allocations.",
    "Cllr. Tom Byrne enquired about the housing allocation scheme for older tenants.",
    "Members questioned the effectiveness of the new triage arrangements.",
    "Is it okay if the school district handles the absentee ballot process again this year?",
    "Questions were raised as to the cost of the temporary accommodation.",
    "Cr Lau wished to know when the footpath works on Mulga Street would start.",
]


@pytest.mark.parametrize("sentence", QUESTIONS)
def test_questions(sentence):
    assert kinds(sentence) == ["question"]


NOT_QUESTIONS = [
    "A Member was pleased with the progress made on the play areas.",
    "Concern was raised that the scheme was running six months late.",
    "Members were asked to note the report.",
    "Councillor Byrne did not ask a supplementary question.",
    "The Chair thanked officers for a comprehensive report.",
    "Apologies: Councillor Smith and Councillor Jones.",
]


@pytest.mark.parametrize("sentence", NOT_QUESTIONS)
def test_not_extracted(sentence):
    assert kinds(sentence) == []


@pytest.mark.parametrize("text, cue", [
    ("The Committee queried the cost of the scheme. It was responded that it would cost £2m.", "It was responded"),
    ("Cllr. Ann Hale asked about the tenure mix and Ms. Rose Kerr, Director of Housing, advised that it would be half social.", "Ms. Rose Kerr"),
    ("Members queried how the grant would be spent and were advised that it would fund two posts.", "were advised"),
    ("A Member asked how many fines had been paid. The Head of Waste Services explained that 39 of 47 had been paid.", "The Head of Waste"),
    ("Jan asked when the township could apply for more funds and Ray confirmed it could apply again in September.", "Ray confirmed"),
])
def test_question_then_linked_answer(text, cue):
    question, response = extract(doc_from_text(text))
    assert (question.kind, response.kind) == ("question", "response")
    assert response.text.startswith(cue)
    assert response.in_reply_to == question.id
    assert question.answer_status == "answered"


def test_deferred_answer():
    text = ("A Member asked how many households were on the waiting list. "
            "Officers undertook to provide a written answer after the meeting.")
    question, response = extract(doc_from_text(text))
    assert response.in_reply_to == question.id
    assert question.answer_status == "deferred"


def test_unanswered_question():
    (question,) = extract(doc_from_text("Councillor Oyelaran asked whether the library would open on Sundays."))
    assert question.answer_status == "unanswered"


def test_comment_is_not_answered_by_later_statement_in_new_paragraph():
    text = ("Councillor Reid asked about the bus timetable. Ms Cole explained that it was under review.\n\n"
            "Ms Cole added that the depot lease ran until 2027.")
    assert kinds(text) == ["question", "response"]


@pytest.mark.parametrize("text, expected", [
    ("RESOLVED that the report be noted.", ["the report be noted."]),
    ("RESOLVED – to endorse the Sufficiency Strategy 2025-2030.", ["to endorse the Sufficiency Strategy 2025-2030."]),
    ("RESOLVED that: (a) the strategy be adopted; (b) officers report back in June.",
     ["the strategy be adopted", "officers report back in June."]),
    ("The Committee AGREED to make the following recommendations:\n\n1. To publish the data quarterly.\n\n"
     "2. To review the scheme in a year.", ["To publish the data quarterly.", "To review the scheme in a year."]),
    ("The Panel discussed the protocol. It was agreed that children should be placed close to home.",
     ["children should be placed close to home."]),
    # a carried motion is recorded from the action on, without mover, seconder or outcome
    ("MOTION by Selectman Abbott, seconded by Selectwoman Fitch, to approve the warrant. Motion carried 4-1.",
     ["to approve the warrant."]),
])
def test_recommendations(text, expected):
    records = extract(doc_from_text(text))
    assert [r.text for r in records if r.kind == "recommendation"] == expected


def test_vote_outcome_recorded():
    (rec,) = extract(doc_from_text(
        "MOTION by Selectman Abbott, seconded by Selectwoman Fitch, to approve the warrant. Motion carried 4-1."))
    assert (rec.outcome, rec.votes_for, rec.votes_against) == ("carried", 4, 1)


@pytest.mark.parametrize("text", [
    "Councillor Lowe moved, and Councillor Pryor seconded, an amendment that £150,000 be moved to buses. "
    "The amendment was put to the vote and was LOST.",
    "MOVED Cr Reid SECONDED Cr Kettle\n\nThat Council purchase a new community bus.\n\nLOST 2/5",
    "The officer report recommended that the Cabinet approve the subsidy. The Cabinet is asked to approve the subsidy.",
])
def test_lost_or_unagreed_motions_are_not_recommendations(text):
    assert "recommendation" not in kinds(text)


def test_reasons_for_decision_are_not_recommendations():
    text = ("RESOLVED that the plan be adopted.\n\nReasons for the decision\n\n"
            "The plan was agreed because it reduces costs.\n\nOther options considered\n\nIt was agreed that doing nothing was not viable.")
    assert [r.text for r in extract(doc_from_text(text))] == ["the plan be adopted."]


def test_moved_seconded_then_that_council_list():
    text = ("MOVED Cr Lau SECONDED Cr Vickery\n\nThat Council:\n\n1. Retain the existing bus.\n\n"
            "2. Apply for a transport grant.\n\nCARRIED 6/1")
    recs = extract(doc_from_text(text))
    assert [r.text for r in recs] == ["Retain the existing bus.", "Apply for a transport grant."]
    assert all((r.outcome, r.votes_for, r.votes_against) == ("carried", 6, 1) for r in recs)


def test_answers_listed_after_several_questions_link_to_the_right_one():
    text = ("Members asked about the closure of the Hollins Road depot.\n\n"
            "Members also asked about the rural bus grant.\n\n"
            "In response to Members' questions, it was noted that:\n\n"
            "a. The rural bus grant would be paid in April.\n\n"
            "b. The Hollins Road depot closure was temporary.")
    q1, q2, r1, r2 = extract(doc_from_text(text))
    assert r1.in_reply_to == q2.id
    assert r2.in_reply_to == q1.id


def test_written_question_and_reply():
    text = ("Question 2 from Councillor Nair to the Cabinet Member for Housing: How many households were in "
            "bed and breakfast accommodation on 31 January?\n\n"
            "REPLY: Twenty-two households, nine of them with children. I will ask officers to publish the figures.")
    question, reply = extract(doc_from_text(text))
    assert (question.kind, reply.kind) == ("question", "response")
    assert reply.in_reply_to == question.id
    assert question.speaker == "Councillor Nair"


def test_every_record_names_its_rule_and_valid_span():
    text = "The Committee queried the cost. It was responded that it was £2m.\n\nRESOLVED that the report be noted."
    document = doc_from_text(text)
    for record in extract(document):
        assert record.rule
        assert 0 <= record.start < record.end <= len(document.text)
        assert " ".join(document.text[record.start:record.end].split()) == record.text


def test_phrase_compiled_rules_match_like_the_matcher():
    """Literal rules run through a PhraseMatcher for speed; they must find what the Matcher finds."""
    from spacy.matcher import Matcher

    from minutes.extract import get_nlp
    from minutes.extract.components import literal_phrases
    from minutes.extract.rules import load_rules

    nlp = get_nlp()
    text = ("It was responded that the Committee AGREED. Cllr. Ann Hale sought further clarification and "
            "was advised that officers undertook to provide a written answer. The motion was seconded and CARRIED. "
            "In response to questions, it was noted that concerns were raised; Members wished to know more.")
    doc = nlp(text)
    plain = Matcher(nlp.vocab)
    for rule in load_rules():
        if literal_phrases(rule) is not None:
            plain.add(rule.id, [rule.pattern])
    expected = {(nlp.vocab.strings[m], s, e) for m, s, e in plain(doc)}
    found = {(span.id_, span.start, span.end) for span in doc.spans["cues"]}
    assert expected and expected <= found


def test_speaker_resolved_to_name_and_role():
    text = ("In attendance: Richard Shwe (Director – Housing), Ann Lowe (Democratic Services Officer).\n\n"
            "A Member asked how many homes were empty. Mr Shwe explained that 180 homes were awaiting repair.")
    question, response = [r for r in extract(doc_from_text(text)) if r.kind != "passage"]
    assert question.speaker == "A Member"
    assert response.speaker == "Richard Shwe (Director – Housing)"


def test_impersonal_answers_are_the_presenters():
    text = ("Dana Okoro (Head of Planning) presented the report.\n\n"
            "The Committee queried the backlog of appeals. It was responded that two planners had been recruited.")
    _, response = extract(doc_from_text(text))
    assert response.speaker == "Dana Okoro (Head of Planning)"


@pytest.mark.parametrize("text, expected", [
    ("The report was received.", ["The report was received."]),
    ("On a motion by Councilmember Huang, seconded by Councilmember Bell, the Council took the following action:\n\n"
     "Action: Approved the consent calendar items 3a-3f.", ["Approved the consent calendar items 3a-3f."]),
    ("The Committee agreed:-\n\n(i) to note the annual report;\n\n(ii) to establish a working group of three Members.",
     ["to note the annual report", "to establish a working group of three Members."]),
])
def test_decision_forms(text, expected):
    assert [r.text for r in extract(doc_from_text(text)) if r.kind == "recommendation"] == expected


def test_amendment_lost_on_a_division():
    text = ("Amendment\n\nMoved: Cr Dunstan / Seconded: Cr Ormsby\n\n"
            "That clause (c) be amended so that green waste is accepted free of charge.\n\n"
            "A division was called for, voting on which was as follows:\n\n"
            "For: Cr Dunstan, Cr Ormsby (2)\n\nAgainst: Mayor Pickering, Cr Latu, Cr Hollis (3)\n\nThe amendment was LOST.")
    assert "recommendation" not in kinds(text)


# ---- forms of real minutes (issue 15), each written as it is minuted ----------------
def records(text: str) -> list[tuple[str, str]]:
    return [(r.kind, r.text) for r in extract(doc_from_text(text))]


@pytest.mark.parametrize("text, action", [
    ("It was moved by Mr. Hernandez, seconded by Ms. Creason, that the minutes of the September meeting be "
     "approved. MOTION CARRIED UNANIMOUSLY.", "that the minutes of the September meeting be approved."),
    ("Motion by Commissioner Ruiz, second by Commissioner Lee, to adopt Resolution 2024-12 approving the fee "
     "schedule. Motion carried 5-0.", "to adopt Resolution 2024-12 approving the fee schedule."),
    ("Commissioner Wojcik moved to approve the purchase of two plow trucks. Commissioner Lindgren seconded. "
     "Motion carried 5-0.", "to approve the purchase of two plow trucks."),
    ("Stearns made the motion to adjourn. Emerson seconded the motion. Motion passed 3-0.", "to adjourn."),
    ("By consensus, Council directed staff to return with options for the skate park.",
     "Council directed staff to return with options for the skate park."),
])
def test_us_action_minutes_start_at_the_action(text, action):
    assert records(text) == [("recommendation", action)]


def test_a_motion_reported_in_the_passive_is_no_motion():
    assert records("The children housed there were moved to a unit in the next county.") == []


def test_a_consent_agenda_gives_one_decision_per_item():
    text = ("Motion by Commissioner Dahl, second by Commissioner Wojcik, to approve the Consent Agenda as follows:\n\n"
            "A. Approve the minutes of the August meeting.\n\nB. Approve claims in the amount of $1,204.18.\n\n"
            "Motion carried 5-0.")
    assert [t for k, t in records(text)] == ["Approve the minutes of the August meeting.",
                                             "Approve claims in the amount of $1,204.18."]


@pytest.mark.parametrize("label", ["RESOLUTION CWC 24/103", "RESOLVED: Minute No. CWC 24/103"])
def test_a_numbered_resolution_takes_the_motion_that_follows(label):
    text = (f"{label}\n\nThat the Committee:\n\na) Receives the report titled \"Libraries\".\n\n"
            "b) Approves the extension of Sunday opening hours.\n\nMoved: Cr A\n\nSeconded: Cr B\n\nCARRIED")
    assert [t for k, t in records(text)] == ['Receives the report titled "Libraries".',
                                             "Approves the extension of Sunday opening hours."]


def test_a_decided_table_row_is_a_recommendation_and_the_header_is_not():
    text = ("Group | Project | Amount sought | Decision\n\n"
            "Kilnsey Scouts | New tents | £800 | Approved £500\n\n"
            "Operatic Society | Theatre hire | £1,200 | Declined – running costs are not funded")
    assert [k for k, t in records(text)] == ["recommendation", "recommendation"]
    assert records(text)[0][1] == "Kilnsey Scouts | New tents | £800 | Approved £500"


def test_items_run_together_each_with_its_decision_are_split():
    text = "Invoice for insurance £689.62 resolved to pay Village Hall fees £40.00 resolved to pay"
    assert [t for k, t in records(text)] == ["Invoice for insurance £689.62 resolved to pay",
                                             "Village Hall fees £40.00 resolved to pay"]


def test_a_decision_reported_in_the_passive_is_no_item():
    assert "recommendation" not in kinds("Members asked whether the trajectory had now been agreed.")


def test_agreement_refers_back_to_the_sentence_before():
    text = "Cllr Mrs Buckley proposed that a letter of apology be sent to the haulier. This was agreed by all."
    assert records(text) == [("recommendation", text)]


@pytest.mark.parametrize("text, question, answer", [
    ("Ms. Villescaz inquired about the next steps in the plan, which Superintendent Kern explained would "
     "include finalising a model.", "Ms. Villescaz inquired about the next steps in the plan",
     "which Superintendent Kern explained would include finalising a model."),
    ("The Chairman asked when the next meeting would be, Cllr Mrs Clements advised it would be September.",
     "The Chairman asked when the next meeting would be", "Cllr Mrs Clements advised it would be September."),
])
def test_an_answer_in_the_same_sentence(text, question, answer):
    assert records(text) == [("question", question), ("response", answer)]


def test_a_speaker_who_comments_then_asks_is_asking():
    text = ("Dr. McKibbin noted that career education had driven many projects and he inquired about the "
            "contributions to the charter school.")
    assert kinds(text) == ["question"]


@pytest.mark.parametrize("text", [
    "Ms. Creason acknowledged the work of the Facilities Committee and the stakeholder process.",
    "Caroline Digman shared her experiences with distance learning.",
    "The owner has not responded to any correspondence since 2023.",
    "Of the 3,912 people who responded to the consultation, 61 per cent supported an increase.",
])
def test_statements_and_reported_replies_are_not_responses(text):
    assert kinds(text) == []


def test_a_member_answers_a_resident():
    text = ("Another resident wanted to know when the bench by the pond is going to be replaced. "
            "Cllr Dobbs said it is on order and should be in by the end of August.")
    assert kinds(text) == ["question", "response"]


def test_quoted_question_and_answer_run_over_paragraphs():
    text = ('Ms Joanne Prendiville of Banksia Ridge asked:\n\n"The shared path has been closed for eleven weeks. '
            'When will it reopen?"\n\nThe Director City Infrastructure, Mr Alan Cheung, responded:\n\n'
            '"The path was closed after the bank slumped. It will reopen in June."')
    (qk, qt), (rk, rt) = records(text)
    assert (qk, rk) == ("question", "response")
    assert qt.endswith('When will it reopen?"') and rt.endswith('It will reopen in June."')


@pytest.mark.parametrize("text", ["Anyone else? Seeing no one, we'll close public comment.",
                                  "CHAIR BRANNIGAN: Questions for Michael? Hearing none."])
def test_chairing_lines_are_not_questions_or_answers(text):
    assert "response" not in kinds(text)


def test_staff_response_label_answers_the_question():
    text = ("Q1 Cr Ngaire Te Awa asked whether the old bridge could be kept open for walking.\n\n"
            "Staff response: No. The new bridge is built on the same alignment.")
    assert kinds(text) == ["question", "response"]


@pytest.mark.parametrize("notice, settle", [
    ('Notice of Motion submitted by Cllr. A. Cusack\n"That the Council provide seating along the Riverside Walk."',
     "The Motion was adopted."),
    ("Notice of Motion submitted by Councillor E. Moynihan\n\nI will move at the next Meeting that the Council "
     "provide seating along the Riverside Walk.", "Following discussion, the Motion was agreed."),
])
def test_a_notice_of_motion_is_the_decision_its_later_adoption_settles(notice, settle):
    text = f"{notice}\n\nThe Motion was seconded by Cllr. Mulqueen.\n\nCllr. Cusack spoke in support.\n\n{settle}"
    got = records(text)
    assert [k for k, t in got] == ["recommendation"]
    assert "provide seating along the Riverside Walk" in got[0][1] and "Motion" not in got[0][1]


def test_a_lost_notice_of_motion_is_no_decision():
    text = ('Notice of Motion submitted by Cllr. A. Cusack\n"That the Council provide seating on the Walk."\n\n'
            "The Motion was put to the vote and was lost.")
    assert "recommendation" not in kinds(text)


def test_a_resolution_replaces_the_motion_that_only_moved_it():
    text = ("Councillor Lavington moved, and Councillor Stainforth seconded, the recommendation set out in the report.\n\n"
            "RESOLVED that the Treasury Management Mid-Year Review be noted.")
    assert records(text) == [("recommendation", "the Treasury Management Mid-Year Review be noted.")]


@pytest.mark.parametrize("label", ["REPLY:", "Response provided by Paul Gatenby, Director Infrastructure Services:"])
def test_a_reply_label_on_its_own_line_takes_the_paragraphs_after_it(label):
    text = (f'Mr Pettigrew asked: "Why was the grading of Tarcombe Lane cancelled?"\n\n{label}\n\n'
            '"The grading was postponed because the lane was too wet."')
    got = records(text)
    assert [k for k, t in got] == ["question", "response"]
    assert got[1][1] == '"The grading was postponed because the lane was too wet."'


def test_a_reply_in_lettered_parts_is_one_answer():
    text = ("Question submitted by Councillor S. Ni Bhriain\n\nI will ask at the next Meeting (a) if the Council will "
            "survey Lisheen Cross and (b) when works will be carried out.\n\nREPLY:\n\n(a) The District Office is aware "
            "of the flooding.\n\n(b) The works are scheduled for April 2024.")
    got = records(text)
    assert [k for k, t in got] == ["question", "response"]
    assert "The District Office is aware" in got[1][1] and got[1][1].endswith("April 2024.")


def test_the_decision_replaces_the_motion_and_amendment_debated_before_it():
    text = ("The Convener, seconded by Councillor Baird, moved that the recommendations in the report be approved.\n\n"
            "As an amendment, Councillor Gow, seconded by Councillor Strachan, moved that the rent increase be set at 5%.\n\n"
            "On a division, there voted for the amendment 2 and for the motion 7, and the motion was carried.\n\n"
            "The Committee agreed:-\n\n(i) to approve a rent increase of 6.5%;\n\n(ii) to approve the capital programme.")
    assert [t for k, t in records(text)] == ["to approve a rent increase of 6.5%", "to approve the capital programme."]


def test_that_council_approve_as_follows_lists_the_decisions():
    text = ("That Council approve the recommendations outlined in Report FCS24-017 as follows:\n\n"
            "a) That the Treasurer's Report be received for information; and\n\n"
            "b) That the accounting policies be approved.")
    assert [k for k, t in records(text)] == ["recommendation", "recommendation"]


def test_an_officers_recommendation_is_proposed_not_decided():
    text = ("Officer's Recommendation\n\nThat Council:\n\n1. Adopt the Road Management Plan 2023.\n\n"
            "2. Give public notice of the adoption of the Plan.")
    assert "recommendation" not in kinds(text)


def test_the_reasons_for_a_decision_are_not_the_decision():
    text = ("RESOLVED that the Head of Waste Services be authorised to make minor amendments before publication. "
            "Reasons for the decision: to provide a clear basis for enforcement.")
    assert records(text) == [("recommendation", "the Head of Waste Services be authorised to make minor "
                                                "amendments before publication.")]
