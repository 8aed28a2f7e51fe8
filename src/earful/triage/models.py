"""The two scorers behind `Triager`: `fast` (hashed n-grams + linear heads) and `best` (ONNX).

Both load plain arrays (npz) and, for `best`, an ONNX graph and a tokenizer.json: nothing is
unpickled and nothing comes from the network.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from scipy import sparse

from earful.triage.features import N_FEATURES, count_matrix, weigh

WEIGHTS_DIR = Path(__file__).parent / "weights"
FAST_FILE = "fast.npz"
BEST_DIR = "best"
HEADS = ("sentiment", "complaint", "suggestion")

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scores:
    """Model outputs for a batch: P(negative, neutral, positive) and two binary scores."""

    sentiment: FloatArray  # (n, 3)
    complaint: FloatArray  # (n,)
    suggestion: FloatArray  # (n,)


class Scorer(Protocol):
    """What a model provides: scores for normalized texts and its decision thresholds."""

    name: str
    thresholds: dict[str, float]

    def scores(self, texts: list[str]) -> Scores:
        """Score normalized texts."""
        ...


def softmax(z: npt.NDArray[Any]) -> FloatArray:
    """Row-wise softmax."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: FloatArray = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def sigmoid(z: npt.NDArray[Any]) -> FloatArray:
    """Elementwise logistic function, overflow-safe."""
    out: FloatArray = (0.5 * (1.0 + np.tanh(0.5 * np.clip(z, -60, 60)))).astype(np.float32)
    return out


@dataclass
class LinearHeads:
    """Weights of the fast model: idf vector, one weight matrix, biases, head layout."""

    idf: FloatArray  # (N_FEATURES,)
    coef: FloatArray  # (N_FEATURES, 5): 3 sentiment logits, complaint, suggestion
    bias: FloatArray  # (5,)
    thresholds: dict[str, float]
    meta: dict[str, Any]

    def save(self, path: Path) -> None:
        """Write the weights as a compressed npz of plain arrays (float16 to keep it small)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            idf=self.idf.astype(np.float16),
            coef=self.coef.astype(np.float16),
            bias=self.bias.astype(np.float32),
            meta=np.frombuffer(
                json.dumps({"thresholds": self.thresholds, **self.meta}).encode(), dtype=np.uint8
            ),
        )

    @classmethod
    def load(cls, path: Path) -> LinearHeads:
        """Read weights written by `save` (allow_pickle stays off)."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            idf = z["idf"].astype(np.float32)
            coef = z["coef"].astype(np.float32)
            bias = z["bias"].astype(np.float32)
        if idf.shape != (N_FEATURES,) or coef.shape != (N_FEATURES, 5):
            raise ValueError(f"{path}: weights do not match this featurizer")
        thresholds = {str(k): float(v) for k, v in meta.pop("thresholds").items()}
        return cls(idf=idf, coef=coef, bias=bias, thresholds=thresholds, meta=meta)

    def logits(self, texts: list[str]) -> FloatArray:
        """Return the (n, 5) logits for normalized texts."""
        x = weigh(count_matrix(texts), self.idf)
        return np.asarray(x @ self.coef, dtype=np.float32) + self.bias


class FastScorer:
    """Hashed word + byte n-gram features with linear heads (numpy + scipy only)."""

    name = "fast"

    def __init__(self, heads: LinearHeads) -> None:
        """Wrap loaded linear heads."""
        self.heads = heads
        self.thresholds = heads.thresholds

    @classmethod
    def load(cls, path: Path | None = None) -> FastScorer:
        """Load from the committed weights (or `path`)."""
        return cls(LinearHeads.load(path or WEIGHTS_DIR / FAST_FILE))

    def scores(self, texts: list[str]) -> Scores:
        """Score normalized texts."""
        z = self.heads.logits(texts)
        return Scores(softmax(z[:, :3]), sigmoid(z[:, 3]), sigmoid(z[:, 4]))


# The best model's complaint head reads the fast featurizer's n-grams plus dense blocks from
# the encoder: [sentence embedding, sentiment logits] and the mean-pooled outputs of the
# layers in HIDDEN_LAYERS. Each block is row-normalized and scaled by EMBED_SCALE so the
# dense columns weigh about as much as the thousands of sparse ones under one regularizer.
# Middle layers are less tuned to sentiment than the last one; with them the complaint CV
# rose from 0.864 to 0.868 (5 folds, seed 1; docs/models.md).
EMBED_SCALE = 1.5
EMBED_DIM = 384  # all-MiniLM-L6-v2's hidden size
HIDDEN_LAYERS = (2, 4)
HIDDEN_PREFIX = "hidden_"


def best_workers() -> int:
    """Parallel batches for `best`: $EARFUL_TRIAGE_THREADS, else one per core (at most 8)."""
    env = os.environ.get("EARFUL_TRIAGE_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class Encoded:
    """One pass of the best encoder over a batch of texts, in input order."""

    sentiment: FloatArray  # (n, 3) logits
    suggestion: FloatArray  # (n,) logit
    embedding: FloatArray  # (n, EMBED_DIM) mean-pooled last layer
    hidden: FloatArray  # (n, len(HIDDEN_LAYERS), EMBED_DIM) mean-pooled middle layers


def complaint_width() -> int:
    """Number of input columns of the best complaint head."""
    return N_FEATURES + EMBED_DIM + 3 + EMBED_DIM * len(HIDDEN_LAYERS)


def complaint_design(texts: list[str], enc: Encoded, idf: FloatArray) -> sparse.csr_matrix:
    """Input rows of the best complaint head: [weighted n-grams | scaled dense blocks]."""
    x = weigh(count_matrix(texts), idf)
    x.sum_duplicates()
    blocks = [np.hstack([enc.embedding, enc.sentiment])]
    blocks += [enc.hidden[:, j] for j in range(enc.hidden.shape[1])]
    dense = []
    for block in blocks:
        b64 = block.astype(np.float64)
        norms = np.linalg.norm(b64, axis=1, keepdims=True)
        dense.append(b64 / np.maximum(norms, 1e-9) * EMBED_SCALE)
    return sparse.hstack([x, sparse.csr_matrix(np.hstack(dense).astype(np.float32))], format="csr")


class BestScorer:
    """A fine-tuned MiniLM encoder (int8 ONNX, onnxruntime) + a numpy complaint head."""

    name = "best"

    def __init__(
        self, directory: Path, heads: bool = True, delta: FloatArray | None = None
    ) -> None:
        """Load model.onnx, tokenizer.json, meta.json (and heads.npz unless `heads` is False).

        `delta` (embedding dim x 5) is an organization's correction added to the logits.
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((directory / "meta.json").read_text())
        self.thresholds = {str(k): float(v) for k, v in meta["thresholds"].items()}
        self.max_tokens = int(meta.get("max_tokens", 64))
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()  # the shipped tokenizer.json pads to 128; we pad per batch
        # Batches run in parallel, one thread each, rather than one batch over several
        # threads: batches of 16 short texts are too small to split well (measured on 2
        # cores: 467-660 msg/s against 290-491 for intra-op threads, docs/models.md).
        self.workers = best_workers()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(directory / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.hidden_outputs = [f"{HIDDEN_PREFIX}{i}" for i in HIDDEN_LAYERS]
        missing = set(self.hidden_outputs) - {o.name for o in self.session.get_outputs()}
        if missing:
            raise ValueError(f"{directory}: model.onnx lacks outputs {sorted(missing)}")
        self.delta = delta
        self.complaint_coef: FloatArray | None = None
        self.complaint_idf: FloatArray | None = None
        self.complaint_bias = 0.0
        # Sentiment is a blend with the fast model (weight from meta.json, chosen on val).
        self.fast: LinearHeads | None = None
        self.fast_weight = 0.0
        if heads:
            with np.load(directory / "heads.npz", allow_pickle=False) as z:
                self.complaint_coef = z["complaint_coef"].astype(np.float32)
                self.complaint_bias = float(z["complaint_bias"].reshape(-1)[0])
                self.complaint_idf = z["complaint_idf"].astype(np.float32)
            if self.complaint_coef.shape != (complaint_width(),):
                raise ValueError(f"{directory}: heads.npz does not match this model")
            weight = float(meta.get("sentiment_fast_weight", 0.0))
            if weight > 0 and (WEIGHTS_DIR / FAST_FILE).is_file():
                self.fast = LinearHeads.load(WEIGHTS_DIR / FAST_FILE)
                self.fast_weight = weight

    def encode(self, texts: list[str]) -> Encoded:
        """Run the encoder over normalized texts (length-sorted batches, in parallel)."""
        n = len(texts)
        sent = np.zeros((n, 3), dtype=np.float32)
        sugg = np.zeros(n, dtype=np.float32)
        emb = np.zeros((n, EMBED_DIM), dtype=np.float32)
        hidden = np.zeros((n, len(self.hidden_outputs), EMBED_DIM), dtype=np.float32)
        if not n:
            return Encoded(sent, sugg, emb, hidden)
        encs = [e.ids for e in self.tokenizer.encode_batch(texts)]
        # Sorting by length keeps padding (wasted compute) small inside each batch.
        order = sorted(range(n), key=lambda i: len(encs[i]))
        step = 16  # measured: 16 beats 32, 64 and 128 (cache-friendly int8 matmuls)
        batches = [order[start : start + step] for start in range(0, n, step)]
        names = ["sentiment", "suggestion", "embedding", *self.hidden_outputs]

        def run(idx: list[int]) -> list[Any]:
            width = max(len(encs[i]) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for r, i in enumerate(idx):
                ids[r, : len(encs[i])] = encs[i]
                mask[r, : len(encs[i])] = 1
            out: list[Any] = self.session.run(names, {"input_ids": ids, "attention_mask": mask})
            # Mean-pool the middle layers' token states over the real (unpadded) tokens.
            m = mask[:, :, None].astype(np.float32)
            count = np.maximum(m.sum(axis=1), 1.0)
            out[3:] = [(np.asarray(h) * m).sum(axis=1) / count for h in out[3:]]
            return out

        # onnxruntime releases the GIL while it runs, so the workers use separate cores.
        if self.workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(min(self.workers, len(batches))) as pool:
                results = list(pool.map(run, batches))
        else:
            results = [run(idx) for idx in batches]
        for idx, (s, g, e_, *hs) in zip(batches, results, strict=True):
            sent[idx] = np.asarray(s)
            sugg[idx] = np.asarray(g).reshape(-1)
            emb[idx] = np.asarray(e_)
            for j, h in enumerate(hs):
                hidden[idx, j] = h
        return Encoded(sent, sugg, emb, hidden)

    def embed(self, texts: list[str]) -> tuple[FloatArray, FloatArray]:
        """Return (sentence embeddings, sentiment logits) of normalized texts."""
        enc = self.encode(texts)
        return enc.embedding, enc.sentiment

    def logits(self, texts: list[str]) -> tuple[FloatArray, FloatArray]:
        """Return ((n, 5) logits [neg, neu, pos, complaint, suggestion], embeddings)."""
        enc = self.encode(texts)
        emb = enc.embedding
        z = np.zeros((len(texts), 5), dtype=np.float32)
        z[:, :3] = enc.sentiment
        z[:, 4] = enc.suggestion
        if self.complaint_coef is not None and self.complaint_idf is not None:
            design = complaint_design(texts, enc, self.complaint_idf)
            z[:, 3] = design @ self.complaint_coef + self.complaint_bias
        else:
            z[:, 3] = -60.0  # no complaint head loaded: never a complaint
        if self.delta is not None and self.delta.shape[0] == emb.shape[1]:
            z += emb @ self.delta
        return z, emb

    def scores(self, texts: list[str]) -> Scores:
        """Score normalized texts."""
        z, _ = self.logits(texts)
        sent = softmax(z[:, :3])
        if self.fast is not None and len(texts):
            fast = softmax(self.fast.logits(texts)[:, :3])
            sent = ((1.0 - self.fast_weight) * sent + self.fast_weight * fast).astype(np.float32)
        return Scores(sent, sigmoid(z[:, 3]), sigmoid(z[:, 4]))
