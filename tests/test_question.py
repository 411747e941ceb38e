"""Reading a question: its names, the articles that name them, and answers that need it read right."""

from __future__ import annotations

import pytest

from newsqa.index.answering.answer import grounded
from newsqa.index.answering.question import analyse
from newsqa.index.service import QA
from newsqa.index.text.names import misspelt_mention
from newsqa.index.text.normalise import fold


@pytest.mark.fast
@pytest.mark.parametrize(
    ("text", "name", "named"),
    [
        ("john sheepshanks donated 233 paintings", "john sheeshanks", True),  # a letter missing
        ("galor and zeira showed", "zeria", True),  # two letters swapped
        ("it was founded as telenet", "telnet", True),
        ("troops in iraq", "iran", False),  # short names must match exactly
        ("relations with slovakia", "slovenia", False),  # two letters apart
        ("the german army", "germany", False),  # endings are inflection, left to `mentions`
    ],
)
def test_misspelt_mention_allows_one_typo_inside_a_long_name(text: str, name: str, named: bool):
    assert misspelt_mention(text, name) is named


ARTICLES = {
    "mongols.txt": (
        "Jamukha and the khuruldai\n\n"
        "Temüjin and Jamukha were once sworn brothers. In 1201, a khuruldai elected Jamukha as Gür Khan, "
        "a title used by the rulers of the Qara Khitai. The election ended their alliance."
    ),
    "museum.txt": (
        "The museum's collections\n\n"
        "In 1857 John Sheepshanks donated 233 paintings, mainly by contemporary British artists, to the "
        "museum. The gift formed the core of its national gallery of British art."
    ),
    "talks.txt": (
        "Iraq and US hold security talks\n\n"
        "Iraq and the United States have held confidential security talks since July 22, 2024. "
        "Officials did not say how many soldiers took part."
    ),
    "church.txt": (
        "The Wesleyan tradition\n\n"
        "Wesleyan theology shaped the United Methodist Church. It has been characterized as Arminian "
        "theology with an emphasis on the work of the Holy Spirit. Members meet weekly in small groups."
    ),
    "geology.txt": (
        "How rocks fold\n\n"
        "Deep in the Earth rock can fold in two ways. Where the material buckles upwards it creates "
        "antiforms; where it buckles downwards it creates synforms."
    ),
}


@pytest.fixture(scope="module")
def small_qa(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> QA:
    from newsqa.index.config import Settings

    root = tmp_path_factory.mktemp("kinds")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    qa = QA(Settings(corpus_dir=corpus, index_dir=root / "index"), embedder=embedder)
    qa.reindex()
    return qa


@pytest.mark.parametrize(
    ("question", "expected", "source"),
    [
        ("What year was Jamukha elected Gür Khan?", "1201", "mongols.txt"),  # a year before 1500
        ("How many paintings did John Sheeshanks give to the museum?", "233", "museum.txt"),  # typo
        pytest.param(
            "When rock folds deep in the Earth and buckles downwards, it creates what?",
            "synforms",
            None,
            marks=pytest.mark.xfail(strict=True, reason="known miss of the reader model: 'two ways'"),
        ),
        # The answering sentence opens with "It": the sentence it points back to is quoted with it.
        (
            "What has been characterized as Arminian theology with an emphasis on the Holy Spirit?",
            "Wesleyan",
            None,
        ),
    ],
)
def test_answers_that_need_the_question_read_right(small_qa: QA, question: str, expected: str, source):
    answer = small_qa.ask(question)
    assert not answer.abstained
    assert expected in answer.answer
    if source:
        assert answer.citations[0].source == source


def test_a_question_the_article_touches_but_does_not_answer_is_abstained(small_qa: QA):
    # The talks article names Iraqi soldiers and a date in 2024, but says nothing of deaths.
    assert small_qa.ask("How many Iraqi soldiers died in 2024?").abstained


@pytest.mark.fast
@pytest.mark.parametrize(
    ("question", "article", "named"),
    [
        ("How many US troops are in Iraq?", "2,500 U.S. troops remain in Iraq.", True),
        ("How many troops does the UK have in Estonia?", "2,500 U.S. troops remain in Iraq.", False),
        ("How many paintings did John Sheeshanks give?", "John Sheepshanks gave 233 paintings.", True),
        ("how many us troops in germany", "2,500 U.S. troops remain in Iraq.", True),  # no capitals, no names
    ],
)
def test_an_article_must_name_what_the_question_names(question: str, article: str, named: bool):
    assert grounded(analyse(question), fold(article)) is named
