"""The data directory's embedded graph store (Oxigraph, persistent in ``<data>/store``) and
:func:`open_store`, which gives it or a remote SPARQL endpoint (:mod:`ingest.remote`) behind the one
interface of :mod:`ingest.graphstore`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ontology import BKG

from .errors import StoreError
from .graphstore import BATCH_TRIPLES, GraphStore, document_update
from .mapping import SHARED_GRAPH

#: what callers import from here (the interface and the updates live in ingest.graphstore)
__all__ = ["BATCH_TRIPLES", "GraphStore", "OxigraphStore", "RemoteEndpoint", "document_update", "open_store"]


class OxigraphStore(GraphStore):
    """Embedded Oxigraph (RocksDB) in ``<data>/store``."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = Path(path)
        self.where = str(self.path)
        self.read_only = read_only
        try:
            if read_only:
                if not (self.path / "CURRENT").exists():
                    raise StoreError(f"{self.path}: no store here yet (run `budgetkg ingest` first)")
                inner = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                inner = ox.Store(str(self.path))
                self._remove_stale_spools()
        except OSError as exc:
            msg = str(exc)
            if "lock" in msg.lower():
                raise StoreError(
                    f"{self.path}: the store is in use by another budgetkg process (is `budgetkg serve` "
                    f"running on this data directory?). Stop it, or use another --data directory."
                ) from exc
            raise StoreError(f"{self.path}: cannot open the store ({msg})") from exc
        self.ox: ox.Store = inner
        if not read_only:
            self._ensure_ontology()

    def fingerprints(self, graphs: list) -> dict[str, str]:
        out = {}
        h = ox.NamedNode(str(BKG.contentHash))
        for graph in graphs:
            g = ox.NamedNode(str(graph))
            for q in self.ox.quads_for_pattern(g, h, None, g):
                out[str(graph)] = q.object.value
                break
        return out

    # -- bulk loading --------------------------------------------------------------------------
    #: between :meth:`begin_bulk` and :meth:`end_bulk`, new documents are spooled to a file
    bulk: bool = False

    def _has_graph(self, graph) -> bool:
        return next(iter(self.ox.quads_for_pattern(None, None, None, ox.NamedNode(str(graph)))), None) is not None

    SPOOL_PREFIX = ".bulk-spool-"

    def _remove_stale_spools(self) -> None:
        """Remove the spool a bulk ingest killed before its end left behind (its documents were never
        loaded: the next ingest writes them). Only a writer holding the store's lock spools, and this
        one holds it now: no spool here is anyone's in use."""
        for f in self.path.parent.glob(f"{self.SPOOL_PREFIX}*.nq"):
            f.unlink(missing_ok=True)

    def abort_bulk(self) -> None:
        """Drop what is spooled without loading it (an interrupted ingest): those documents are not stored."""
        self.bulk = False
        self._spooled, self._hashes = [], []
        self._spool.close()
        Path(self._spool.name).unlink(missing_ok=True)

    def begin_bulk(self) -> None:
        """Spool new documents to an N-Quads file and load them with Oxigraph's bulk loader at
        :meth:`end_bulk`: one load of everything (measured at 100k projects: loading every 100k
        triples as they come rewrote the growing store again and again — 58 GB written in 12 min)."""
        import tempfile

        self.bulk = True
        self._spool = tempfile.NamedTemporaryFile("w", suffix=".nq", prefix=self.SPOOL_PREFIX, dir=self.path.parent,
                                                  delete=False, encoding="utf-8")
        self._hashes: list[str] = []
        self._spooled: list[str] = []
        self._failed: list[str] = []

    def _write(self, docs: list[tuple[str, list[str]]], shared: list[str], relabel: list, drop: list) -> None:
        """While bulk loading, documents not yet stored (nothing to drop, no labels to replace) are
        spooled; anything else is written as one update as usual."""
        if not self.bulk:
            return super()._write(docs, shared, relabel, drop)
        if any(g in self._spooled_set for g, _ in docs):  # a later version of a spooled document
            self._load_spool()
            drop = [g for g, _ in docs if self._has_graph(g)]
        if drop or relabel:
            return super()._write(docs, shared, relabel, drop)
        out = self._spool
        for g, lines in docs:
            tail = f"<{g}> .\n"
            out.writelines(ln[:-1] + tail for ln in lines[:-1])
            self._hashes.append(lines[-1][:-1] + tail)
            self._spooled.append(g)
        shared_g = f"<{SHARED_GRAPH}> .\n"
        out.writelines(ln[:-1] + shared_g for ln in shared)

    @property
    def _spooled_set(self) -> set[str]:
        return set(self._spooled)

    def _load_spool(self) -> None:
        """Bulk-load what is spooled, then its content hashes in one transaction: the bulk loader is
        not transactional, and a document cut short by a crash has no hash — it counts as absent
        and the next ingest drops and rewrites it whole."""
        path = Path(self._spool.name)
        self._spool.close()
        graphs, self._spooled = self._spooled, []
        try:
            if graphs:
                self.ox.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
                self.ox.load("".join(self._hashes).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
                self.relink(graphs)
        except (OSError, SyntaxError, ValueError) as exc:
            self._failed.extend(graphs)
            raise StoreError(f"{self.path}: bulk loading failed ({exc}); documents without their content hash "
                             f"are rewritten by the next ingest") from exc
        finally:
            self._hashes = []
            path.unlink(missing_ok=True)
            if self.bulk:
                import tempfile

                self._spool = tempfile.NamedTemporaryFile("w", suffix=".nq", prefix=self.SPOOL_PREFIX, dir=self.path.parent,
                                                          delete=False, encoding="utf-8")

    def end_bulk(self) -> list[str]:
        """Load the spooled documents. Returns the graphs that could not be written (their
        documents are not in the store)."""
        try:
            self._load_spool()
        except StoreError:
            pass
        finally:
            self.bulk = False
            Path(self._spool.name).unlink(missing_ok=True)
        failed, self._failed = self._failed, []
        return failed

    def _update(self, text: str) -> None:
        try:
            self.ox.update(text)
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"{self.path}: the update failed, nothing was written ({exc})") from exc

    def query(self, sparql: str, **kwargs):
        kwargs.setdefault("use_default_graph_as_union", True)
        return self.ox.query(sparql, **kwargs)

    def dump(self, fmt: str) -> bytes:
        formats = {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}
        if fmt in formats:
            return self.ox.dump(format=formats[fmt])
        return self._merged_dump(fmt)

    def __len__(self) -> int:
        return len(self.ox)

    def close(self) -> None:
        """Flush and compact (writable store); StoreError when the disk refuses it (full): each update
        already went to the store's write-ahead log whole or not at all, so no document is half
        written — the store is complete once it can be opened again with space to spare."""
        try:
            if not self.read_only:
                self.ox.flush()
                self.ox.optimize()  # compaction: measured 1.7 GB → 0.5 GB after ingesting 5,000 projects
        except OSError as exc:
            raise StoreError(f"{self.path}: could not finish writing the store ({exc}); every document reported "
                             f"written is kept whole in its log — free some space and run the command again") from exc
        finally:
            del self.ox


@dataclass(frozen=True)
class RemoteEndpoint:
    """A SPARQL 1.1 endpoint to use instead of the data directory's store (``budgetkg --store URL``)."""

    url: str
    update_url: str | None = None
    graph_store_url: str | None = None


def open_store(data_dir: Path, read_only: bool = False, remote: RemoteEndpoint | None = None) -> GraphStore:
    """The data directory's embedded store, or the remote SPARQL endpoint ``remote`` (see
    :mod:`ingest.remote`; the command line and the server make it from ``--store`` / ``$BUDGETKG_STORE``
    in :meth:`api.runtime.Settings.from_env`)."""
    if remote is not None:
        from .remote import SparqlEndpointStore

        return SparqlEndpointStore(remote.url, update_url=remote.update_url, read_only=read_only,
                                   graph_store_url=remote.graph_store_url)
    return OxigraphStore(Path(data_dir) / "store", read_only=read_only)
