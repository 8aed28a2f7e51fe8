"""`earful bench quality`: the public benchmarks, measured per model, next to published scores."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from earful.triage.models import best_workers
from earful.triage.training import data

# Published scores and the targets (see ../shared/data/README.md and issue 3).
ANCHORS: dict[str, dict[str, Any]] = {
    "sentiment_macro_recall": {
        "published": {
            "TimeLMs-2021": 0.737,
            "RoBERTa-base": 0.713,
            "FastText": 0.629,
            "SVM": 0.629,
        },
        "target": {"best": 0.72, "fast": 0.64},
    },
    # Which anchor each model answers to: fast (a linear model on n-grams) to the 2019 paper's
    # linear models on features (79), best (a transformer) to the fine-tuned transformers of
    # 2020-2021 (87, 88.2) and the 0.90.
    "complaints_macro_f1_cv10": {
        "published": {
            "Jin & Aletras 2021": 0.882,
            "Jin & Aletras 2020": 0.87,
            "Preotiuc-Pietro et al. 2019 (linear)": 0.79,
        },
        "target": {"best": 0.90, "fast": 0.79},
    },
    "suggestions_f1": {
        "published": {"SemEval-2019 winner (official test)": 0.781, "baseline": 0.268},
        "target": {"best": 0.80, "fast": 0.80},
    },
    "msg_per_s": {"published": {}, "target": {"best": 500, "fast": 10000}},
    "msg_per_cpu_s": {"published": {}, "target": {"fast": 10000}},
}
CV_FOLDS = 10
CV_SEED = 0


def _macro_recall(y: list[int], pred: list[int]) -> float:
    from sklearn.metrics import recall_score

    return float(recall_score(y, pred, average="macro"))


def complaint_cv(model: str, root: Path) -> float:
    """Mean macro-F1 over stratified 10-fold CV of the model's complaint head on complaints."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    co = data.complaints(root)
    y = np.asarray(co.labels)
    x: Any
    if model == "fast":
        from earful.triage.models import FastScorer
        from earful.triage.training import fast

        heads = FastScorer.load().heads
        x = fast.training_matrix(fast.counts(co.texts), heads.idf)
        c = fast.C_COMPLAINT
    else:
        from earful.triage.models import BEST_DIR, WEIGHTS_DIR, BestScorer, complaint_design
        from earful.triage.training import best, fast

        scorer = BestScorer(WEIGHTS_DIR / BEST_DIR)
        assert scorer.complaint_idf is not None
        texts = fast.prepare(co.texts)
        x = complaint_design(texts, scorer.encode(texts), scorer.complaint_idf)
        c = best.C_COMPLAINT
    scores = []
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=CV_SEED)
    for tr, te in folds.split(np.zeros(len(y)), y):
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
        clf.fit(x[tr], y[tr])
        scores.append(f1_score(y[te], clf.predict(x[te]), average="macro"))
    return float(np.mean(scores))


def speed(model: str, texts: list[str], seconds: float = 8.0) -> tuple[float, float]:
    """(messages per wall-clock second, per CPU second) through `Triager.label`.

    Everything is included: cleaning, language, model, rules. The CPU-second figure is
    what one core gives when the machine is not shared (it sums all threads' time).
    """
    from earful.triage import load_triager

    triager = load_triager(model)
    triager.label(texts[:64])  # warm-up
    n = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    while time.perf_counter() - t0 < seconds:
        triager.label(texts)
        n += len(texts)
    return n / (time.perf_counter() - t0), n / max(1e-9, time.process_time() - c0)


# Which labeled tags each topic rule should find (tags without a topic are left out).
TWACS_TOPIC = {
    "DELAY": "delay",
    "BAGGAGE": "baggage",
    "BOOKFLT": "booking",
    "CHGFLT": "booking",
    "FLIGHTSTAFF": "staff",
    "CUSTSUPP": "staff",
}
SUPPORT_TOPIC = {
    "Delivery": "delivery",
    "Refund": "refund",
    "Account": "account",
    "Billing/Payment": "billing",
    "Return": "return",
    "Order Cancellation": "cancellation",
    "Bad Support": "staff",
    "Premium": "subscription",
    "Prime": "subscription",
    "Student Subscription": "subscription",
    "Family Subscription": "subscription",
    "Update": "product_bug",
    "Unresponsive/Freezing Device": "product_bug",
    "App": "product_bug",
    "Battery": "product_bug",
}


def rules_report(root: Path) -> dict[str, Any]:
    """Agreement of the topic rules with TwACS intents and the support-topics labels."""
    from earful.triage import rules
    from earful.triage.text import clean, normalize

    out: dict[str, Any] = {}
    texts, tags = data.twacs_intents(root)
    gold_sets = [{TWACS_TOPIC[t]} if t in TWACS_TOPIC else set() for t in tags]
    s_texts, s_topics = data.support_topics(root)
    gold_sets += [{SUPPORT_TOPIC[t] for t in ts if t in SUPPORT_TOPIC} for ts in s_topics]
    preds = [rules.topic(normalize(clean(t))) for t in texts + s_texts]
    for name in sorted({g for gs in gold_sets for g in gs}):
        tp = sum(1 for p, g in zip(preds, gold_sets, strict=True) if p == name and name in g)
        fp = sum(1 for p, g in zip(preds, gold_sets, strict=True) if p == name and name not in g)
        support = sum(1 for g in gold_sets if name in g)
        out[name] = {
            "precision": round(tp / max(1, tp + fp), 3),
            "recall": round(tp / max(1, support), 3),
            "support": support,
        }
    return out


def run(
    root: Path, models: list[str], progress: Callable[[str], Any] | None = None
) -> dict[str, Any]:
    """Measure every model; return {"models": {name: metrics}, "anchors": ..., "machine": ...}."""
    from sklearn.metrics import f1_score

    from earful.triage import load_triager

    say = progress or (lambda _m: None)
    test = data.tweeteval_split(root, "test")
    trial = data.suggestions_trial(root)
    results: dict[str, Any] = {}
    for name in models:
        say(f"[{name}] loading")
        triager = load_triager(name)
        say(f"[{name}] TweetEval sentiment test ({len(test.texts)} tweets)")
        labs = triager.label(test.texts)
        order = ("negative", "neutral", "positive")
        sent = _macro_recall(test.labels, [order.index(lb.sentiment) for lb in labs])
        say(f"[{name}] complaints 10-fold CV")
        comp = complaint_cv(name, root)
        say(f"[{name}] suggestions trial test")
        sl = triager.label(trial.texts)
        sugg = float(f1_score(trial.labels, [int(lb.suggestion) for lb in sl]))
        say(f"[{name}] speed")
        sample = test.texts[:4096] if name == "fast" else test.texts[:1024]
        results[name] = {
            "sentiment_macro_recall": round(sent, 4),
            "complaints_macro_f1_cv10": round(comp, 4),
            "suggestions_f1": round(sugg, 4),
        }
        wall, cpu = speed(name, sample)
        results[name]["msg_per_s"] = round(wall, 1)
        results[name]["msg_per_cpu_s"] = round(cpu, 1)
    say("topic rules vs TwACS intents and support topics")
    return {
        "models": results,
        "topic_rules": rules_report(root),
        "anchors": ANCHORS,
        "machine": {
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
            "best_parallel_batches": best_workers(),
        },
    }


def print_table(result: dict[str, Any]) -> None:
    """Print one rich table per model: metric, measured, target, published anchors."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for name, metrics in result["models"].items():
        table = Table(title=f"triage model: {name}")
        table.add_column("metric")
        table.add_column("measured", justify="right")
        table.add_column("target", justify="right")
        table.add_column("published", justify="left")
        for key, value in metrics.items():
            anchor = result["anchors"].get(key, {})
            target = anchor.get("target", {}).get(name)
            ok = target is None or value >= target
            published = ", ".join(f"{k} {v}" for k, v in anchor.get("published", {}).items())
            table.add_row(
                key,
                f"[{'green' if ok else 'red'}]{value}[/]",
                "" if target is None else str(target),
                published,
            )
        console.print(table)
    topics = result.get("topic_rules") or {}
    if topics:
        table = Table(title="topic rules vs labeled tags (TwACS intents, support topics)")
        for col in ("topic", "precision", "recall", "support"):
            table.add_column(col, justify="left" if col == "topic" else "right")
        for name, m in topics.items():
            table.add_row(name, str(m["precision"]), str(m["recall"]), str(m["support"]))
        console.print(table)
