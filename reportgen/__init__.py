"""reportgen: tidy experiment results → annotated charts, weekly decks and abstract drafts."""

__version__ = "0.1.0"
