"""What every layer may use to be observed: the per-request profiler, Prometheus metrics,
structured logs, the audit log and the in-flight request count."""
