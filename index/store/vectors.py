"""The live chunks' vectors on disk, searched by reading only what a question needs.

`write_vectors` stores the unit vectors as float32 rows in `vectors.f32`, grouped into lists (an
inverted file: k-means centroids, each row in the list of its nearest) and, within a list, sorted by
day; `vectors.slots.npy` says which chunk position each row is, `vectors.lists.npy` where each list
starts. Below IVF_FROM vectors there is one list, and every search is exact. `DiskVectors` keeps
the centroids and those two small arrays in memory and reads rows with `os.pread` (a memory map
would count every page it ever read in the process's RSS): a search reads the NPROBE lists whose
centroids are nearest the question, and only the rows of a time window, which are contiguous in
each list; a window holding few chunks probes more lists, down to all of them (exact).
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Iterable
from pathlib import Path

import numpy as np

VECTORS_FILE = "vectors.f32"
SLOTS_FILE = "vectors.slots.npy"
LISTS_FILE = "vectors.lists.npy"
CENTROIDS_FILE = "vectors.centroids.npy"
# Measured with bench/vectors_recall.py (2026-11-30, BBC's 7,324 chunk vectors tiled 16 times as
# bench/perf.py's 16x corpus, 300 BBC questions, recall@40 against exact search; bench/README.md,
# issue #17): exact search reads every row, 8 ms at IVF_FROM rows on a busy machine. Lists of
# LIST_ROWS rows with NPROBE probed: recall@40 0.982 (0.996-1.0 within time windows), 4.3 / 5.4 ms
# p50 / p95 (256-row lists: 0.968; 1,024-row lists: 0.991 at twice the time). A question reads
# about NPROBE × LIST_ROWS rows (25 MB) however large the index.
IVF_FROM = 50_000
LIST_ROWS = 512
NPROBE = 32
KMEANS_ITERATIONS = 10
KMEANS_SAMPLE_PER_LIST = 48
KMEANS_SAMPLE = 32_768  # rows at most (48 MB of float32)
BLOCK = 4096  # rows read and scored at a time: bounds the transient memory of a search
_DAY_SPAN = 100_000_000  # above every day number (20250312): list × span + day sorts by list, then day
_TEMP = "vectors.by-position.tmp"


class DiskVectors:
    """The vectors `write_vectors` wrote into `folder`; `days` are the chunks' day numbers by position."""

    def __init__(self, folder: Path, days: np.ndarray) -> None:
        self._slots = np.load(folder / SLOTS_FILE, allow_pickle=False)
        self._lists = np.load(folder / LISTS_FILE, allow_pickle=False)
        self._centroids = np.load(folder / CENTROIDS_FILE, allow_pickle=False)
        size, self.dim = len(self._slots), int(self._centroids.shape[1])
        if (
            size != len(days)
            or self._slots.ndim != 1
            or len(self._lists) != len(self._centroids) + 1
            or self._lists[0] != 0
            or self._lists[-1] != size
            or (size and not 0 <= self._slots.min() <= self._slots.max() < size)
            or (folder / VECTORS_FILE).stat().st_size != size * self.dim * 4
        ):
            raise ValueError(f"{VECTORS_FILE} and its lists do not match the chunks")
        list_of_row = np.repeat(np.arange(len(self._centroids), dtype=np.int64), np.diff(self._lists))
        # Sorted (write_vectors sorts rows by list, then day): a window is one range of rows per list.
        self._keys = list_of_row * _DAY_SPAN + np.asarray(days, dtype=np.int64)[self._slots]
        if np.any(np.diff(self._keys) < 0):
            raise ValueError(f"{VECTORS_FILE} is not sorted by list and day")
        # Opened now, so that the file stays readable if another process prunes the folder later.
        self._fd = os.open(folder / VECTORS_FILE, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return len(self._slots)

    def search(
        self, vector: list[float] | np.ndarray, n: int, days: tuple[int, int] | None = None
    ) -> list[tuple[int, float]]:
        """The `n` nearest chunks: (position, cosine similarity), best first; with `days` (first, last
        day numbers), only chunks published in that window."""
        query = unit(np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]
        count = len(self._centroids)
        if days is None:
            starts, ends = self._lists[:-1], self._lists[1:]
        else:
            base = np.arange(count, dtype=np.int64) * _DAY_SPAN
            starts = np.searchsorted(self._keys, base + days[0], side="left")
            ends = np.searchsorted(self._keys, base + days[1], side="right")
        inside = int((ends - starts).sum())
        if inside == 0 or n <= 0:
            return []
        # A window keeping a fraction of the rows probes 1/fraction more lists: about as many rows.
        probe = min(count, max(1, math.ceil(NPROBE * len(self) / inside)))
        lists = (
            np.argsort(-_dot(self._centroids, query), kind="stable")[:probe]
            if probe < count
            else range(count)
        )
        rows, scores = [], []
        for first, last in _merged([(int(starts[i]), int(ends[i])) for i in sorted(lists)]):
            for start in range(first, last, BLOCK):
                stop = min(start + BLOCK, last)
                scores.append(_dot(self._read(start, stop), query))
                rows.append(np.arange(start, stop))
        if not rows:
            return []
        row, score = np.concatenate(rows), np.concatenate(scores)
        if len(row) > n:
            keep = np.argpartition(-score, n - 1)[:n]
            row, score = row[keep], score[keep]
        positions = self._slots[row]
        best = np.lexsort((positions, -score))  # ties: the earlier position first
        return [(int(positions[i]), float(score[i])) for i in best]

    def at(self, positions: np.ndarray) -> np.ndarray:
        """The vectors of the chunks at `positions`, in that order, as written (unit vectors)."""
        row_of = np.empty(len(self._slots), dtype=np.int64)
        row_of[self._slots] = np.arange(len(self._slots))
        rows = row_of[np.asarray(positions, dtype=np.int64)]
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        # One read per run of consecutive rows: most of them when a reindex keeps most chunks.
        breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
        for first, last in zip(np.r_[0, breaks], np.r_[breaks, len(ordered)], strict=True):
            start = int(ordered[first])
            out[order[first:last]] = self._read(start, start + int(last - first))
        return out

    def _read(self, start: int, stop: int) -> np.ndarray:
        width = self.dim * 4
        data = os.pread(self._fd, (stop - start) * width, start * width)
        if len(data) != (stop - start) * width:
            raise ValueError(f"{VECTORS_FILE} is shorter than its lists say")
        return np.frombuffer(data, dtype=np.float32).reshape(-1, self.dim)


def write_vectors(
    folder: Path, pages: Iterable[np.ndarray], days: np.ndarray, *, unit_rows: bool = False
) -> int:
    """Write the vectors of the chunks by position (`pages`: consecutive (rows, dim) arrays) and
    their day numbers as `DiskVectors` reads them; returns how many. Each row is scaled to unit
    length, unless `unit_rows` says `unit` made them so already (scaling again would change their
    last bits: a row `DiskVectors.at` gives back is written as it was). Memory stays bounded by a
    few BLOCKs and the k-means sample, whatever the number of rows."""
    temp = folder / _TEMP
    size, dim = 0, 0
    with temp.open("wb") as file:  # by position first: rows are regrouped once the lists are known
        for page in pages:
            rows = np.asarray(page, dtype=np.float32)
            rows = rows if unit_rows else unit(rows)
            size, dim = size + len(rows), rows.shape[1]
            file.write(rows.astype(np.float32).tobytes())
    try:
        if size != len(days) or size == 0:
            raise ValueError(f"{size} vectors for {len(days)} chunks")
        centroids = _kmeans(temp, size, dim) if size >= IVF_FROM else np.zeros((1, dim), np.float32)
        list_of = np.concatenate([_nearest(block, centroids) for _, block in _blocks(temp, size, dim)])
        slots = np.lexsort((np.arange(size), np.asarray(days, dtype=np.int64), list_of))
        lists = np.concatenate([[0], np.cumsum(np.bincount(list_of, minlength=len(centroids)))])
        _regroup(temp, folder / VECTORS_FILE, slots, dim)
    finally:
        temp.unlink(missing_ok=True)
    np.save(folder / SLOTS_FILE, slots.astype(np.int32), allow_pickle=False)
    np.save(folder / LISTS_FILE, lists.astype(np.int64), allow_pickle=False)
    np.save(folder / CENTROIDS_FILE, centroids, allow_pickle=False)
    return size


def unit(rows: np.ndarray) -> np.ndarray:
    """`rows` scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def _dot(rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    # Not `rows @ query`: OpenBLAS runs a matrix-vector product on every core, which on a busy
    # machine made it 25x slower than this single-threaded loop (8 ms against 0.3 ms for 4096 rows).
    return np.einsum("ij,j->i", rows, query)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted row ranges with the empty ones dropped and adjacent ones joined (one read each)."""
    out: list[tuple[int, int]] = []
    for start, stop in ranges:
        if stop <= start:
            continue
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], stop)
        else:
            out.append((start, stop))
    return out


def _blocks(path: Path, size: int, dim: int, block: int = BLOCK) -> Iterable[tuple[int, np.ndarray]]:
    """(first row, rows) of a float32 file, `block` rows at a time."""
    with path.open("rb") as file:
        for start in range(0, size, block):
            rows = np.fromfile(file, dtype=np.float32, count=min(block, size - start) * dim)
            yield start, rows.reshape(-1, dim)


def _nearest(rows: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    return np.argmax(rows @ centroids.T, axis=1) if len(centroids) > 1 else np.zeros(len(rows), np.int64)


def _kmeans(path: Path, size: int, dim: int) -> np.ndarray:
    """Spherical k-means over a sample of the rows (seeded, so a cache is rebuilt the same)."""
    count = max(2, round(size / LIST_ROWS))
    rng = np.random.default_rng(0)
    wanted = np.sort(
        rng.choice(size, min(size, count * KMEANS_SAMPLE_PER_LIST, KMEANS_SAMPLE), replace=False)
    )
    sample = np.concatenate(
        [
            rows[wanted[(wanted >= start) & (wanted < start + len(rows))] - start]
            for start, rows in _blocks(path, size, dim)
        ]
    )
    centroids = sample[rng.choice(len(sample), count, replace=False)]
    for _ in range(KMEANS_ITERATIONS):
        nearest = np.concatenate(
            [_nearest(sample[i : i + BLOCK], centroids) for i in range(0, len(sample), BLOCK)]
        )
        order = np.argsort(nearest, kind="stable")
        found, first = np.unique(nearest[order], return_index=True)
        sums = centroids.copy()  # a list that lost every row keeps its centroid
        for i in range(0, len(found), 256):  # summed a few lists at a time: no copy of the sample
            stop = first[i + 256] if i + 256 < len(found) else len(order)
            part = order[first[i] : stop]
            sums[found[i : i + 256]] = np.add.reduceat(sample[part], first[i : i + 256] - first[i])
        centroids = unit(sums)
    return centroids.astype(np.float32)


def _regroup(source: Path, target: Path, slots: np.ndarray, dim: int) -> None:
    """Write the rows of `source` (by position) into `target` in the order `slots` gives, one
    buffer of rows at a time (each pass reads `source` whole, from the page cache)."""
    size = len(slots)
    slot_of = np.empty(size, dtype=np.int64)
    slot_of[slots] = np.arange(size)
    buffer_rows = 16 * BLOCK
    with target.open("wb") as out:
        for first in range(0, size, buffer_rows):
            last = min(first + buffer_rows, size)
            buffer = np.empty((last - first, dim), dtype=np.float32)
            for start, block in _blocks(source, size, dim):
                dest = slot_of[start : start + len(block)]
                mine = (dest >= first) & (dest < last)
                buffer[dest[mine] - first] = block[mine]
            out.write(buffer.tobytes())
