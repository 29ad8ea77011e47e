"""The commands; the one place that composes runners and reporter."""
