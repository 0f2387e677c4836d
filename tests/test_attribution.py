"""Who says so (issue 13): the speaker a cited sentence attributes its claim to, and hedging,
on the seed articles and hand-written news text."""

from __future__ import annotations

import pytest

import corpus
from qa.engine.attribution import attribution


@pytest.fixture(scope="module")
def seeds() -> list[str]:
    return [a.text for a in corpus.load_articles(corpus.sample_path())]


def _of(texts: list[str], words: str) -> tuple[str | None, bool]:
    """The attribution of the seed sentence holding ``words``."""
    for text in texts:
        for s, e in corpus.split_sentences(text):
            if words in text[s:e]:
                return attribution(text, s, e)
    raise AssertionError(f"no seed sentence holds {words!r}")


def _one(sentence: str) -> tuple[str | None, bool]:
    return attribution(sentence, 0, len(sentence))


def test_what_nato_urges_is_stoltenberg_s(seeds):
    # '"... We urge an immediate return to the 2018 cease-fire," he said.': "he" is the last
    # speaker named before it ("said Stoltenberg"), past a "he stressed" in between
    assert _of(seeds, "We urge an immediate return") == ("Stoltenberg", False)
    assert _of(seeds, "he stressed") == ("Stoltenberg", False)


def test_seed_patterns(seeds):
    assert _of(seeds, "According to UN officials, some 900,000") == ("UN officials", False)
    assert _of(seeds, 'Idlib province," said Stoltenberg') == ("Stoltenberg", False)
    assert _of(seeds, "Stoltenberg added that")[0] == "Stoltenberg"
    assert _of(seeds, "Amor said, calling on Turkey")[0] == "Amor"
    assert _of(seeds, "the spokesperson added")[0] == "the spokesperson"
    # a quote standing alone continues the speaker of the sentence before it
    assert _of(seeds, "Without urgent action")[0] == "Dujarric"
    # "X, the Y, said" names X, the appositive's name
    assert _of(seeds, "Stephane Dujarric, said Guterres")[0] == "Stephane Dujarric"


def test_the_article_s_own_voice_has_no_speaker(seeds):
    assert _of(seeds, "Turkey has 12 observation posts") == (None, False)
    assert _of(seeds, "Twelve Turkish observation outposts") == (None, False)
    assert _one("The bridge reopened on Monday after two years of repairs.") == (None, False)


@pytest.mark.parametrize("sentence, speaker", [
    ("Stoltenberg said the alliance stands with Turkey.", "Stoltenberg"),
    ("The alliance stands with Turkey, said Stoltenberg.", "Stoltenberg"),
    ("Stoltenberg told reporters the alliance stands with Turkey.", "Stoltenberg"),
    ("In a statement, the ministry said 12 people died.", "the ministry"),
    ("Twelve people died, according to the health ministry.", "the health ministry"),
    ("Jane Doe, the city's mayor, said the bridge would reopen in May.", "Jane Doe"),
    ('"The bridge will reopen in May," Mayor Jane Doe wrote on Twitter.', "Mayor Jane Doe"),
    ("Apple announced on Tuesday that it would cut 500 jobs.", "Apple"),
    ("The company says demand has fallen.", "The company"),
])
def test_speaker_patterns(sentence, speaker):
    assert _one(sentence) == (speaker, False)


def test_words_inside_a_quote_are_never_the_speaker():
    # "the president said" is quoted speech, not the article's attribution
    assert _one('The minister called it "what the president said we must do."') == (None, False)


def test_a_quote_continuing_into_the_next_sentence():
    text = ('Jane Doe opened the meeting. "We will rebuild the bridge by spring. It will cost '
            '$2 million," she said.')
    start = text.index('"We will')
    end = text.index("spring.") + len("spring.")
    assert attribution(text, start, end) == ("Jane Doe", False)


@pytest.mark.parametrize("sentence, speaker", [
    ("The suspect allegedly fired three shots.", None),
    ("The president is said to be furious about the leak.", None),
    ("Rebels reportedly seized the town overnight.", None),
    ("Moscow claimed that Ankara had aided terrorists.", "Moscow"),
    ("Erdogan claimed on Wednesday the forces were targeting civilians.", "Erdogan"),
    ("The attack killed 20 people, according to unverified reports.", "unverified reports"),
    ("The leader is believed to be in hiding, officials said.", "officials"),
])
def test_hedges(sentence, speaker):
    assert _one(sentence) == (speaker, True)


def test_plain_said_is_not_hedged():
    assert _one("The minister said the talks had failed.")[1] is False
    assert _one("The team claimed victory in the final.")[1] is False  # a title, not a claim


@pytest.mark.parametrize(("sentence", "who"), [
    ("Tech firms laid off 95,000 workers, according to data compiled by Layoffs.fyi, a site.",
     "data compiled by Layoffs.fyi"),
    ("Five brands were recalled, according to the U.S. Department of Agriculture.",
     "the U.S. Department of Agriculture"),
    ("Tom Brady, a seven-time Super Bowl winner, said Monday on his podcast that he is staying.",
     "Tom Brady"),
    ("California declared a state of emergency Wednesday as a storm hit.", None),
    ("Haley announced her presidential campaign in February.", None),
    ("The NCAA announced Monday that Indianapolis will host the 2026 Final Four.", "The NCAA"),
])
def test_names_with_dots_days_and_acts_that_are_not_claims(sentence, who):
    assert attribution(sentence, 0, len(sentence))[0] == who
