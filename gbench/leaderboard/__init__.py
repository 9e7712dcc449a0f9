"""The static leaderboard site, built from logged runs and accepted submission bundles.

Input format
============

The leaderboard reads ONE input type: a list of tidy result rows, one per
(suite, model, task, split, seed). A row has exactly the keys of
:func:`gbench.runner.results.rows` (``gbench.runner.results.COLUMNS``) plus three:

``source``
    ``"gbench run"`` (a finished final run in the MLflow store the site is built from),
    ``"verified"`` (a submission re-run by ``gbench verify``) or ``"self-reported"``
    (submitted numbers, not re-run).
``trials``
    Search trials the model used on the task (0 when a configuration was given); null if
    unknown.
``search_seconds``
    Training seconds of those trials, summed; null if unknown.

MLflow runs become rows through ``results.rows()``, with trials and their seconds counted
from the store's trial runs. A submission bundle is a JSON file in
``leaderboard/submissions/*.json``::

    {
      "model": {"name": "my-gnn", "version": "1.0", "family": "gnn",
                "authors": ["A. Researcher"], "paper": "https://...", "code": "https://...",
                "licence": "MIT", "citation": "...", "space": {<as `gbench models show
                --format json` prints it>}},
      "results": [
        {"suite": "standard", "task": "cora", "task_version": 1, "split": 0, "seed": 0,
         "metric": "accuracy", "test_score": 0.815, "source": "self-reported",
         "num_parameters": 92000, "train_seconds": 3.1, "device": "cuda", "gpu": "...",
         "config": {"lr": 0.01}, ...},
        ...
      ]
    }

A bundle row needs ``suite, task, task_version, split, seed, metric, test_score, source``
(``source`` is ``verified`` or ``self-reported``: only the store holds gbench runs); its
``model``, if given, is the bundle model's ``name`` or ``registered_as`` (the name it was run
under), and every other column may be left out (null).

Where two rows describe the same (model, task, split, seed), the most trusted source wins
(gbench run, then verified, then self-reported), then the first suite by name; only each
task's newest version counts. Scores are higher-is-better (accuracy, ROC-AUC). How ties
and critical differences are decided is in :mod:`gbench.leaderboard.stats`.

Modules: ``inputs`` (reading rows), ``board`` (per-task and per-suite aggregates),
``stats`` (ranks, tie rule, Friedman/Nemenyi), ``tables`` (sortable, downloadable tables),
``plots`` (SVG figures), ``render`` (the pages), ``serve`` (local viewing).
"""

from gbench.leaderboard.inputs import COLUMNS, SOURCES, Inputs, load
from gbench.leaderboard.render import build

__all__ = ["COLUMNS", "SOURCES", "Inputs", "build", "load"]
