"""Text clean-up shared by every model: makes hostile or huge input safe and bounded."""

from __future__ import annotations

import re
import unicodedata

# Labels depend on the opening of a message; bounding the length keeps a 1 MB paste from
# stalling a batch (time and memory stay linear in the batch, not in the paste).
MAX_CHARS = 2000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+")
_SPACE = re.compile(r"\s+")


def clean(text: object) -> str:
    """Return `text` as a bounded, printable string (non-strings become their str())."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[: MAX_CHARS * 2]
    # Lone surrogates (from bad JSON escapes) cannot be UTF-8 encoded downstream.
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    text = _TAG.sub(" ", text)
    return _SPACE.sub(" ", text).strip()[:MAX_CHARS]


def normalize(text: str) -> str:
    """Return the model view of cleaned text: lower case, URLs and @handles as placeholders."""
    text = _URL.sub(" http ", text)
    # TweetEval writes every handle as @user; doing the same here makes brand handles
    # (@AmazonHelp, @115712) look like the training data instead of unseen tokens.
    text = _MENTION.sub("@user", text)
    return text.lower()
