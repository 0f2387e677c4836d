"""The five bundled sample articles: real pages, full of real boilerplate."""

import datetime as dt

import pytest

import corpus

HEADLINES = [
    "UN calls for de-escalation after Turkey-Assad regime clashes",
    "UN calls for de-escalation in Syria’s Idlib - spokesperson",
    "33 Turkish soldiers killed in Syria's Idlib",
    "Turkiye, Russia discuss escalation in northern Syria",
    "NATO calls on Russia, Syrian regime to halt offensive in Idlib after extraordinary meeting",
]

# Boilerplate seen in the seeds: none of it may reach an article's text or a passage.
JUNK = [
    "sharing button", "Facebook 50", "Last Update", "It's Over 9000", "related articles",
    "All news", "ANKARA - Anadolu Agency", "St·phane", "WEB_Syria", "Source: Anadolu",
    "The views expressed", "/TASS/", "UNITED NATIONS, February 14", "Published at",
    "Monday, Mar 27, 2023", "More civilians killed", "Refugee fears", "UN powerlessness",
    "UN top diplomat reiterates call for ceasefire", "Turkish parties extend condolences",
    "EU rapporteur 'very sorry'", "US calls for end to Syrian regime's offensive",
    "A rebel tank patrols the streets", "The Syrian Observatory For Human Rights\n",
]


@pytest.fixture(scope="module")
def articles():
    return sorted(corpus.load_articles(corpus.sample_path()), key=lambda a: a.path)


def test_titles_are_the_headlines(articles):
    assert [a.title for a in articles] == HEADLINES


@pytest.mark.parametrize("junk", JUNK)
def test_no_boilerplate_in_text_or_passages(articles, junk):
    for article in articles:
        assert junk not in article.text, (article.path, junk)
        for passage in corpus.chunk_article(article):
            assert junk not in passage.text


def test_headline_not_repeated_in_body(articles):
    for article in articles:
        assert article.title not in article.text
        assert not article.text.startswith(article.title)


def test_inline_related_headline_is_gone_but_the_fact_stays(articles):
    nato = articles[4]
    assert "At least 33 Turkish troops killed in Syria's Idlib" not in nato.text
    assert "At least 33 Turkish troops were killed in the airstrike" in nato.text


def test_facts_go_to_fields(articles):
    by_title = {a.title: a for a in articles}
    assert by_title[HEADLINES[0]].source == "Anadolu Agency"
    assert by_title[HEADLINES[0]].site == "It's Over 9000!"
    assert by_title[HEADLINES[1]].source == "TASS"
    assert by_title[HEADLINES[2]].published == dt.date(2020, 2, 28)
    assert by_title[HEADLINES[3]].source == "The Syrian Observatory For Human Rights"
    assert by_title[HEADLINES[4]].source == "Anadolu Agency"


def test_mojibake_repaired(articles):
    assert "Stéphane Dujarric, Spokesperson" in articles[1].text


def test_dateline_removed_but_sentence_kept(articles):
    assert articles[1].text.count("United Nations calls on Syria, Turkey and Russia") == 1
    assert "\n\nUnited Nations calls on Syria" in articles[1].text


def test_quotes_and_body_kept_verbatim(articles):
    assert "The UN is “alarmed” by recent clashes" in articles[0].text
    assert articles[2].text.rstrip().endswith("crippled UN action in Syria.")


def test_ids_are_stable_across_runs(articles):
    again = sorted(corpus.load_articles(corpus.sample_path()), key=lambda a: a.path)
    assert [a.id for a in again] == [a.id for a in articles]
    assert [a.content_hash for a in again] == [a.content_hash for a in articles]
    assert len({a.id for a in articles}) == 5
