"""earful: hear everything customers say about a business, on every channel, and answer it."""

__version__ = "0.1.0"
