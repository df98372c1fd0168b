"""Number formatting, labels and Markdown/HTML helpers for the series' sentences and tables."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from inclusion_index.index.indicator_facts import dp_for as dp_for  # re-exported: the parts' decimals
from inclusion_index.sources.geography import year_label

NA = "n/a"


def fmt(x: object, dp: int = 1, *, pct: bool = False, sign: bool = False, na: str = NA) -> str:
    """A number for text and tables: '12,345.7', '0.5%' (``pct``), '+2' (``sign``), 'n/a' for NaN."""
    if x is None or isinstance(x, str):
        return na if x is None else x
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return na
    if not math.isfinite(v):
        return na
    v = 0.0 if round(v, dp) == 0 else v  # no "-0.0"
    return f"{v:{'+' if sign else ''},.{dp}f}" + ("%" if pct else "")


def fmt_value(x: object, dp: int = 1) -> str:
    """A figure as text, tables and chart labels all print it: ``dp`` decimals, at least two below 1
    in size (0.08 never reads 0.1 in a sentence beside a table printing 0.08; 7.71 reads 7.7 in both)."""
    v = float(x) if isinstance(x, int | float | np.floating | np.integer) else math.nan
    return fmt(x, max(dp, 2) if math.isfinite(v) and 0 < abs(v) < 1 else dp)


def plain_label(label: str) -> str:
    """A label for reader text, its parentheses dropped; the IDACI score is 'child deprivation'."""
    return "child deprivation" if "IDACI" in label else re.sub(r"\s*\((?:[^()]|\([^()]*\))*\)", "", label)


def fmt_int(x: object, na: str = NA) -> str:
    return fmt(x, 0, na=na)


def _unit(unit: str, pct: str, points: str) -> str:
    u = (unit or "").strip()
    if u == "%" or u.startswith("% of"):
        return pct
    if u in ("score", "points"):
        return points
    return "" if u in ("", "score 0-1", "index", "rank") else f" {u}"


def unit_level(unit: str) -> str:
    """Suffix for a level: '%' sticks to the number, scores take none, rates read in words."""
    return _unit(unit, "%", "")


def unit_diff(unit: str) -> str:
    """Suffix for a difference: percentages become percentage points."""
    return _unit(unit, " percentage points", " points")


def ordinal(n: int) -> str:
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def years_label(years: Sequence[str]) -> str:
    ys = sorted({str(y) for y in years if y})
    return NA if not ys else year_label(ys[0]) if len(ys) == 1 else f"{year_label(ys[0])} to {year_label(ys[-1])}"


def iod_label(year: str) -> str:
    """Deprivation year key -> the release name ('201516' -> 'IoD2015')."""
    return f"IoD{str(year)[:4]}"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]])")


def esc_md(text: object) -> str:
    """Escape text for Markdown: HTML-escaped, and Markdown's emphasis/link characters backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def md(sentences: str | Iterable[str], *, bullets: bool = False, heading: str | None = None) -> str:
    """Markdown from plain sentences, every sentence escaped (LA names are data, not markup)."""
    items = [sentences] if isinstance(sentences, str) else [s for s in sentences if s]
    body = "\n".join(f"- {esc_md(s)}" for s in items) if bullets else "\n\n".join(esc_md(s) for s in items)
    return (f"**{esc_md(heading)}**\n\n" if heading else "") + body


# Decimals by column name where the default would mislead (p-values, R², effects).
_COLUMN_DP = {"p-value": 3, "p_value": 3, "R²": 2, "r2": 2, "F": 1, "Breusch–Pagan p": 3}


LA_COLUMN = "Local authority"


def style_table(df: pd.DataFrame, dp: int | dict[str, int] = 1, caption: str | None = None,
                hide_index: bool = True, anchor: str | None = None):
    """A rounded, HTML-escaped Styler: whole numbers without decimals, _COLUMN_DP's columns, a ``dp``
    dict's exactly, others ``dp`` (two below 1 in size: fmt_value); ``anchor``: the id ``T_<anchor>``."""
    fmts, exact = {}, _COLUMN_DP | (dp if isinstance(dp, dict) else {})
    for c in df.columns:
        col = df[c]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        vals = pd.to_numeric(col, errors="coerce").astype("float64")
        finite = vals[np.isfinite(vals)]
        if c in exact:
            fmts[c] = lambda v, d=exact[c]: fmt(v, d)
        elif c in AUTO_DP_COLUMNS:
            fmts[c] = lambda v: fmt(v, dp_for_step(abs(v)) if np.isfinite(v) and v != 0 else 1)
        elif pd.api.types.is_integer_dtype(col) or (len(finite) and np.allclose(finite, finite.round(0))):
            fmts[c] = lambda v: fmt(v, 0)
        else:
            base = dp if isinstance(dp, int) else 1
            fmts[c] = lambda v, d=base: fmt_value(v, d)
    st = df.style.format(fmts, na_rep=NA, escape="html")
    pages = df.attrs.get("profiles") or {}
    if pages and LA_COLUMN in df.columns:  # each LA's name links to its profile (the name arrives escaped)
        st = st.format(lambda n: f'<a href="la/{pages[html.unescape(n)]}.html">{n}</a>'
                       if html.unescape(n) in pages else n, subset=[LA_COLUMN], escape="html")
    st = st.format_index(escape="html", axis=1)
    if hide_index:
        st = st.hide(axis="index")
    if caption:
        st = st.set_caption(html.escape(str(caption), quote=True))
    if anchor:  # the table's id becomes "T_<anchor>", a link target (findings.csv links to it)
        st = st.set_uuid(anchor)
    return st


def nice_step(sd: float) -> float:
    """A round step (1, 2 or 5 x 10^k) near one standard deviation, for readable slopes."""
    if not np.isfinite(sd) or sd <= 0:
        return 1.0
    k = math.floor(math.log10(sd))  # 10 x 10^k always exceeds sd, so next() always finds one
    return float(next(m * 10**k for m in (1, 2, 5, 10) if m * 10**k >= sd * 0.7))


def dp_for_step(step: float) -> int:
    return max(0, -math.floor(math.log10(step))) if step > 0 else 1


AUTO_DP_COLUMNS = {"Step"}


def sentence_case(phrase: str) -> str:
    """First letter upper-cased; the rest (acronyms such as IDACI, EHC, IoD2019) untouched."""
    return phrase[:1].upper() + phrase[1:]


def lower_first(label: str) -> str:
    """A label inside a sentence: its first word lower-cased unless an acronym ('IDACI ...' stays)."""
    first, _, rest = str(label).partition(" ")
    letters = [c for c in first if c.isalpha()]  # an acronym: two capitals, or one with a digit (Q4)
    if sum(c.isupper() for c in letters) > 1 or (len(letters) == 1 and letters[0].isupper()
                                                 and any(c.isdigit() for c in first)):
        return str(label)
    return first[:1].lower() + first[1:] + (" " + rest if rest else "")


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """'1 LA', '5 LAs', '0 LAs' (``nouns`` for irregular plurals)."""
    n = int(n)
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"


def agree(n: int, singular: str, plural_form: str) -> str:
    """The verb form that agrees with a count: agree(1, 'stands', 'stand') -> 'stands'."""
    return singular if int(n) == 1 else plural_form


def level_label(level: float) -> str:
    """A confidence or control level as readers write it: 0.95 -> '95%', 0.998 -> '99.8%'."""
    return f"{round(level * 100, 6):g}%"


def common_tail(items: Sequence[str]) -> str:
    """Phrases joined with 'or', a tail they share from a preposition on said once:
    'the KS2 reading score or the KS2 maths score of pupils with an EHC plan'."""
    split, n = [str(x).split() for x in items], 0
    while len(items) > 1 and all(len(w) > n + 1 for w in split) and len({tuple(w[-n - 1:]) for w in split}) == 1:
        n += 1
    tail = split[0][len(split[0]) - n:]
    while tail and tail[0] not in ("of", "with", "in", "for"):
        tail = tail[1:]
    heads = [" ".join(w[:len(w) - len(tail)]) for w in split]
    return " ".join([" or ".join([", ".join(heads[:-1]), heads[-1]] if len(heads) > 1 else heads), *tail])


def and_join(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'; a comma before the last 'and' when an item has its own
    ('Cumberland, and Westmorland and Furness')."""
    items = [str(x) for x in items]
    if len(items) <= 1:
        return "".join(items)
    last = ", and " if any(" and " in x for x in items) else " and "
    return ", ".join(items[:-1]) + last + items[-1]


def chance_count(share: float, n: int) -> int:
    """How many of ``n`` LAs a ``share`` gives by chance, the share rounded first (0.04999... is 0.05)."""
    return round(round(share, 9) * n)


def weights_words(shares: Mapping[str, float], headline: Sequence[float] = ()) -> str:
    """Area weights (shares of 1) in words: 'when the weights are exclusions 50% and placement
    50%', 'when attainment alone counts'; NaN shares (the headline method) or the ``headline``'s
    own: 'under the headline weighting'."""
    if any(pd.isna(s) for s in shares.values()) or list(np.round(list(shares.values()), 9)) == list(np.round(headline, 9)):
        return "under the headline weighting"
    on = {a: float(s) for a, s in shares.items() if s > 0}
    if len(on) == 1:
        return f"when {next(iter(on))} alone counts"
    return "when the weights are " + and_join([f"{a} {s:.0%}" for a, s in on.items()])
