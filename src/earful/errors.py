"""The base of every error a service raises for a request it refuses, with the reason."""


class DomainError(ValueError):
    """A request that cannot be carried out; its message is shown to the person who asked."""
