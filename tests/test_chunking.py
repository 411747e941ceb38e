from __future__ import annotations

import pytest

from newsqa.index.ingest.chunking import Chunker, count_tokens
from newsqa.index.text.sentences import sentence_pieces, split_sentences
from newsqa.index.types import Article

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`


def _article(text: str, source: str = "a/b.txt") -> Article:
    return Article(source=source, title="Title", text=text, sha256="0" * 64)


LONG = " ".join(
    f"Sentence number {i} says that roughly {i * 100} U.S. troops moved to base {i} on Jan. {i % 28 + 1}."
    for i in range(60)
)


def test_chunks_stay_within_the_token_budget():
    chunks = Chunker(64, 8).split(_article(LONG))
    assert len(chunks) > 5
    assert all(count_tokens(c.text) <= 64 for c in chunks)


def test_chunk_ids_are_path_and_number_and_stable():
    first = Chunker(64, 8).split(_article(LONG))
    second = Chunker(64, 8).split(_article(LONG))
    assert [c.id for c in first] == [f"a/b.txt#{n}" for n in range(len(first))]
    assert [c.text for c in first] == [c.text for c in second]


def test_chunks_end_on_sentence_boundaries_not_inside_abbreviations():
    for chunk in Chunker(64, 8).split(_article(LONG)):
        assert chunk.text.endswith("."), chunk.text
        assert not chunk.text.endswith("U.S."), chunk.text


def test_overlap_repeats_the_end_of_the_previous_chunk():
    chunks = Chunker(64, 30).split(_article(LONG))  # sentences are ~24 tokens
    last_sentence = split_sentences(chunks[0].text)[-1]
    assert chunks[1].text.startswith(last_sentence)


def test_empty_article_has_no_chunks():
    assert Chunker(64, 8).split(_article("   \n ")) == []


@pytest.mark.parametrize(("size", "overlap"), [(10, 0), (64, 64), (64, -1)])
def test_chunker_rejects_bad_sizes_naming_the_value(size, overlap):
    with pytest.raises(ValueError, match=str(size) if size < 32 else str(overlap)):
        Chunker(size, overlap)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. military said Gen. Smith left. He came back.",
            ["The U.S. military said Gen. Smith left.", "He came back."],
        ),
        ("John F. Kennedy spoke. Crowds cheered!", ["John F. Kennedy spoke.", "Crowds cheered!"]),
        (
            "Roughly 2,500 U.S. troops remain. 3,000 left.",
            ["Roughly 2,500 U.S. troops remain.", "3,000 left."],
        ),
        ("Headline\nBody text here. More.", ["Headline", "Body text here.", "More."]),
    ],
)
def test_sentence_splitter_knows_abbreviations(text, expected):
    assert split_sentences(text) == expected


def test_sentence_pieces_rejoin_to_the_original_text():
    assert "".join(sentence_pieces(LONG + "\nTail line\n\nNext para.")) == LONG + "\nTail line\n\nNext para."
