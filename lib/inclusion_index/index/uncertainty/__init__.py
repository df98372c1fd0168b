"""How sure can we be of an LA's place? Exact intervals (``intervals``), funnel plots
(``funnels``), Monte Carlo rank intervals and improvement beyond uncertainty (``plan``,
``fast_engine``, ``monte_carlo``), and sensitivity of ranks to each method choice (``sensitivity``).

Settings live in ``data/registry/uncertainty.yml`` (parsed by :mod:`inclusion_index.config`).
"""

from inclusion_index.index.uncertainty.funnels import _overdispersion as _overdispersion  # tests use U._...
from inclusion_index.index.uncertainty.funnels import (
    cohort_sizes,
    funnel_limits,
    funnel_table,
    measure_on_geography,
)
from inclusion_index.index.uncertainty.intervals import (
    UncertaintyError,
    binomial_ci,
    normal_mean_ci,
    poisson_rate_ci,
)
from inclusion_index.index.uncertainty.monte_carlo import MonteCarloResult, monte_carlo
from inclusion_index.index.uncertainty.plan import _build_plan as _build_plan
from inclusion_index.index.uncertainty.plan import _values_for as _values_for
from inclusion_index.index.uncertainty.sensitivity import sensitivity_table
from inclusion_index.sources.geography import boundary_reference

__all__ = [
    "MonteCarloResult", "UncertaintyError",
    "binomial_ci", "boundary_reference", "cohort_sizes", "funnel_limits", "funnel_table", "measure_on_geography", "monte_carlo", "normal_mean_ci",
    "poisson_rate_ci", "sensitivity_table",
]
