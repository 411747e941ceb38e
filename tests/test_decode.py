"""Reading article bytes in the encodings news archives hold: BOMs, declared charsets, Latin-1."""

from __future__ import annotations

import codecs

import pytest

from newsqa.index.ingest.decode import Undecodable, declared_encoding, decode

RUSSIAN = "Президент России заявил в понедельник, что переговоры продолжатся на следующей неделе."
KOI8_HTML = (
    '<html><head><meta charset="koi8-r"><title>Переговоры</title></head><body><p>'
    + RUSSIAN
    + "</p></body></html>"
)


@pytest.mark.fast
@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (KOI8_HTML.encode("koi8-r"), "koi8-r"),
        (
            KOI8_HTML.replace('<meta charset="koi8-r">', '<meta http-equiv="Content-Type" '
                              'content="text/html; charset=windows-1251">').encode("cp1251"),
            "cp1251",
        ),
        ("Content-Type: text/plain; charset=iso-8859-2\n\nZażółć gęślą.\n".encode("iso-8859-2"), "iso8859-2"),
        (('<?xml version="1.0" encoding="koi8-r"?><p>' + RUSSIAN + "</p>").encode("koi8-r"), "koi8-r"),
    ],
    ids=["meta charset", "http-equiv", "http-style header", "xml declaration"],
)
def test_declared_charset_is_honoured(raw: bytes, encoding: str) -> None:
    text, used = decode(raw)
    assert used == encoding
    assert "России" in text or "Zażółć gęślą" in text


@pytest.mark.fast
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_byte_order_mark_decides(codec: str) -> None:
    text = "Title £\n\nBody with ü and Привет.\n"
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(codec, b"")
    decoded, _ = decode(bom + text.encode(codec))
    assert decoded == text


@pytest.mark.fast
def test_latin1_pound_sign_is_decoded_not_skipped() -> None:
    raw = b"Chelsea sack Mutu\n\nChelsea paid a fee for Mutu, a \xa315.8m signing from Parma in 2003.\n"
    text, used = decode(raw)
    assert "£15.8m" in text and used == "cp1252"


@pytest.mark.fast
def test_undeclared_cyrillic_is_detected() -> None:
    text, used = decode((RUSSIAN + " " + RUSSIAN + "\n").encode("cp1251"))
    assert text.startswith("Президент") and used == "cp1251"


@pytest.mark.fast
def test_a_wrong_declaration_loses_to_valid_utf8() -> None:
    raw = '<meta charset="koi8-r"><p>Café crème, “quoted”.</p>'.encode()
    assert decode(raw) == ('<meta charset="koi8-r"><p>Café crème, “quoted”.</p>', "utf-8")


@pytest.mark.fast
def test_unknown_declared_charset_is_ignored() -> None:
    assert declared_encoding(b'<meta charset="x-no-such">') is None
    assert declared_encoding(b'<meta charset="latin1">') == "cp1252"  # what browsers read it as


@pytest.mark.fast
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty file"),
        (b"Title\n\x00\x01 data", "binary file"),
        (b"\xff\xfeT\x00\x00\xd8", "not valid UTF-16 despite its byte order mark (unexpected end of data)"),
        (bytes(range(0x80, 0x100)), "not UTF-8 (byte 0x80 at offset 0) and its encoding could not be "
         "recognised"),
    ],
    ids=["empty", "binary", "broken utf-16", "unrecognised"],
)
def test_what_is_not_text_is_refused_with_its_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(Undecodable) as info:
        decode(raw)
    assert str(info.value) == reason
