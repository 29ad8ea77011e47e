"""Chart decisions (pure), their words, and their drawing with matplotlib."""
