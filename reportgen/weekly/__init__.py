"""The weekly job: run, report, lint, summary.md."""
