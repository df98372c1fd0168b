"""How sure can we be of an LA's place? Intervals, funnels, Monte Carlo and sensitivity
(docs/UNCERTAINTY.md); settings in data/registry/uncertainty.yml."""

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
