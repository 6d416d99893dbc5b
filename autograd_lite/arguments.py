"""What counts as a number or a count in the arguments users pass (hyper-parameters, sizes).

One answer for the whole library: Python's and numpy's numbers are taken alike
(``np.float32(0.1)`` is a learning rate, ``np.int64(4)`` a count), and a bool is
never a number (``lr=True`` or ``train("eval")``-style slips are refused, not read as 1).
The callers add their own bounds and messages that name the function at fault.

>>> is_real(np.float32(0.5)), is_real(True), is_int(np.int64(3)), is_int(3.0)
(True, False, True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

_REALS = (int, float, np.integer, np.floating)  # (numpy's float32 is no Python float)
_BOOLS = (bool, np.bool_)


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number, Python's or numpy's, and not a bool.

    >>> [is_real(v) for v in (0.1, 2, np.float32(0.5), np.int64(3), True, "1", None)]
    [True, True, True, True, False, False, False]
    """
    return isinstance(value, _REALS) and not isinstance(value, _BOOLS)


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer, Python's or numpy's, and not a bool (nor a float).

    >>> [is_int(v) for v in (3, np.int64(3), 3.0, True, np.bool_(True), "3")]
    [True, True, False, False, False, False]
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, _BOOLS)
