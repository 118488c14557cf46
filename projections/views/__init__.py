"""The read models, one module each. A view has a ``name``, the ``tables`` it owns, ``create``
(idempotent DDL) and ``project`` (apply a page of events inside the runner's transaction)."""
