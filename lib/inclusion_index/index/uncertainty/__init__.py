"""How sure can we be of an LA's place? Exact intervals (``intervals``), funnel plots
(``funnels``), Monte Carlo rank intervals and improvement beyond uncertainty (``plan``,
``fast_engine``, ``monte_carlo``), and sensitivity of ranks to each method choice (``sensitivity``).

Settings live in ``data/registry/uncertainty.yml`` (parsed by :mod:`inclusion_index.config`).
"""

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
from inclusion_index.index.uncertainty.monte_carlo import MonteCarloResult, RangeWidening, monte_carlo
from inclusion_index.index.uncertainty.sensitivity import sensitivity_table
