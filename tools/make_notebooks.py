"""Write the six series notebooks (notebooks/0*_*.ipynb) from the cell lists below.

This script is the notebooks' source of truth: the cells are plain Python strings here, so
reviews read ordinary code, and the written notebooks are always stripped (no outputs, no
execution counts, fixed cell ids, kernel ``python3``) with the papermill ``parameters`` cell
in place. Edit the cells here, then run:

    .venv/bin/python tools/make_notebooks.py          # write notebooks/
    .venv/bin/python tools/make_notebooks.py --check  # exit 1 if notebooks/ differs

The notebooks stay thin: every number, sentence and table comes from
``inclusion_index.report.series`` and every chart from ``inclusion_index.report.plotting``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from inclusion_index.report.series.caveats import GLOSSARY, METHOD_PAGE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

PARAMETERS = '''final_year = "201819"
n_years = 3
data_dir = ""
edition_file = ""  # the render passes the edition it built; empty: look it up or build it
output_dir = "."
highlight_la = ""'''


def setup(part_fn: str, modules: str = "hexmap, plotting, series") -> str:
    return f'''from pathlib import Path

from IPython.display import Markdown, display

from inclusion_index.index.build import load_edition, read_edition
from inclusion_index.report import {modules}

ed = read_edition(edition_file, keep=True) if edition_file else load_edition(str(final_year), years=int(n_years),
                                                                   data_dir=data_dir or None)
figures = Path(output_dir) / "figures"
part = series.link_profiles(series.{part_fn}(ed, highlight=highlight_la), ed)
hl = series.check_highlight(ed, highlight_la)[0]
display(Markdown(series.edition_header(ed)))
display(Markdown(part.markdown("highlight")))'''


CAVEATS = [
    ("md", "## Data and caveats"),
    ("code", '''cav = series.data_caveats(ed, part.measures, part=part.key)  # only this part's caveats
display(Markdown(part.markdown(sentences=cav["text"] + part.notes, bullets=True)))
for key, caption in series.CAVEAT_TABLES.items():
    if len(cav[key]):
        display(series.style_table(cav[key], caption=caption))'''),
]

def hex_map(prefix: str, target: str) -> list[tuple]:
    """The target's score on a hex map of England (inclusion_index.report.hexmap; scores from the score table)."""
    name = "Overall" if target == "overall" else f"{{series.AREA_NAMES['{target}']}}"
    label = f"{'' if target == 'overall' else 'f'}\"{name} score (0-100, higher = more inclusive)\""
    return [
        ("md", "## Where in England" if target == "overall" else f"## The {target} score across England"),
        ("code", f'''col = "{target}_score"
fig = hexmap.plot_hexmap(part.data.set_index("la_code")[col], ed, f"{name} score, {{series.year_label(ed.final_year)}}",
                         {label}, highlight_la=hl, data_dir=data_dir or None,
                         vmin=0, vmax=100)
plotting.save_figure(fig, part.data[["la_code", "la_name", "region", col]], figures, "{prefix}_{target}_score_hexmap")'''),
    ]


def funnels(prefix: str) -> list[tuple]:
    """Funnel plots for a part's indicators that have counts (inclusion_index.index.uncertainty.funnel_data)."""
    return [
        ("md", "## Which LAs stand out beyond chance?"),
        ("code", f'''display(Markdown(part.markdown("funnels")))
for i, f in series.funnel_frames(part).items():
    display(Markdown(series.md(part.labels[f"funnel_{{i}}_note"])))
    fig = plotting.funnel_plot(f, title=f"{{series.chart_title(ed, i)}}: funnel plot",
                               value_label=part.labels[f"funnel_{{i}}"], highlight=hl)
    display(plotting.save_figure(fig, f, figures, f"{prefix}_funnel_{{i}}"))'''),
    ]


def adjusted() -> list[tuple]:
    """The part's context-adjusted score, beside the raw one (inclusion_index.index.adjustment)."""
    return [
        ("md", "## Adjusted for context, beside the raw score"),
        ("code", '''display(Markdown(part.markdown("adjusted")))
if "adjusted_top" in part.tables:
    display(series.style_table(part.tables["adjusted_top"], caption="Furthest above expectation given context"))
    display(series.style_table(part.tables["adjusted_bottom"], caption="Furthest below expectation given context"))'''),
    ]


def technical(*tables: str) -> list[tuple]:
    """The part's statistics, one click from the plain words: model sentences and tables, funnel
    overdispersion and the context model's tests (the reader text above quotes none of them)."""
    return [
        ("md", "## Technical notes"),
        ("code", f'''display(Markdown(part.markdown("technical")))
for key, caption in {dict(tables)!r}.items():
    if len(part.tables.get(key, [])):
        display(series.style_table(part.tables[key], caption=part.labels.get(f"{{key}}_caption", caption),
                                   anchor=key if key == "adjusted_model" else None))'''),
    ]


MODELS = ("models", "Ordinary least squares across LAs: each outcome against each predictor")
ADJUSTED_MODEL = ("adjusted_model", "Context model: OLS across LAs of the area score on its context measures")


INTRO = [
    ("md", """# Part 1 of 6: the SEND inclusion index

How inclusive is education for pupils with special educational needs and disabilities (SEND) in each
of England's local authorities? This series rebuilds the index published in November 2019 from
public Department for Education statistics and follows it in six parts: this introduction,
exclusions, assessment, placement, attainment and conclusions. Every figure below is computed from
the published data each time the report is produced; none is typed in."""),
    ("params",),
    ("code", setup("introduction")),
    ("md", "## What the index is"),
    ("code", '''display(Markdown(part.markdown("what")))
series.style_table(part.tables["indicators"], caption="The indicators, their data years and sources")'''),
    ("md", "## The headline ranking"),
    ("code", '''display(Markdown(part.markdown("headline")))
display(series.style_table(part.tables["top10"], caption="The 10 highest-scoring LAs"))
series.style_table(part.tables["bottom10"], caption="The 10 lowest-scoring LAs")'''),
    ("code", '''fig = plotting.dot_chart(part.data, "overall_score", title=f"Overall inclusion score, {series.year_label(ed.final_year)}",
                         value_label=part.labels["overall_score"], highlight=hl, higher_is_better=True,
                         interval=("overall_rank_lo", "overall_rank_hi"), range_label=series.range_label())
plotting.save_figure(fig, part.frames["rank_intervals"], figures, "01_overall_score_by_la")'''),
    *hex_map("01", "overall"),
    ("md", "## How certain are these ranks?"),
    ("code", '''display(Markdown(part.markdown("certainty")))
ri = part.frames["rank_intervals"]
fig = plotting.rank_interval_chart(ri, rank="overall_rank", lo="overall_rank_lo", hi="overall_rank_hi",
                                   median="overall_rank_median", highlight=hl, range_label=series.range_label(),
                                   title=f"Overall rank and its {series.range_label()}, {series.year_label(ed.final_year)}")
display(plotting.save_figure(fig, ri, figures, "01_rank_intervals"))
display(Markdown(part.markdown("sensitivity")))
if "sensitivity" in part.tables:
    display(series.style_table(part.tables["sensitivity"],
                               caption="How far ranks move when one choice is varied at a time (places)"))'''),
    ("md", "## How scores are spread"),
    ("code", '''cols = ["overall_score"] + [f"{a}_score" for a in series.AREAS]
panels = [dict(y=c, title=part.labels[c], ylabel="Score (0-100)") for c in cols]
fig = plotting.small_multiples(part.data, panels, kind="hist", highlight=hl,
                               title=f"Overall and area scores across LAs, {series.year_label(ed.final_year)}")
plotting.save_figure(fig, part.data[["la_code", "la_name", "region", *cols]], figures, "01_score_distributions")'''),
    *CAVEATS,
]

EXCLUSIONS = [
    ("md", """# Part 2 of 6: Exclusions

How often are pupils with an education, health and care (EHC) plan excluded, and how much does this
vary between local authorities and regions? The part then asks whether exclusion rates follow the
share of pupils with social, emotional and mental health (SEMH) needs, and child deprivation (IDACI).
Lower exclusion rates score as more inclusive."""),
    ("params",),
    ("code", setup("exclusions")),
    ("md", "## How exclusion rates vary across LAs"),
    ("code", '''display(Markdown(part.markdown("summary")))
series.style_table(part.tables["summary"], caption="Exclusion rates per 100 pupils with an EHC plan")'''),
    ("code", '''main = part.numbers.get("main_indicator")
if main:
    col = f"{main}_value"
    fig = plotting.dot_chart(part.data, col, title=series.chart_title(ed, main), value_label=part.labels[col],
                             **series.england_line(ed, main), highlight=hl, higher_is_better=False)
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", col]], figures,
                                 "02_exclusion_rate_by_la"))
    display(series.style_table(part.tables["highest"], caption="Highest rates"))
    display(series.style_table(part.tables["lowest"], caption="Lowest rates"))'''),
    ("md", "## Within and across regions"),
    ("code", '''display(Markdown(part.markdown("regions")))
if main:
    fig = plotting.region_chart(part.data, col, title=f"{series.chart_title(ed, main)}, by region",
                                value_label=part.labels[col], **series.england_line(ed, main), highlight=hl)
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", col]], figures,
                                 "02_exclusion_rate_by_region"))
    display(series.style_table(part.tables["regions"], caption="Exclusion rate by region (LAs unweighted)"))'''),
    ("md", "## Exclusions, SEMH needs and deprivation"),
    ("code", '''display(Markdown(part.markdown("context")))
for key, x, name in [("idaci", "idaci", "02_exclusions_vs_deprivation"), ("semh", "semh_pct", "02_exclusions_vs_semh")]:
    if key in part.models:
        fig = plotting.scatter_fit(part.data, x, col, title=f"{part.labels[col]} and {part.labels[x]}",
                                   xlabel=part.labels[x], ylabel=part.labels[col], highlight=hl,
                                   slope_per=part.models[key].step_of(x))
        display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", x, col]], figures, name))'''),
    *hex_map("02", "exclusions"),
    *funnels("02"),
    *adjusted(),
    *technical(MODELS, ADJUSTED_MODEL),
    *CAVEATS,
]

ASSESSMENT = [
    ("md", """# Part 3 of 6: Assessment

What share of pupils with special educational needs have an EHC plan, and how much does it vary? The
original series scored a high share as less inclusive, as a counterweight: LAs that issue more plans
tend to show better outcomes for a wider, abler EHC plan cohort. This part looks at that relation,
and at deprivation."""),
    ("params",),
    ("code", setup("assessment")),
    ("md", "## How the EHC plan share varies"),
    ("code", '''display(Markdown(part.markdown("summary")))
a = "assess_ehcp_share"
col = f"{a}_value"
if col in part.labels:
    fig = plotting.dot_chart(part.data, col, title=series.chart_title(ed, a), value_label=part.labels[col],
                             **series.england_line(ed, a), highlight=hl, higher_is_better=False)
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", col, "ehcp_pct_pupils"]], figures,
                                 "03_ehcp_share_by_la"))
    display(series.style_table(part.tables["highest"], caption="Highest shares"))
    display(series.style_table(part.tables["lowest"], caption="Lowest shares"))'''),
    ("md", "## Regions"),
    ("code", '''display(Markdown(part.markdown("regions")))
if col in part.labels:
    fig = plotting.region_chart(part.data, col, title=f"{series.chart_title(ed, a)}, by region",
                                value_label=part.labels[col], **series.england_line(ed, a), highlight=hl)
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", col]], figures,
                                 "03_ehcp_share_by_region"))'''),
    ("md", "## The EHC plan share and deprivation"),
    ("code", '''display(Markdown(part.markdown("deprivation")))
if "deprivation" in part.models:
    fig = plotting.scatter_fit(part.data, "idaci", col, title=f"{part.labels[col]} and deprivation",
                               xlabel=part.labels["idaci"], ylabel=part.labels[col], highlight=hl,
                               slope_per=part.models["deprivation"].step_of("idaci"))
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", "idaci", col]], figures,
                                 "03_ehcp_share_vs_deprivation"))'''),
    ("md", "## The EHC plan share and outcomes for pupils with plans"),
    ("code", '''display(Markdown(part.markdown("outcomes")))
outcomes = [k.removeprefix("outcome_") for k in part.models if k.startswith("outcome_") and not k.endswith("_idaci")]
panels = [dict(x=col, y=f"{o}_value", title=part.labels[f"{o}_value"], xlabel=part.labels[col],
               ylabel=part.labels[f"{o}_value"]) for o in outcomes]
if panels:
    fig = plotting.small_multiples(part.data, panels, highlight=hl,
                                   title=f"Outcomes of pupils with an EHC plan against the EHC plan share, "
                                         f"{series.year_label(ed.final_year)}")
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", col, *[p["y"] for p in panels]]],
                                 figures, "03_outcomes_vs_ehcp_share"))'''),
    *hex_map("03", "assessment"),
    *funnels("03"),
    *adjusted(),
    *technical(("outcomes", "Ordinary least squares across LAs: each outcome against the EHC plan share, with and without deprivation"), ADJUSTED_MODEL),
    *CAVEATS,
]

PLACEMENT = [
    ("md", """# Part 4 of 6: Placement

Where are pupils with EHC plans educated? The index counts placements in state-funded special schools,
and in independent or non-maintained schools, as less inclusive than mainstream schooling. This part
asks how placement relates to the number of special schools in an LA and to deprivation, and whether
decisions are consistent across regions."""),
    ("params",),
    ("code", setup("placement")),
    ("md", "## Where pupils with EHC plans are placed"),
    ("code", '''display(Markdown(part.markdown("summary")))
display(series.style_table(part.tables["summary"], caption="Placement of EHC plans (% of the LA's plans)"))
display(Markdown(part.markdown("recording")))
if "recording" in part.tables:
    display(series.style_table(part.tables["recording"], caption="England's placement figures, each named for what it is"))
placed = [i for i in series.area_indicators(ed, "placement") if f"highest_{i}" in part.tables]
for i in placed:
    c = f"{i}_value"
    fig = plotting.dot_chart(part.data, c, title=series.chart_title(ed, i), value_label=part.labels[c],
                             **series.england_line(ed, i), highlight=hl, higher_is_better=False)
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", c]], figures, f"04_{i}_by_la"))'''),
    ("md", "## Beyond the index: alternative provision and no school place"),
    ("code", '''display(Markdown(part.markdown("beyond")))
b = part.frames.get("beyond")
if b is not None:
    display(series.style_table(part.tables["beyond_summary"],
                               caption="Placements beside the index (% of the LA's EHC plans): context, not scored"))
    if "no_school_place_pct" in b:
        fig = plotting.dot_chart(b, "no_school_place_pct", value_label=part.labels["no_school_place_pct"],
                                 title=f"EHC plans with no school place, {series.year_label(ed.final_year)} "
                                       "(context, not an index indicator)",
                                 england=part.numbers["no_school_place_england"], highlight=hl,
                                 note=part.labels["no_school_place_note"] or None)
        display(plotting.save_figure(fig, b, figures, "04_no_school_place_by_la"))
    display(Markdown(part.markdown("beyond_regions")))
    display(series.style_table(part.tables["beyond_regions"],
                               caption="By region (each region's LAs' plans pooled) and England (DfE's published figure)"))
    display(Markdown(part.markdown("beyond_england")))
    display(series.style_table(part.tables["beyond_england"], caption="England over this edition's years",
                               anchor="beyond_england"))'''),
    ("md", "## Special-school supply"),
    ("code", '''display(Markdown(part.markdown("supply")))
for i in placed:
    if f"{i}_supply" in part.models:
        c = f"{i}_value"
        fig = plotting.scatter_fit(part.data, "schools_per_1000_plans", c, highlight=hl,
                                   title=f"{part.labels[c]} and special-school supply",
                                   xlabel=part.labels["schools_per_1000_plans"], ylabel=part.labels[c],
                                   slope_per=part.models[f"{i}_supply"].step_of("schools_per_1000_plans"))
        display(plotting.save_figure(
            fig, part.data[["la_code", "la_name", "region", "special_schools", "ehc_plans", "schools_per_1000_plans", c]],
            figures, f"04_{i}_vs_supply"))'''),
    ("md", "## Placement and deprivation"),
    ("code", '''display(Markdown(part.markdown("deprivation")))
panels = [dict(x="idaci", y=f"{i}_value", title=part.labels[f"{i}_value"], xlabel=part.labels["idaci"],
               ylabel="% of EHC plans") for i in placed if f"{i}_idaci" in part.models]
if panels:
    fig = plotting.small_multiples(part.data, panels, ncols=2, highlight=hl,
                                   title=f"Placement and deprivation, {series.year_label(ed.final_year)}")
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", "idaci", *[p["y"] for p in panels]]],
                                 figures, "04_placement_vs_deprivation"))'''),
    ("md", "## Consistency across regions"),
    ("code", '''display(Markdown(part.markdown("regions")))
for i in placed:
    c = f"{i}_value"
    fig = plotting.region_chart(part.data, c, title=f"{series.chart_title(ed, i)}, by region",
                                value_label=part.labels[c], **series.england_line(ed, i), highlight=hl)
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", c]], figures, f"04_{i}_by_region"))
series.style_table(part.tables["consistency"], caption="Variation between and within regions (one-way ANOVA)")'''),
    *hex_map("04", "placement"),
    *funnels("04"),
    *adjusted(),
    *technical(MODELS, ADJUSTED_MODEL),
    *CAVEATS,
]

ATTAINMENT = [
    ("md", """# Part 5 of 6: Attainment and NEET

How well do pupils with EHC plans do at the end of primary school (KS2) and secondary school (KS4),
and how many young people are not in education, employment or training (NEET)? This part asks how
results and progress relate to the size of the EHC plan cohort and to deprivation."""),
    ("params",),
    ("code", setup("attainment")),
    ("md", "## Results of pupils with EHC plans"),
    ("code", '''display(Markdown(part.markdown("summary")))
display(series.style_table(part.tables["summary"], caption="Attainment indicators across LAs"))
ks = [i for i in series.area_indicators(ed, "attainment") if i.startswith(("att_ks2", "att_ks4")) and i in part.models]
if ks:
    panels = [dict(y=f"{i}_value", title=part.labels[f"{i}_value"], ylabel=part.labels[f"{i}_value"],
                   reference=series.england(ed, i)) for i in ks]
    fig = plotting.small_multiples(part.data, panels, kind="hist", highlight=hl,
                                   title="KS2 and KS4 results of pupils with an EHC plan across LAs (dashed: England)")
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", *[p["y"] for p in panels]]],
                                 figures, "05_attainment_distributions"))'''),
    ("md", "## Cohort size and deprivation"),
    ("code", '''display(Markdown(part.markdown("cohort")))
display(Markdown(part.markdown("models")))
for x, name in [("ehcp_pct_pupils", "05_attainment_vs_cohort"), ("idaci", "05_attainment_vs_deprivation")]:
    panels = [dict(x=x, y=f"{i}_value", title=part.labels[f"{i}_value"], xlabel=part.labels[x],
                   ylabel=part.labels[f"{i}_value"]) for i in ks]
    if panels and part.data[x].notna().any():
        fig = plotting.small_multiples(part.data, panels, highlight=hl,
                                       title=f"KS2 and KS4 results against {series.lower_first(part.labels[x])}")
        display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", x, *[p["y"] for p in panels]]],
                                     figures, name))'''),
    ("md", "## Young people not in education, employment or training"),
    ("code", '''display(Markdown(part.markdown("neet")))
for i in [i for i in series.area_indicators(ed, "attainment") if "neet" in i and i in part.models]:
    c = f"{i}_value"
    fig = plotting.scatter_fit(part.data, "idaci", c, title=f"{part.labels[c]} and deprivation",
                               xlabel=part.labels["idaci"], ylabel=part.labels[c], highlight=hl,
                               slope_per=part.models[i].step_of("idaci"))
    display(plotting.save_figure(fig, part.data[["la_code", "la_name", "region", "idaci", c]], figures,
                                 "05_neet_vs_deprivation"))'''),
    *hex_map("05", "attainment"),
    *funnels("05"),
    *adjusted(),
    *technical(MODELS, ADJUSTED_MODEL),
    *CAVEATS,
]

CONCLUSIONS = [
    ("md", """# Part 6 of 6: Conclusions

The overall ranking, the regional pattern, the most improved local authorities, and what the index
cannot see."""),
    ("params",),
    ("code", setup("conclusions", "plotting, series")),
    ("md", "## The overall ranking"),
    ("code", '''display(Markdown(part.markdown("ranking")))
fig = plotting.dot_chart(part.data, "overall_score", title=f"Overall inclusion score, {series.year_label(ed.final_year)}",
                         value_label=part.labels["overall_score"], highlight=hl, higher_is_better=True,
                         interval=("overall_rank_lo", "overall_rank_hi"), range_label=series.range_label())
display(plotting.save_figure(fig, part.frames["ranking"], figures, "06_overall_ranking"))
series.style_table(part.tables["ranking"], caption=f"Every scored LA: rank with its {series.range_label()}, scores, "
                   "and the context-adjusted score and rank beside them")'''),
    *adjusted(),
    ("md", "## Under any weighting of the four areas"),
    ("code", '''display(Markdown(part.markdown("weightings")))
if "weightings" in part.frames:
    wf = part.frames["weightings"]
    fig = plotting.rank_interval_chart(wf, rank="overall_rank", lo="overall_rank_best_weights",
                                       hi="overall_rank_worst_weights", highlight=hl, note=part.labels["weightings_chart"],
                                       title=f"Overall rank, best and worst under any weighting of the four areas, "
                                             f"{series.year_label(ed.final_year)}")
    display(plotting.save_figure(fig, wf, figures, "06_rank_under_any_weighting"))'''),
    ("md", "## Regions"),
    ("code", '''display(Markdown(part.markdown("regions")))
fig = plotting.region_chart(part.data, "overall_score", title=f"Overall score by region, {series.year_label(ed.final_year)}",
                            value_label=part.labels["overall_score"], highlight=hl)
display(plotting.save_figure(fig, part.tables["regions"], figures, "06_overall_by_region"))
series.style_table(part.tables["regions"], caption="Regional averages (unweighted mean of LA scores)")'''),
    ("md", "## Most improved"),
    ("code", '''display(Markdown(part.markdown("improved")))
if "improvement" in part.frames:
    fig = plotting.slope_chart(part.frames["improvement"], early_label=series.year_label(ed.first_year),
                               late_label=series.year_label(ed.final_year), highlight=hl, significant="significant",
                               title=f"The 10 largest rises and 10 largest falls in the like-for-like overall score, "
                                     f"{series.year_label(ed.first_year)} to {series.year_label(ed.final_year)}")
    display(plotting.save_figure(fig, part.frames["improvement"], figures, "06_most_improved"))
    display(series.style_table(part.tables["improved"], caption="The 10 largest rises, with the change's range"))
    display(series.style_table(part.tables["declined"], caption="The 10 largest falls, with the change's range"))
    if len(part.tables["significant"]):
        display(series.style_table(part.tables["significant"], caption="Every LA that improved beyond uncertainty"))'''),
    ("md", "## Headline findings"),
    ("code", '''series.style_table(series.findings_table(ed), caption="Quotable findings: data period, strength and sources as numbered on findings.html")'''),
    ("md", "## What the index cannot see"),
    ("code", '''display(Markdown(part.markdown("limits", bullets=True)))'''),
    *technical(ADJUSTED_MODEL),
    *CAVEATS,
]

NOTEBOOK_CELLS = {
    "01_introduction": INTRO,
    "02_exclusions": EXCLUSIONS,
    "03_assessment": ASSESSMENT,
    "04_placement": PLACEMENT,
    "05_attainment": ATTAINMENT,
    "06_conclusions": CONCLUSIONS,
}


def glossary_links(cells: list[tuple]) -> list[tuple]:
    """The first use of each glossary term in a part's fixed markdown (headings aside) linked to the
    method page's glossary; the setup cell then marks those terms linked, so the part's sentences
    (Part.markdown) link only the terms the markdown did not use."""
    linked, out = [], []
    for spec in cells:
        if spec[0] == "md":
            lines = spec[1].split("\n")
            for k, line in enumerate(lines):
                for slug, pat in GLOSSARY.items():
                    m = None if line.startswith("#") or pat in linked else re.search(rf"\b(?:{pat})\b", line)
                    if m and line.count("[", 0, m.start()) == line.count("]", 0, m.start()):
                        line = f"{line[:m.start()]}[{m.group(0)}]({METHOD_PAGE}#glossary-{slug}){line[m.end():]}"
                        linked.append(pat)
                lines[k] = line
            spec = ("md", "\n".join(lines))
        elif spec[0] == "code" and "series.link_profiles(" in spec[1] and linked:
            code = re.sub(r"(\npart = series\.link_profiles\(.*)", rf"\1\npart.linked.update({linked!r})  # linked above",
                          spec[1])
            spec = ("code", code)
        out.append(spec)
    return out


def build(stem: str, cells: list[tuple]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    for k, spec in enumerate(glossary_links(cells)):
        kind = spec[0]
        cid = f"{stem.split('_')[0]}-{k:02d}"  # fixed ids: rewriting never changes an unchanged notebook
        if kind == "md":
            cell = new_markdown_cell(spec[1], id=cid)
        elif kind == "params":
            cell = new_code_cell(PARAMETERS, id=cid, metadata={"tags": ["parameters"]})
        else:
            cell = new_code_cell(spec[1], id=cid)
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(stem: str) -> str:
    return nbformat.writes(build(stem, NOTEBOOK_CELLS[stem])) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a notebook differs from this script")
    ap.add_argument("--out", type=Path, default=NOTEBOOKS, help="folder to write (default notebooks/)")
    args = ap.parse_args(argv)
    stale = []
    for stem in NOTEBOOK_CELLS:
        text = render(stem)
        path = args.out / f"{stem}.ipynb"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if stale:
        print("notebooks out of date with tools/make_notebooks.py: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
