"""Training and evaluation of the triage models (reads ../shared/data; torch only for `best`)."""
