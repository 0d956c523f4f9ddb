"""Rate limits: GCRA in memory or in Redis, picked by the broker URL."""
