"""The chart builders: one module per chart form, each a set of functions of a frozen
:class:`~reportgen.chart.builders.context.Context` (one experiment's rows and the decisions
its charts share). Named ``builders``, not ``build``: .gitignore reserves ``build/`` for
packaging output."""
