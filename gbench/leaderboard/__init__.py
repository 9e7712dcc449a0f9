"""The static leaderboard site, built from logged runs and accepted submission bundles.

Input format
============

The leaderboard reads ONE input type: a list of tidy result rows, one per
(suite, model, task, split, seed), each a :class:`gbench.record.Result` (its fields are
``gbench.record.COLUMNS``: what ``gbench results`` exports and a bundle's rows hold). Its
``source`` is ``"gbench run"`` (a finished final run in the MLflow store the site is built
from), ``"verified"`` (a submission re-run by ``gbench verify``) or ``"self-reported"``
(submitted numbers, not re-run); rows of a reference that ``gbench regress --update`` wrote
(``--reference``: the maintainers' own runs of the baselines) are ``"gbench run"`` too, with
no run ids, since its store is not kept. ``trials`` and ``search_seconds`` are the search budget
the model used on the task (0 trials when a configuration was given; null if unknown).
``sandbox`` is how the row's plugin code was confined; a result over several splits shows
the weakest level, null (``unknown``) counting as weaker than ``none``. The seconds a result
spent are the runner's ``wall_seconds``; a row without them (older runs, bundles) counts its
``train_seconds`` instead. Columns and cells showing a figure of
``gbench.record.CHILD_REPORTED`` (the child's own report, forgeable) are marked †.

A submission bundle is a JSON file in ``leaderboard/submissions/*.json``::

    {
      "model": {"name": "my-gnn", "version": "1.0", "family": "gnn",
                "authors": ["A. Researcher"], "paper": "https://...", "code": "https://...",
                "licence": "MIT", "citation": "...", "changes": "what differs from the
                authors' code, and why", "space": {<as `gbench models show
                --format json` prints it>}},
      "results": [
        {"suite": "standard", "task": "cora", "task_version": 1, "split": 0, "seed": 0,
         "metric": "accuracy", "test_score": 0.815, "source": "self-reported",
         "num_parameters": 92000, "train_seconds": 3.1, "device": "cuda", "gpu": "...",
         "config": {"lr": 0.01}, ...},
        ...
      ]
    }

A bundle written by ``gbench submit`` also carries what the pages show of the suite, its
tasks and their data (:mod:`gbench.leaderboard.facts`): the suite's ``description``, each
``tasks`` entry's spec fields (``dataset``, ``family``, ``replication``, ...), and
``"datasets": {name: {card fields, "generator", "measured"}}``; the runner keeps the same
with each MLflow parent run. The site is built from these alone, never from the data root,
task specs or plugins of the machine building it; a bundle without them shows only its rows.

A bundle row needs ``suite, task, task_version, split, seed, metric, test_score, source``
(``source`` is ``verified`` or ``self-reported``: only the store holds gbench runs); its
``model``, if given, is the bundle model's ``name`` or ``registered_as`` (the name it was run
under), and every other column may be left out (null).

A model is named by its metadata name everywhere (results, bundles, pages), never by the
path of its plugin file, so one model is one entry whatever its sources. Where rows describe
the same (model, task, split, seed), the model's newest version counts, then the most
trusted source (gbench run, then verified, then self-reported), then the first suite by
name; only each task's newest version counts. Rows of the same model version that disagree
(another score, another source file) are a conflict: the build prints it and the model's
page lists it. Scores are higher-is-better (accuracy, ROC-AUC). How ties
and critical differences are decided is in :mod:`gbench.leaderboard.stats`.

Modules: ``inputs`` (reading rows), ``facts`` (what the pages show of suites, tasks,
datasets and models, recorded at run time), ``board`` (per-task and per-suite aggregates),
``stats`` (ranks, tie rule, Friedman/Nemenyi), ``tables`` (sortable, downloadable tables),
``columns`` (shared columns), ``plots`` (SVG figures), ``render`` (the site and what its
pages share), ``pages`` (one publisher per kind of page), ``serve`` (local viewing).
"""

from gbench.leaderboard.inputs import Inputs, load
from gbench.leaderboard.render import build
from gbench.record import COLUMNS, SOURCES

__all__ = ["COLUMNS", "SOURCES", "Inputs", "build", "load"]
