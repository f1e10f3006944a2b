"""Running jobs: the runner (:mod:`.runner`, the Python API), streaming a job through its
graph (:mod:`.execution`), checkpointers (:mod:`.checkpoint`), run records
(:mod:`.records`), results (:mod:`.results`), batches (:mod:`.batch`) and the resumable
results log they share with evals (:mod:`.result_log`)."""

__all__: list[str] = []
