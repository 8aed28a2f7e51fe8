"""A stateless hashed featurizer (word 1-2 grams + byte 2-5 grams) vectorized with numpy.

No vocabulary is stored: a token's column is a fixed hash, so the weights file is plain
arrays and the featurizer is this file. The byte n-grams are hashed for the whole batch at
once with numpy, which is what makes the `fast` model fast (no Python loop per n-gram).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse

WORD_BITS = 18
CHAR_BITS = 19
CHAR_NS = (3, 4, 5)
N_FEATURES = (1 << WORD_BITS) + (1 << CHAR_BITS)

_TOKEN = re.compile(r"[\w@#']+|[^\w\s]")
_M64 = np.uint64(0xFF51AFD7ED558CCD)
_FNV = np.uint64(0x100000001B3)
_BIGRAM = np.uint64(0x9E3779B97F4A7C15)
_S33 = np.uint64(33)


class _HashCache(dict[str, int]):
    """token -> CRC32, computed on first sight; lookups of known tokens stay in C (map)."""

    def __missing__(self, token: str) -> int:
        if len(self) > 500_000:  # bound memory on streams of unseen tokens
            self.clear()
        h = zlib.crc32(token.encode("utf-8", "replace"))
        self[token] = h
        return h


_word_cache = _HashCache()


def _word_hash(token: str) -> int:
    return _word_cache[token]


def _mix(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Finalize 64-bit hashes (murmur3 fmix) so every output bit depends on every input bit."""
    h = h ^ (h >> _S33)
    h = h * _M64
    return h ^ (h >> _S33)


def _word_columns(texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Rows and columns of word unigrams and bigrams."""
    hashes: list[int] = []
    counts: list[int] = []
    for text in texts:
        toks = _TOKEN.findall(text)
        counts.append(len(toks))
        hashes.extend(map(_word_cache.__getitem__, toks))
    counts_a = np.asarray(counts, dtype=np.int64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), counts_a)
    uni = np.asarray(hashes, dtype=np.uint64)
    # A bigram is the pair of neighbouring tokens within one text.
    same = rows[1:] == rows[:-1] if len(rows) > 1 else np.zeros(0, dtype=bool)
    bi = uni[:-1][same] * _BIGRAM + uni[1:][same] if len(rows) > 1 else uni[:0]
    all_h = _mix(np.concatenate([uni, bi + np.uint64(1)]))
    cols = (all_h >> np.uint64(64 - WORD_BITS)).astype(np.int64)
    return np.concatenate([rows, rows[1:][same]]), cols


def _char_columns(texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Rows and columns of UTF-8 byte n-grams, hashed for the whole batch at once."""
    pieces = [(" " + t + " ").encode("utf-8", "replace") for t in texts]
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    total = int(lengths.sum())
    pad = max(CHAR_NS)
    buf = np.zeros(total + pad, dtype=np.uint64)
    buf[:total] = np.frombuffer(b"".join(pieces), dtype=np.uint8)
    rows_all = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    ends = np.repeat(np.cumsum(lengths), lengths)
    pos = np.arange(total, dtype=np.int64)
    rows_out: list[npt.NDArray[np.int64]] = []
    cols_out: list[npt.NDArray[np.int64]] = []
    h = np.full(total, 0xCBF29CE484222325, dtype=np.uint64)
    for n in range(1, pad + 1):
        # FNV-1a over the next byte, so h holds the hash of the n-gram starting at pos.
        h = (h ^ buf[n - 1 : n - 1 + total]) * _FNV
        if n in CHAR_NS:
            ok = pos + n <= ends
            mixed = _mix(h[ok] + np.uint64(n))
            cols_out.append(
                (mixed >> np.uint64(64 - CHAR_BITS)).astype(np.int64) + (1 << WORD_BITS)
            )
            rows_out.append(rows_all[ok])
    return np.concatenate(rows_out), np.concatenate(cols_out)


def count_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """Return one entry per n-gram occurrence of normalized texts as a CSR matrix.

    Repeated n-grams are not summed here: products with a weight matrix sum them anyway,
    and skipping the per-row sort that summing needs is a large part of the speed.
    """
    wr, wc = _word_columns(texts)
    cr, cc = _char_columns(texts)
    rows = np.concatenate([wr, cr])
    cols = np.concatenate([wc, cc])
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix(
        (data, cols[order], indptr), shape=(len(texts), N_FEATURES), dtype=np.float32
    )


def document_frequency(m: sparse.csr_matrix) -> npt.NDArray[np.float64]:
    """Number of rows of `m` in which each column occurs (for idf)."""
    binary = m.copy()
    binary.sum_duplicates()
    return np.bincount(binary.indices, minlength=N_FEATURES).astype(np.float64)


def weigh(occurrences: sparse.csr_matrix, idf: npt.NDArray[np.float32]) -> sparse.csr_matrix:
    """Weight each occurrence by idf, then L2-normalize the word and byte blocks separately.

    The norm treats occurrences as separate entries (sqrt of the sum of idf^2 over them),
    which needs no grouping of repeats; it is what the weights were trained with.
    """
    m = occurrences.copy()
    m.data = idf[m.indices]
    # Each block gets unit norm so neither the many byte n-grams nor the few words dominate.
    row_of = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    block = (m.indices >= (1 << WORD_BITS)).astype(np.int64)
    key = row_of * 2 + block
    sq = np.bincount(key, weights=(m.data.astype(np.float64) ** 2), minlength=m.shape[0] * 2)
    norms = np.sqrt(sq)
    norms[norms == 0] = 1.0
    m.data = (m.data / norms[key]).astype(np.float32)
    return m
