"""The book's instruments: what the chapters use to measure, draw, check and explain.

Learners call these functions but need not read them. The code a child process
runs, the code worth reading and copying, lives one level up, in the worker
modules ``helpers/<topic>.py``; every chapter shows those functions' source on
the page with :func:`helpers.lab.show.show`.

One of each, shared by every chapter:

- ``args``: the one place that checks arguments (clear ``TypeError``/``ValueError``);
- ``book``: the book's start method switch (``MP_BOOK_START_METHOD``);
- ``machine``: CPU counts, the default start method, the one machine label;
- ``timeline``: spans of work, their measures and the Gantt chart;
- ``results``: ``collect``, the one way the parent takes results off a queue, and
  ``pool_result``, off a pool (a worker that dies fails at once);
- ``show``: a function's source, highlighted, from the live module;
- ``exercises``: ``feedback`` and ``check_worker`` for the learner's own workers.

The topic modules hold each chapter's experiments, plots, panels and exercise
checks: ``gil`` (chapter 00); ``processes``, ``start_methods`` (01, 02); ``ipc``,
``ipc_checks``, ``transports``, ``throughput`` (03, 04); ``pools``, ``chunksize``
(05, 06); ``sync``, ``sync_checks`` (07, 08); ``bench``, ``bench_results``,
``warmup``, ``amdahl``, ``speedup_plots``, ``bench_panel``, ``speedup_checks`` (09);
``debug``, ``debug_checks`` (10);
``panels``: what the widget panels share (labelled controls, buttons with enough
contrast, figures with alt text).
"""
