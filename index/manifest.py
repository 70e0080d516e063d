"""Which store state the search index was built from, and whether the store is still in that state.

The index's ``manifest.json`` lists the documents it covers (document graph IRI → content hash), read
from the same store snapshot as its items, and is renamed into place with the other index files
(:func:`index.build.build_index` builds ``index.tmp`` and renames it to ``index``): an index present
is whole, and says exactly which documents it covers. Comparing that list with the store's
(:meth:`ingest.store.GraphStore.documents`) tells a fresh index from a stale one — e.g. an ingest
killed while building the index leaves the store with every document and the old index with few.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class IndexState:
    """How the index compares with the store: ``fresh`` when it covers exactly the stored documents,
    each with the content it has now."""

    state: str  # fresh | stale | missing
    indexed: int  # documents the index covers
    stored: int  # documents in the store
    missing: int = 0  # stored, not in the index
    changed: int = 0  # in both, with another content
    removed: int = 0  # in the index, no longer stored
    reason: str | None = None  # why the index cannot be used as it is (None when fresh)

    @property
    def fresh(self) -> bool:
        return self.state == "fresh"

    def as_json(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        if self.fresh:
            return f"index fresh: covers the {self.stored} stored documents"
        return f"index {self.state}: {self.reason}"


def compare(manifest: dict | None, stored: dict[str, str]) -> IndexState:
    """The state of an index (its manifest, None when there is none) against the store's documents."""
    from .build import INDEX_VERSION, expected_model_name

    if manifest is None:
        return IndexState("missing", 0, len(stored), missing=len(stored), reason="there is no search index")
    indexed: dict[str, str] = manifest.get("documents") or {}
    n_missing = sum(1 for g in stored if g not in indexed)
    changed = sum(1 for g, h in stored.items() if g in indexed and indexed[g] != h)
    removed = sum(1 for g in indexed if g not in stored)
    counts = dict(indexed=len(indexed), stored=len(stored), missing=n_missing, changed=changed, removed=removed)
    if manifest.get("version") != INDEX_VERSION:
        return IndexState("stale", **counts, reason=f"built by index version {manifest.get('version')}, not {INDEX_VERSION}")
    if manifest.get("model") != expected_model_name():
        return IndexState("stale", **counts, reason=f"built with model {manifest.get('model')!r}, "
                          f"not {expected_model_name()!r} (BUDGETKG_MODEL)")
    if n_missing or changed or removed:
        parts = [f"{n} {what}" for n, what in ((n_missing, "not indexed"), (changed, "changed since"),
                                                (removed, "no longer stored")) if n]
        return IndexState("stale", **counts, reason=f"covers {len(indexed) - changed - removed} of the "
                          f"{len(stored)} stored documents as they are ({', '.join(parts)})")
    return IndexState("fresh", **counts)


def index_state(data_dir: Path, store) -> IndexState:
    """The state of the data directory's index against ``store``."""
    from .build import read_manifest

    return compare(read_manifest(Path(data_dir)), store.documents())
