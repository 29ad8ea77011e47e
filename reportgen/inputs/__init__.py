"""The YAML files a user writes (deck.yaml, weekly.yaml, takeaways, glossary), strictly validated."""
