"""Storage adapters: the event store's PostgreSQL recorder and the schema lock.

The domain package (``ledger/``) imports only the standard library and eventsourcing; the
application is given this recorder by topic (``APPLICATION_RECORDER_TOPIC`` in
``ledger.persistence``), as the library gives it any other, and reaches its batch reads through
``ledger.batch_reads.BatchReads``.
"""
