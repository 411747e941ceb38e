"""The index state: which chunk collection is live and which version of each article it holds.

Stored as one JSON document (see store/chroma.py); `IndexState.to_json()` gives exactly the document
earlier versions wrote, and `from_json` reads those, so an existing index keeps working.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from newsqa.index.store.records import record_id

# 2: chunks carry `updated`, `site`, `author` and `published_day` and `published` is an ISO day; an index of
# format 1 is rebuilt on the next reindex (see ingest/indexer.py), never mixed with format 2 chunks.
STATE_FORMAT = 2


class Mark(NamedTuple):
    """The state named without its document: the state collection's metadata (ChromaStore.read_mark)."""

    generation: int
    collection: str
    digest: str  # state_digest of its document; "" when a newsqa that did not record it wrote it


@dataclass(frozen=True)
class IndexConfig:
    """What the stored vectors and chunks depend on; a state built with another config is rebuilt."""

    embed_model: str
    chunk_tokens: int
    chunk_overlap: int
    format: int = STATE_FORMAT

    @classmethod
    def from_json(cls, data: Any) -> IndexConfig | None:
        """The config a state was built with; None when it is not one this version writes."""
        if not isinstance(data, Mapping) or set(data) != set(cls.__dataclass_fields__):
            return None
        return cls(**data)


# Written only when set, so that a state without copies is the very document earlier versions wrote.
_OPTIONAL = {"signature": "", "copy_of": None}


def document_json(doc: DocumentState) -> dict[str, Any]:
    """One article's entry in the state document."""
    # Field by field, not dataclasses.asdict: its deep copy of every (immutable) value was most of
    # the 0.14 s a BBC state (2,225 articles) took, and a reindex writes and digests one (issue #17).
    values = ((key, getattr(doc, key)) for key in DocumentState.__dataclass_fields__)
    return {key: value for key, value in values if key not in _OPTIONAL or value != _OPTIONAL[key]}


def document_from_json(doc: Any) -> DocumentState:
    """The article of a state document's entry (KeyError/TypeError/ValueError when it is not one)."""
    return DocumentState(
        version=str(doc["version"]),
        chunks=int(doc.get("chunks", 0)),
        sha256=str(doc.get("sha256", "")),
        title=doc.get("title"),
        url=doc.get("url"),
        published=doc.get("published"),
        updated=doc.get("updated"),
        site=doc.get("site"),
        author=doc.get("author"),
        signature=str(doc.get("signature") or ""),
        copy_of=doc.get("copy_of"),
    )


def state_document(state: IndexState) -> str:
    """The JSON text `state` is stored as (store/chroma.py); `state_digest` digests it."""
    return json.dumps(state.to_json(), ensure_ascii=False, sort_keys=True)


def state_digest(document: str) -> str:
    """The sha256 of a state document: what a process knows the state by without reading it (the
    state record's metadata carries it; the snapshot cache is keyed by it)."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def mark_of(state: IndexState) -> Mark:
    """The mark the state record carries for `state` (ChromaStore.read_mark)."""
    return Mark(state.generation, state.collection, state_digest(state_document(state)))


def outdated_format(config: IndexConfig | None) -> bool:
    """Whether a state with this `config` was written by an earlier newsqa whose chunks lack metadata
    this one reads."""
    return config is None or config.format < STATE_FORMAT


@dataclass(frozen=True)
class DocumentState:
    """One indexed article: its live version (a prefix of `sha256`), what it is, and its chunk count."""

    version: str
    chunks: int
    sha256: str = ""
    title: str | None = None
    url: str | None = None
    published: str | None = None
    updated: str | None = None
    site: str | None = None
    author: str | None = None
    # MinHash of the text's word shingles (text/shingles.py), and the article this one is a
    # near-identical copy of (ingest/copies.py). Absent from states written before: "" and None.
    signature: str = ""
    copy_of: str | None = None


@dataclass(frozen=True)
class IndexState:
    """One generation of the index: its chunk collection and the live version of every article."""

    generation: int
    collection: str
    config: IndexConfig | None
    documents: Mapping[str, DocumentState] = field(default_factory=dict)  # source → document
    updated_at: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "documents", MappingProxyType(dict(self.documents)))

    @property
    def versions(self) -> dict[str, str]:
        """Source → live version."""
        return {source: doc.version for source, doc in self.documents.items()}

    @property
    def copy_of(self) -> dict[str, str]:
        """Source → the canonical source, for each article indexed as a copy of another."""
        return {source: doc.copy_of for source, doc in self.documents.items() if doc.copy_of}

    @property
    def chunk_count(self) -> int:
        return sum(doc.chunks for doc in self.documents.values())

    def records_of(self, source: str) -> list[str]:
        """The record ids of the live version of `source` (empty when it is not indexed)."""
        doc = self.documents.get(source)
        if doc is None:
            return []
        return [record_id(source, n, doc.version) for n in range(doc.chunks)]

    def to_json(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "collection": self.collection,
            "config": None if self.config is None else asdict(self.config),
            "documents": {source: document_json(doc) for source, doc in self.documents.items()},
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> IndexState:
        """The state in a stored document; ValueError when it is not one."""
        try:
            documents = {
                str(source): document_from_json(doc)
                for source, doc in dict(data.get("documents", {})).items()
            }
            return cls(
                generation=int(data.get("generation", 0)),
                collection=str(data["collection"]),
                config=IndexConfig.from_json(data.get("config")),
                documents=documents,
                updated_at=str(data.get("updated_at", "")),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an index state ({type(exc).__name__}: {exc})") from exc
