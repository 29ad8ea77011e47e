"""The abstract draft: claims rendered through templates/abstract.md.j2."""
