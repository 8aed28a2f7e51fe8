"""Listening models: label each message (sentiment, complaint, intent, ...) and score urgency.

Pure Python (numpy, scikit-learn, onnxruntime, tokenizers): no Django imports here.
"""

from earful.triage.corrections import train_with_corrections, triager_from_weights
from earful.triage.labels import INTENTS, SENTIMENTS, Labels
from earful.triage.models import LinearHeads
from earful.triage.triager import MODEL_NAMES, Triager, load_triager
from earful.triage.urgency import urgency

__all__ = [
    "INTENTS",
    "MODEL_NAMES",
    "SENTIMENTS",
    "Labels",
    "LinearHeads",
    "Triager",
    "load_triager",
    "train_with_corrections",
    "triager_from_weights",
    "urgency",
]
