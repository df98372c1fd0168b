"""Measure what the Monte Carlo's aggregation choice (g) does, at the production draw count.

For each rendered edition: the 90% overall rank range (median / mean / 90th percentile width)
without -> with the choice, how many LAs' published rank falls outside their own range, the area
weighting against the headline (mean / median / max rank move, Spearman), and the CPU seconds of
the Monte Carlo without and with (g). Prints a Markdown table.

    .venv/bin/python benchmarks/aggregation_choice.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from inclusion_index.config import CHOICES, run_settings  # noqa: E402
from inclusion_index.index.build import CORE_STEPS, build_edition  # noqa: E402
from inclusion_index.index.uncertainty import monte_carlo, sensitivity_table  # noqa: E402
from inclusion_index.paths import data_dir as default_data_dir  # noqa: E402
from inclusion_index.sources.harmonise import load_inputs  # noqa: E402


def main() -> int:
    unc = run_settings().uncertainty
    data_dir = default_data_dir()
    long = load_inputs(data_dir)
    print(f"draws: {unc.n_draws}")
    for year in ("201819", "202425"):
        ed = build_edition(year, long=long, data_dir=data_dir, steps=CORE_STEPS)
        c0 = time.process_time()
        without = monte_carlo(ed, unc, enabled=[c for c in CHOICES if c != "aggregation" and c in unc.perturb])
        c1 = time.process_time()
        mc = monte_carlo(ed, unc)
        c2 = time.process_time()
        w = mc.aggregation_widening
        # the result's ranges "without" come from re-scoring only the draws that chose areas:
        # they must be the run without (g)
        assert w is not None and (mc.fixed_aggregation_ranks == without.ranks)[np.isfinite(without.ranks)].all()
        sens = sensitivity_table(ed, unc, mc=mc)
        by = sens.attrs["by_option"].set_index(["choice", "option"]).loc[("aggregation", "areas")]
        print(f"\n## {year} (engine {mc.engine})\n")
        print("| measure | without (g) | with (g) |\n|---|---|---|")
        for name in ("median", "mean", "p90"):
            print(f"| 90% overall rank range, {name} width | {getattr(w, name + '_without'):.2f} | "
                  f"{getattr(w, name + '_with'):.2f} |")
        print(f"| LAs whose published rank is outside their range | {w.outside_without} | {w.outside_with} |")
        print(f"| Monte Carlo CPU seconds | {c1 - c0:.2f} | {c2 - c1:.2f} |")
        print(f"\nLAs with a range: {w.n_las}; wider {w.n_wider}, narrower {w.n_narrower}; draws that chose "
              f"areas: {w.draws_rescored}; re-scoring them: {w.seconds:.2f} s wall")
        print(f"Area weighting vs headline: mean move {by['mean_abs_shift']:.2f}, median {by['median_abs_shift']:.1f}, "
              f"max {by['max_abs_shift']:.0f} places; Spearman {by['rank_correlation']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
