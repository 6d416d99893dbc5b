"""Compiled steps (SPEC §9): trace a function once per input signature, run generated numpy.

``trace`` turns one eager run into statements, ``codegen`` writes them as Python
source with reused buffers, ``runtime`` holds the callable that ``al.compile``
returns. See ``docs/compile.md``.

>>> import autograd_lite as al
>>> al.compile(lambda v: v.tanh().sum())(al.Value([0.0, 0.0])).data
0.0
"""

from __future__ import annotations

from .runtime import CompileCheckError, Compiled, compile
from .trace import CompileError

__all__ = ["CompileCheckError", "CompileError", "Compiled", "compile"]
