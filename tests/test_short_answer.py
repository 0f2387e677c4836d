"""Short answers (issue 13): the span of a cited sentence that answers who/which/where/when/
how-many questions, on real seed sentences and hand-written news sentences."""

from __future__ import annotations

import pytest

import corpus
from qa.engine.question import Question
from qa.engine.short_answer import (
    answer_kind,
    best_span_score,
    exact_match,
    f1,
    ranked,
    short_answer,
)


@pytest.fixture(scope="module")
def seed_sentences() -> list[str]:
    out = []
    for article in corpus.load_articles(corpus.sample_path()):
        out += [article.text[s:e] for s, e in corpus.split_sentences(article.text)]
    return out


def _seed(sentences: list[str], words: str) -> str:
    return next(s for s in sentences if words in s)


def _answer(question: str, sentence: str) -> str | None:
    span = short_answer(Question.parse(question), sentence)
    return sentence[span[0]:span[1]] if span else None


def test_how_many_turkish_soldiers_is_33(seed_sentences):
    sentence = _seed(seed_sentences, "At least 33 Turkish soldiers were killed")
    assert _answer("How many Turkish soldiers were killed?", sentence) == "33"


def test_the_counted_noun_picks_the_figure_before_it():
    sentence = ("Officials said 12 buses and 33 Turkish soldiers were hit near the border, "
                "and 2 civilians died.")
    assert _answer("How many Turkish soldiers were hit?", sentence) == "33"
    assert _answer("How many civilians died?", sentence) == "2"


def test_who_is_the_name_the_question_does_not_say(seed_sentences):
    sentence = _seed(seed_sentences, "NATO Secretary General Jens Stoltenberg told")
    assert _answer("Who is the NATO secretary general?", sentence) == "Jens Stoltenberg"


def test_displaced_figure_with_thousands_separator(seed_sentences):
    sentence = _seed(seed_sentences, "According to UN officials, some 900,000")
    assert _answer("How many people have been displaced?", sentence) == "900,000"


def test_a_sentence_s_only_figure_answers_even_in_other_words(seed_sentences):
    # the cited sentence says "civilians have fled", the question "people were displaced"
    sentence = _seed(seed_sentences, "Some 950,0000 civilians have fled")
    assert _answer("How many people were displaced?", sentence) == "950,0000"


def test_when_gives_the_date(seed_sentences):
    sentence = _seed(seed_sentences, "Antonio Guterres on Feb. 27 reiterated")
    assert _answer("When did Guterres reiterate his call for a ceasefire?", sentence) == "Feb. 27"


@pytest.mark.parametrize("question, sentence, expected", [
    ("Where will the climate summit be held?",
     "The climate summit will be held in Dubai next month, organisers said on Tuesday.", "Dubai"),
    ("Which country won the 2023 Eurovision Song Contest?",
     "Loreen won the Eurovision Song Contest for Sweden in Liverpool on Saturday.", "Sweden"),
    ("What year was she first elected?",
     "Feinstein was first elected to the Senate in November 1992.", "1992"),
    ("In which month will the emergency end?",
     "The emergency will end on May 11, the White House said.", "May"),
    ("What percentage of Americans get a flu shot?",
     "About 50% of Americans get a flu shot each year, up from 3 in 10 in 2010.", "50%"),
    ("How much did the company agree to pay?",
     "Amazon agreed to pay $30.8 million to settle the complaints, 2 agencies said.",
     "$30.8 million"),
    ("Who will host the 2024 Academy Awards?",
     "Jimmy Kimmel will return to host the Academy Awards, the Academy announced Monday.",
     "Jimmy Kimmel"),
    ("Which game show will Pat Sajak step down from as host?",
     'Sajak announced that he will step back from hosting "Wheel of Fortune" next year.',
     "Wheel of Fortune"),
])
def test_hand_written_news(question, sentence, expected):
    assert _answer(question, sentence) == expected


@pytest.mark.parametrize("question, sentence", [
    ("What did NATO urge?", "NATO urged an immediate return to the 2018 ceasefire."),
    ("How many people attended the rally?", "Many people attended the rally in the capital."),
    ("Who condemned the attacks?", "The attacks were condemned by the alliance."),
    ("When did the NATO allies meet?", "The NATO allies met in Brussels."),
    # a name far from every word of the question is a guess, not an answer
    ("Who won the award?", "Paris hosted a dinner for the visiting delegation on Friday."),
])
def test_none_when_no_span_fits(question, sentence):
    assert _answer(question, sentence) is None


def test_the_question_s_own_names_are_not_answers():
    sentence = "Stoltenberg met Erdogan in Ankara."
    assert _answer("Who did Stoltenberg meet?", sentence) == "Erdogan"


def test_kind_is_read_from_the_asking_clause():
    q = Question.parse("Fox News shook the media world this week when it announced it would part "
                       "ways with which top-rated host?")
    assert q.kind == "date"  # the first cue anywhere ...
    assert answer_kind(q) == "person"  # ... but the question asks for a host


def test_span_metrics_normalise_like_squad():
    assert exact_match("The U.S.", ["US"]) == 1.0
    assert exact_match("33 soldiers", ["33"]) == 0.0
    assert f1("Jens Stoltenberg", ["Stoltenberg"]) == pytest.approx(2 / 3)
    assert f1(None, ["33"]) == 0.0 and exact_match(None, ["33"]) == 0.0
    assert f1("Paris", ["London", "Paris, France"]) == pytest.approx(2 / 3)


def test_the_best_span_score_of_sentences_for_retrieval():
    q = Question.parse("How many Turkish soldiers were killed in Idlib?")
    score = best_span_score(q)
    holds = "At least 33 Turkish soldiers were killed in an air strike in Idlib."
    assert score(holds) == pytest.approx(ranked(q, holds)[0][0]) and score(holds) > 1
    assert score("Turkish soldiers were killed in Idlib, officials said.") == 0.0
    # a question asking for no kind of thing scores no sentence
    assert best_span_score(Question.parse("What did NATO urge?"))(holds) == 0.0
