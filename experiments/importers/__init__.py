"""Importers: turn results produced elsewhere (inspect_ai eval logs) into tidy run directories."""
