"""A small least-recently-used mapping, shared by the SPARQL workers, the similarity function and
the search filter cache."""
from __future__ import annotations

from collections import OrderedDict


class LRU(OrderedDict):
    """An ordered dict that forgets its oldest entry beyond ``size`` entries. Not thread-safe:
    callers that share one across threads hold their own lock."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def remember(self, key, value):
        """Store ``value`` as the newest entry and return it."""
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)
        return value
