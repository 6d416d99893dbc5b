"""The teaching tools, built on the engine, ``viz`` and ``symbolic``.

* :mod:`~autograd_lite.teaching.lecture` — the lecture's worked examples as graphs;
* :mod:`~autograd_lite.teaching.demo` — the walk-through of ``autograd-lite demo``;
* :mod:`~autograd_lite.teaching.replay` — the backward pass one node at a time
  (``al.viz.replay``);
* :mod:`~autograd_lite.teaching.exercises` — graphs with blanks and grading
  (``al.exercise``, ``al.grade``);
* :mod:`~autograd_lite.teaching.audit` — which node's local derivative is wrong
  (``al.audit``);
* :mod:`~autograd_lite.teaching.figures` — the pictures of the docs' visualization page;
* :mod:`~autograd_lite.teaching.cli` — the ``replay`` and ``exercise`` sub-commands.

Imports point one way: the engine ← ``viz``/``symbolic``/``nn`` ← ``teaching`` ←
the command line. Nothing here is imported by ``import autograd_lite``.

>>> from autograd_lite.teaching import lecture
>>> lecture.swimming_perceptron()["y"].data
1.0
"""
