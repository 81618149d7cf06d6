"""Background work: the periodic scheduler (and, later, the durable job queue)."""
