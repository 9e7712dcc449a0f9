"""The fixed-budget runner.

A job is a plain, serialisable (model, task, split, seed, config) unit; ``isolate.Flight``
runs one in an isolated child process that sees only the training view of the graph. The benchmark
loop (search, then every split with the best configuration) and MLflow tracking build on
that, so any executor (a process pool, Ray) can run the same jobs.
"""
