"""The feedback board, honest-answer requests and close-the-loop notices."""
