"""The seam: run-directory schema, reading and atomic writing; runners and reporter both import it."""
