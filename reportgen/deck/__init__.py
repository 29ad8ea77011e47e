"""Deck decisions (pure), text normalisation, and the python-pptx drawing."""
