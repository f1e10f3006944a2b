"""What a job leaves to inspect: OpenTelemetry tracing (:mod:`.tracing`), the trace file
of each run (:mod:`.trace_file`) and the audit log (:mod:`.audit`)."""

__all__: list[str] = []
