"""Shared test settings: hypothesis profiles (bounded and seeded in CI, longer for `make fuzz`);
the Jupyter kernel spec the notebook and docs tests run their cells in."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from support import write_kernel_spec

matplotlib.use("Agg")

settings.register_profile(
    "ci",
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def kernel_dirs(tmp_path_factory) -> list[str]:
    """A kernel spec that runs this interpreter (the project's .venv under `make test`)."""
    return write_kernel_spec(tmp_path_factory.mktemp("kernels"))
