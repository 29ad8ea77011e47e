"""Builders of one kind of slide each (prompts, tables, bullets, speaker notes); imports nothing."""
