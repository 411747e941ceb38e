"""An article file's bytes to text: a BOM, then UTF-8, then a declared charset, then detection.

A byte order mark (UTF-8/16/32) decides. Bytes that are valid UTF-8 are UTF-8 whatever the page
declares (legacy-encoded text is almost never valid UTF-8, while pages saved as UTF-8 often keep a
stale `charset=iso-8859-1`). Otherwise a declaration in the first bytes (`<meta charset>`,
`http-equiv` / HTTP-style `Content-Type: …; charset=…`, `<?xml encoding=…?>`) is honoured;
otherwise the encoding is detected (`_detect`), trusted only above a confidence floor. Anything
else is refused with its reason.
"""

from __future__ import annotations

import codecs
import re

_CONTROL_BYTES = frozenset(set(range(32)) - {9, 10, 12, 13} | {127})
_CONTROL_DELETE = bytes(sorted(_CONTROL_BYTES))  # for bytes.translate: counting them in C
_BOMS = (  # UTF-32's BOMs start with UTF-16's: test them first
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)"""
    rb"""|^content-type:[^\n]*?charset\s*=\s*["']?([A-Za-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE | re.MULTILINE,
)
# What browsers read these labels as (WHATWG Encoding): Latin-1 pages are cp1252, and a UTF-16 label
# on bytes that an ASCII scan could read is wrong.
_AS_BROWSERS_READ = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "utf-16": "utf-8",
    "utf-16-le": "utf-8",
    "utf-16-be": "utf-8",
}
HEAD = 65536  # bytes looked at for a declaration and for control characters
MIN_COHERENCE = 0.2  # charset-normalizer's language coherence below which a guess is not trusted
MAX_CHAOS = 0.2  # ... and its "mess" ratio above which it is not
WESTERN_SHARE = 0.05  # non-ASCII bytes in English, French or German news; Polish or Cyrillic has more
MOSTLY_ASCII_SHARE = 0.3  # a short text detection cannot place, still mostly ASCII: cp1252


class Undecodable(ValueError):
    """The bytes are not text this module can read; the message says why."""


def decode(raw: bytes, declared: str | None = None) -> tuple[str, str]:
    """(text, the encoding used); Undecodable with the reason when the bytes are not text.

    `declared` is a charset named outside the bytes (an HTTP Content-Type header): it counts when
    the bytes declare none themselves."""
    if not raw.strip():
        raise Undecodable("empty file")
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), encoding.removesuffix("-sig")
            except UnicodeDecodeError as exc:
                reason = f"not valid {encoding.upper()} despite its byte order mark ({exc.reason})"
                raise Undecodable(reason) from None
    head = raw[:HEAD]
    control = len(head) - len(head.translate(None, _CONTROL_DELETE))
    if b"\0" in raw or control > 0.05 * len(head):
        raise Undecodable("binary file")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = f"byte 0x{raw[exc.start]:02x} at offset {exc.start}"
    declared = declared_encoding(head) or (None if declared is None else _codec(declared))
    if declared is not None:
        try:
            return raw.decode(declared), declared
        except UnicodeDecodeError:
            pass  # a wrong declaration: what the bytes are decides
    return _detect(raw, first_bad)


def declared_encoding(head: bytes) -> str | None:
    """The codec named by a charset declaration in `head`, or None (none, or one Python lacks)."""
    match = _DECLARED.search(head)
    if match is None:
        return None
    return _codec(next(group for group in match.groups() if group).decode("ascii"))


def _codec(name: str) -> str | None:
    """Python's codec for a charset label, read as browsers read it; None when Python has none."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return _AS_BROWSERS_READ.get(codec, codec)


def _detect(raw: bytes, first_bad: str) -> tuple[str, str]:
    """cp1252 for text that is nearly all ASCII, else charset-normalizer's most coherent reading above
    the floor, else cp1252 if the text is still mostly ASCII. A stray `£` gives detection nothing to go
    on (it scores `Ł` in cp1250 as high), and the non-ASCII bytes of Western news are cp1252 far more
    often than anything else."""
    stray = sum(1 for byte in raw if byte > 127) / len(raw)
    if stray <= WESTERN_SHARE and (text := _cp1252(raw)) is not None:
        return text, "cp1252"
    import charset_normalizer

    trusted = [
        match
        for match in charset_normalizer.from_bytes(raw)
        if match.chaos <= MAX_CHAOS and match.coherence >= MIN_COHERENCE
    ]
    if trusted:
        best = max(trusted, key=lambda match: match.coherence)
        return str(best), best.encoding
    if stray <= MOSTLY_ASCII_SHARE and (text := _cp1252(raw)) is not None:
        return text, "cp1252"
    raise Undecodable(f"not UTF-8 ({first_bad}) and its encoding could not be recognised")


def _cp1252(raw: bytes) -> str | None:
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:  # one of the five bytes cp1252 leaves undefined
        return None
