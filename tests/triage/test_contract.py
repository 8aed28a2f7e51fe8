"""The `Labels` contract: every field, order, and odd input never raising."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from earful.triage import INTENTS, SENTIMENTS, Labels, Triager, load_triager
from earful.triage.features import N_FEATURES
from earful.triage.models import (
    BEST_DIR,
    HIDDEN_LAYERS,
    WEIGHTS_DIR,
    BestScorer,
    best_workers,
    complaint_width,
)

FIELDS = {
    "sentiment",
    "sentiment_scores",
    "complaint",
    "complaint_score",
    "suggestion",
    "suggestion_score",
    "question",
    "praise",
    "intent",
    "needs_reply",
    "language",
    "topic",
}

ODD_INPUTS = [
    "",
    "   ",
    "😀😀🔥🔥🙏",
    "x" * 1_000_000,
    "<script>alert('x')</script><b>hi</b>",
    "'; DROP TABLE messages; --",
    "\x00\x01\x02\x1b[31mred\x1b[0m\u202e\ufeff",
    "\ud800 lone surrogate",
    "Mi pedido no ha llegado y nadie responde. ¡Qué desastre!",
    "我的订单还没到 客服也不回复",
    "Привет, где мой заказ?",
    "@user @user @user",
    "http://example.com/?q=1",
    "?????",
    "\n\n\t",
]

MODELS = ["fast"] + (["best"] if (WEIGHTS_DIR / BEST_DIR / "model.onnx").is_file() else [])


def check(lab: Labels) -> None:
    d = lab.to_dict()
    assert set(d) == FIELDS
    assert {f.name for f in dataclasses.fields(Labels)} == FIELDS
    assert d["sentiment"] in SENTIMENTS
    assert set(d["sentiment_scores"]) == set(SENTIMENTS)
    assert abs(sum(d["sentiment_scores"].values()) - 1.0) < 1e-3
    assert max(d["sentiment_scores"], key=d["sentiment_scores"].get) == d["sentiment"]
    for key in ("complaint", "suggestion", "question", "praise", "needs_reply"):
        assert isinstance(d[key], bool)
    for key in ("complaint_score", "suggestion_score"):
        assert isinstance(d[key], float)
        assert 0.0 <= d[key] <= 1.0
    assert d["intent"] in INTENTS
    assert isinstance(d["language"], str)
    assert d["language"] == "und" or (len(d["language"]) == 2 and d["language"].isalpha())
    assert d["topic"] is None or isinstance(d["topic"], str)
    json.dumps(d)  # JSON-serializable as is


@pytest.mark.parametrize("name", MODELS)
def test_every_field_and_odd_inputs(name: str) -> None:
    triager = load_triager(name)
    labels = triager.label(ODD_INPUTS)
    assert len(labels) == len(ODD_INPUTS)
    for lab in labels:
        check(lab)


@pytest.mark.parametrize("name", MODELS)
def test_order_kept_across_batches(name: str) -> None:
    triager = load_triager(name)
    texts = ["I love this, thank you so much!", "my order is late again and nobody answers"] * 300
    labels = triager.label(texts)
    assert len(labels) == 600
    assert all(lab.sentiment == "positive" for lab in labels[0::2])
    assert all(lab.sentiment == "negative" for lab in labels[1::2])
    single = triager.label([texts[1]])[0]
    if name == "fast":
        assert single == labels[599]
    else:
        # int8 activations are quantized per batch: scores move a little with the batch.
        assert single.sentiment == labels[599].sentiment
        for key, value in single.sentiment_scores.items():
            assert abs(value - labels[599].sentiment_scores[key]) < 0.2


@pytest.mark.skipif("best" not in MODELS, reason="best weights not present")
def test_best_gives_the_same_scores_with_parallel_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [f"order {i} is late, {'very ' * (i % 7)}annoying" for i in range(100)] + ["", "ok"]
    monkeypatch.setenv("EARFUL_TRIAGE_THREADS", "1")
    serial = BestScorer(WEIGHTS_DIR / BEST_DIR)
    monkeypatch.setenv("EARFUL_TRIAGE_THREADS", "3")
    parallel = BestScorer(WEIGHTS_DIR / BEST_DIR)
    assert (serial.workers, parallel.workers) == (1, 3)
    a, b = serial.scores(texts), parallel.scores(texts)
    assert np.array_equal(a.sentiment, b.sentiment)
    assert np.array_equal(a.complaint, b.complaint)
    assert np.array_equal(a.suggestion, b.suggestion)


@pytest.mark.skipif("best" not in MODELS, reason="best weights not present")
def test_best_refuses_a_complaint_head_of_another_shape(tmp_path: Path) -> None:
    for name in ("model.onnx", "tokenizer.json", "meta.json"):
        shutil.copy(WEIGHTS_DIR / BEST_DIR / name, tmp_path / name)
    np.savez(
        tmp_path / "heads.npz",
        complaint_coef=np.zeros(complaint_width() - 1, dtype=np.float32),
        complaint_bias=np.zeros(1, dtype=np.float32),
        complaint_idf=np.ones(N_FEATURES, dtype=np.float16),
    )
    with pytest.raises(ValueError, match="does not match"):
        BestScorer(tmp_path)


@pytest.mark.skipif("best" not in MODELS, reason="best weights not present")
def test_best_encodes_middle_layers_for_the_complaint_head() -> None:
    scorer = BestScorer(WEIGHTS_DIR / BEST_DIR)
    enc = scorer.encode(["my parcel never arrived", "thanks, great service", ""])
    assert enc.hidden.shape == (3, len(HIDDEN_LAYERS), enc.embedding.shape[1])
    assert np.isfinite(enc.hidden).all()
    # Different texts give different pooled states (the layers are really read).
    assert not np.allclose(enc.hidden[0], enc.hidden[1])


def test_best_workers_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARFUL_TRIAGE_THREADS", "2")
    assert best_workers() == 2
    for junk in ("", "0", "-1", "two"):
        monkeypatch.setenv("EARFUL_TRIAGE_THREADS", junk)
        assert 1 <= best_workers() <= 8


def test_empty_batch(fast: Triager) -> None:
    assert fast.label([]) == []


def test_labels_frozen(fast: Triager) -> None:
    lab = fast.label(["hello"])[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        lab.sentiment = "positive"  # type: ignore[misc]
    d = lab.to_dict()
    d["sentiment_scores"]["positive"] = 9.0
    assert lab.sentiment_scores["positive"] != 9.0


def test_language(fast: Triager) -> None:
    langs = [
        lab.language
        for lab in fast.label(
            [
                "Where is my parcel? It was due on Monday.",
                "Mi pedido no ha llegado todavía y nadie me responde",
                "Mon colis n'est toujours pas arrivé, c'est inadmissible",
                "😡😡😡",
                "",
            ]
        )
    ]
    assert langs == ["en", "es", "fr", "und", "und"]


def test_language_matches_py3langid() -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from earful.triage.language import detect

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    texts = [
        "Das ist ja wohl ein Witz, schon wieder verspätet",
        "Obrigado pela ajuda rápida",
        "Grazie mille per il supporto",
        "The app keeps crashing since the update",
    ]
    ours = detect(texts)
    for text, lang in zip(texts, ours, strict=True):
        assert lang == ident.classify(text)[0]


def test_intents_and_rules(fast: Triager) -> None:
    lab = fast.label(
        [
            "@AmazonHelp my package was supposed to arrive yesterday, still nothing. "
            "Terrible service."
        ]
    )[0]
    assert lab.complaint and lab.intent == "complaint" and lab.needs_reply
    assert lab.topic == "delivery"
    q = fast.label(["how do I change the email address on my account?"])[0]
    assert q.question and q.needs_reply and q.topic == "account"
    p = fast.label(["Thank you so much @SpotifyCares, you guys are amazing!"])[0]
    assert p.praise and p.intent == "praise" and not p.complaint
    o = fast.label(["Watching the game tonight with friends"])[0]
    assert o.intent == "other" and not o.needs_reply


def test_unknown_model_name() -> None:
    with pytest.raises(ValueError, match="unknown triage model 'huge'"):
        load_triager("huge")


def test_load_is_cached() -> None:
    assert load_triager("fast") is load_triager("fast")
    default = load_triager(None)
    assert default is load_triager(None)
    assert default.name in ("fast", "best")
    if "best" in MODELS:
        assert default.name == "best"


def test_no_django_imports() -> None:
    import pathlib

    import earful.triage

    root = pathlib.Path(earful.triage.__file__).parent
    for path in root.rglob("*.py"):
        src = path.read_text()
        assert "import django" not in src and "from django" not in src, path
