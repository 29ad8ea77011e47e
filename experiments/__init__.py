"""Runners for steering, truncation and bias experiments; they write tidy results (see reportgen.rundir.schema)."""
