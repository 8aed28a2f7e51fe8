"""Listening models: label each message (sentiment, complaint, intent, ...) and score urgency.

Pure Python (numpy, scikit-learn, onnxruntime, tokenizers): no Django imports here.
"""

from earful.triage.labels import INTENTS, SENTIMENTS, Labels
from earful.triage.triager import MODEL_NAMES, Triager, load_triager
from earful.triage.urgency import urgency

__all__ = [
    "INTENTS",
    "MODEL_NAMES",
    "SENTIMENTS",
    "Labels",
    "Triager",
    "load_triager",
    "urgency",
]
