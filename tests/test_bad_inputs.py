"""The pipeline on deliberately broken copies of the REAL files: what each damage does.

Every case builds a data folder of links to the real files with one (or a few) replaced by
broken bytes (conftest.mirror_with), runs the real code on it and checks the exact outcome:
the error class and a message naming the file, column and year; a CLI exit code of 2; the
harmonised cache and the last good report left as they were. Where a damage should not stop
the pipeline (a BOM, suppression markers everywhere, a missing year, an LA name holding HTML)
it checks that nothing is invented, zeroed or rendered raw.

Each case uses a different real source, so one loader's quirks cannot hide another's.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inclusion_index.cli import main
from inclusion_index.errors import ChecksumError, SchemaError, UnknownLACodeError
from inclusion_index.index import build
from inclusion_index.index.build import build_edition, load_edition
from inclusion_index.index.edition import write_score_table
from inclusion_index.report import render
from inclusion_index.report.notes import edition_note, score_table_text
from inclusion_index.report.profiles import profile_index, render_profiles, search_box_html
from inclusion_index.report.render import RenderError, render_edition, write_index
from inclusion_index.sources import harmonise
from inclusion_index.sources.geography import load_la_reference
from inclusion_index.sources.harmonise import LoadReport, load_inputs
from inclusion_index.sources.loaders import ks4, loader_names, neet, sen2
from inclusion_index.sources.loaders.base import LoadContext, parse_values
from inclusion_index.sources.parsing import SUPPRESSION_MARKERS, parse_numeric_column
from inclusion_index.sources.registry import Registry, fetch, load_registry

from .conftest import mirror_with

REG = load_registry()
MARKERS = ["x", "c", "z", ":", "low"]
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def P(sid: str) -> str:
    return REG[sid].path


def real_bytes(data_dir: Path, sid: str) -> bytes:
    return (data_dir / P(sid)).read_bytes()


def real_text(data_dir: Path, sid: str) -> bytes:
    """The file's bytes, decompressed if it is gzipped."""
    b = real_bytes(data_dir, sid)
    return gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b


def xlsx_renamed(data_dir: Path, sid: str, old: str, new: str) -> bytes:
    """The workbook with every cell reading ``old`` set to ``new`` (a workbook is zipped: no byte swap)."""
    wb = openpyxl.load_workbook(io.BytesIO(real_bytes(data_dir, sid)))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value == old:
                    c.value = new
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def gz(b: bytes) -> bytes:
    return gzip.compress(b, mtime=0)


def rows_of(b: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b.decode("utf-8-sig"))))


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def broken(data_dir: Path, tmp_path: Path, replace: dict[str, bytes | None]) -> Path:
    """A data folder like the real one, with the files of registry ids in `replace` swapped."""
    return mirror_with(data_dir, tmp_path / "raw", {P(sid): b for sid, b in replace.items()})


def ctx_for(d: Path) -> LoadContext:
    return LoadContext(data_dir=d, registry=REG)


def snapshot(cache: Path) -> dict[str, bytes]:
    return {str(p.relative_to(cache)): p.read_bytes() for p in sorted(cache.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def few_uncertainty_draws():
    """Score tables here only need their shape: a handful of Monte Carlo draws in-process.

    Loading normally refuses any file whose sha256 differs from the registry, which would stop
    every broken copy here before its parser sees it; these tests are about what each parser
    and validator says, so the check is off (tests/test_input_integrity.py tests it on)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("INCLUSION_UNCERTAINTY_DRAWS", "4")
    mp.setenv("INCLUSION_UNCERTAINTY_JOBS", "1")
    mp.setenv("INCLUSION_VERIFY_CHECKSUMS", "0")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def warm(data_dir: Path, cache_dir: Path, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A harmonised cache built from the real files, and the long table it holds."""
    cache = tmp_path_factory.mktemp("warm-cache")
    # the real files' parse, from the run's shared cache: its entries are keyed by code and file checksums
    (cache / "harmonised").mkdir()
    for p in (cache_dir / "harmonised").glob("*.parquet"):
        shutil.copy2(p, cache / "harmonised" / p.name)
    return cache, load_inputs(data_dir, cache_dir=cache)


@pytest.fixture()
def cache_in_use(warm, monkeypatch) -> Path:
    """Point every default cache (this process and notebook kernels) at the warm test cache,
    so the CLI and reports never touch the project's own data/cache."""
    cache = warm[0]
    monkeypatch.setattr(harmonise, "CACHE_DIR", cache)
    monkeypatch.setattr(build, "CACHE_DIR", cache)
    monkeypatch.setenv("INCLUSION_CACHE_DIR", str(cache))
    return cache


# ---------------------------------------------------------------- truncated, empty, header only

def test_csv_cut_mid_row_names_file_line_and_column(data_dir, tmp_path):
    b = real_text(data_dir, "neet_2023")
    last = b.rstrip(b"\n").rfind(b"\n") + 1  # start of the last row (an LA)
    cut = b[: last + 60]
    assert cut.count(b"\n") == b.count(b"\n") - 1
    d = broken(data_dir, tmp_path, {"neet_2023": cut})
    n_fields = len(rows_of(b)[0])
    short = len(rows_of(cut)[-1])
    line = b.count(b"\n")
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('neet_2023')}: line {line} has {short} of {n_fields} fields (file truncated or a row cut short)"
    )) as e:
        neet.load(ctx_for(d))
    assert e.value.column == rows_of(b)[0][short]


def test_gzip_cut_mid_stream_names_file(data_dir, tmp_path):
    b = real_bytes(data_dir, "excl_termly_sen")
    d = broken(data_dir, tmp_path, {"excl_termly_sen": b[: len(b) // 2]})
    with pytest.raises(SchemaError, match=re.escape(P("excl_termly_sen")) + r": cannot decompress \(EOFError"):
        load_inputs(d, families=["exclusions"], use_cache=False)


def test_gzip_of_a_csv_cut_mid_row_is_refused(data_dir, tmp_path):
    t = real_text(data_dir, "sen2_needs_2025")
    cut = t[: t.rfind(b"\n", 0, len(t) // 2) + 30]
    d = broken(data_dir, tmp_path, {"sen2_needs_2025": gz(cut)})
    with pytest.raises(SchemaError, match=re.escape(P("sen2_needs_2025")) + r": line \d+ has \d+ of \d+ fields"):
        sen2.load_needs_2025(ctx_for(d))


@pytest.mark.parametrize("sid,family,problem", [
    ("sen2_caseload_2025", "sen2", "file is empty; expected a CSV with a header row"),
    ("ks2_sen_dashboard", "context", "file is empty; expected a CSV with a header row"),
    ("iod2015_utla", "deprivation", "cannot read sheets IDACI and IMD"),
    ("ks4_la_char_201819", "ks4", "cannot open workbook"),
    ("lait_bds", "lait", "cannot read LAIT parquet"),
    ("excl_la_char_zip", "exclusions", "not a readable zip"),
    ("la_list_dfe", "neet", "cannot read the LA list"),
])
def test_empty_file_names_the_file(data_dir, tmp_path, sid, family, problem):
    d = broken(data_dir, tmp_path, {sid: b""})
    with pytest.raises(SchemaError, match=re.escape(f"{P(sid)}: {problem}")):
        load_inputs(d, families=[family], use_cache=False)


def test_header_only_csv(data_dir, tmp_path):
    t = real_text(data_dir, "ks4_la_char_201718")
    d = broken(data_dir, tmp_path, {"ks4_la_char_201718": t[: t.index(b"\n") + 1]})
    with pytest.raises(SchemaError, match=re.escape(f"{P('ks4_la_char_201718')}: file has a header but no rows")):
        ks4.load(ctx_for(d))


def test_damaged_zip_member_names_the_zip(data_dir, tmp_path):
    b = bytearray(real_bytes(data_dir, "excl_la_char_zip"))
    mid = len(b) // 2
    b[mid: mid + 64] = bytes(64)  # inside the deflate stream: bad data or a bad CRC
    d = broken(data_dir, tmp_path, {"excl_la_char_zip": bytes(b)})
    with pytest.raises(SchemaError, match=re.escape(P("excl_la_char_zip")) + r"!exclusions_by_characteristic\.csv: cannot read"):
        load_inputs(d, families=["exclusions"], use_cache=False)


# ---------------------------------------------------------------- encodings and BOM

def test_utf16_file_is_refused_by_name(data_dir, tmp_path):
    t = real_text(data_dir, "special_schools_ofsted").decode()
    d = broken(data_dir, tmp_path, {"special_schools_ofsted": t.encode("utf-16")})
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('special_schools_ofsted')}: not valid UTF-8 text (invalid start byte at byte 0)")):
        load_inputs(d, families=["context"], use_cache=False)


def test_cp1252_file_names_the_first_bad_byte(data_dir, tmp_path):
    # e.g. a file opened and saved again in a spreadsheet on Windows, with one accented name
    t = real_text(data_dir, "ks2_sen_dashboard").decode().replace("Barnet", "Barnét")
    b = t.encode("cp1252")
    d = broken(data_dir, tmp_path, {"ks2_sen_dashboard": b})
    at = b.index("é".encode("cp1252"))
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('ks2_sen_dashboard')}: not valid UTF-8 text (invalid continuation byte at byte {at})")):
        load_inputs(d, families=["context"], use_cache=False)


def test_la_list_in_utf16_is_refused_by_name(data_dir, tmp_path):
    t = real_text(data_dir, "la_list_dfe").decode()
    d = broken(data_dir, tmp_path, {"la_list_dfe": t.encode("utf-16")})
    with pytest.raises(SchemaError, match=re.escape(f"{P('la_list_dfe')}: cannot read the LA list (UnicodeDecodeError")):
        load_inputs(d, families=["neet"], use_cache=False)


def test_bom_added_or_removed_changes_nothing(data_dir, tmp_path):
    real = ctx_for(data_dir)
    with_bom = b"\xef\xbb\xbf" + real_text(data_dir, "neet_2022")
    assert real_text(data_dir, "sen2_needs_2025")[:3] == b"\xef\xbb\xbf"
    without_bom = gz(real_text(data_dir, "sen2_needs_2025")[3:])
    las_bom = b"\xef\xbb\xbf" + real_text(data_dir, "la_list_dfe")
    d = broken(data_dir, tmp_path, {"neet_2022": with_bom, "sen2_needs_2025": without_bom, "la_list_dfe": las_bom})
    pd.testing.assert_frame_equal(neet.load(ctx_for(d)), neet.load(real))
    pd.testing.assert_frame_equal(sen2.load_needs_2025(ctx_for(d)), sen2.load_needs_2025(real))
    pd.testing.assert_frame_equal(load_la_reference(d).table, load_la_reference(data_dir).table)


# ---------------------------------------------------------------- columns

def test_renamed_csv_column_names_file_column_years_and_the_new_name(data_dir, tmp_path):
    t = real_text(data_dir, "sen2_caseload_2025")
    assert t.count(b",ehcplans,") == 1
    d = broken(data_dir, tmp_path, {"sen2_caseload_2025": gz(t.replace(b",ehcplans,", b",ehc_plans,"))})
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('sen2_caseload_2025')}: required column missing (found 'ehc_plans', renamed?); "
            "column 'ehcplans'; year 201819-202425; expected columns")):
        sen2.load(ctx_for(d))


def _xlsx_with_renamed_header(path: Path, old: str, new: str) -> bytes:
    """Rename a header by editing the workbook's shared strings (no re-save by openpyxl)."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                assert data.count(f">{old}<".encode()) == 1
                data = data.replace(f">{old}<".encode(), f">{new}<".encode())
            zout.writestr(item, data)
    return out.getvalue()


def test_renamed_xlsx_column_names_file_sheet_column_year(data_dir, tmp_path):
    b = _xlsx_with_renamed_header(data_dir / P("ks4_la_char_201819"), "avg_p8score", "avg_p8_score")
    d = broken(data_dir, tmp_path, {"ks4_la_char_201819": b})
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('ks4_la_char_201819')}: required column missing in sheet 'Sheet1'; column 'avg_p8score'; year 201819")):
        ks4.load_201819(ctx_for(d))


def test_missing_xlsx_column_names_file_sheet_column_year(data_dir, tmp_path):
    wb = openpyxl.load_workbook(data_dir / P("iod2019_utla"))
    ws = wb["IDACI"]
    headers = [c.value for c in ws[1]]
    ws.delete_cols(headers.index("IDACI - Average score ") + 1)
    buf = io.BytesIO()
    wb.save(buf)
    d = broken(data_dir, tmp_path, {"iod2019_utla": buf.getvalue()})
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('iod2019_utla')}: required column missing in sheet 'IDACI'; column 'IDACI - Average score'; "
            "year 201920")):
        load_inputs(d, families=["deprivation"], use_cache=False)


def test_missing_csv_column_names_file_column_year(data_dir, tmp_path):
    rows = rows_of(real_text(data_dir, "neet_2021"))
    i = rows[0].index("cohort_EHCP_percent")
    d = broken(data_dir, tmp_path, {"neet_2021": csv_bytes([r[:i] + r[i + 1:] for r in rows])})
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('neet_2021')}: required column missing; column 'cohort_EHCP_percent'; year 202021")):
        neet.load(ctx_for(d))


# ---------------------------------------------------------------- rows and codes

def test_duplicate_la_row_names_file_la_and_year(data_dir, tmp_path):
    lines = real_text(data_dir, "neet_2024").rstrip(b"\n").split(b"\n")
    nottingham = next(line for line in lines if b",892," in line)
    d = broken(data_dir, tmp_path, {"neet_2024": b"\n".join([*lines, nottingham]) + b"\n"})
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('neet_2024')}: duplicate rows for LA 892 (Nottingham), neet_nk_ehcp_pct; column 'la_code'; "
            "year 202324; expected one row per LA, year and measure")):
        load_inputs(d, families=["neet"], use_cache=False)


def test_unknown_ons_code_names_file_column_year(data_dir, tmp_path):
    t = real_text(data_dir, "excl_termly_sen")
    d = broken(data_dir, tmp_path, {"excl_termly_sen": gz(t.replace(b",E06000001,Hartlepool,", b",E06000999,Hartlepool,"))})
    with pytest.raises(UnknownLACodeError, match=re.escape(
            f"{P('excl_termly_sen')}: ONS code 'E06000999' (Hartlepool) not in DfE's LA list; column 'new_la_code'; "
            "year 201920")):
        load_inputs(d, families=["exclusions"], use_cache=False)


def test_unknown_la_code_is_refused_not_dropped(data_dir, tmp_path):
    rows = rows_of(real_text(data_dir, "sen2_needs_2025"))
    h = rows[0]
    n = 0
    for r in rows[1:]:
        if r[h.index("old_la_code")] == "936":  # Surrey, given a code no LA ever had
            r[h.index("old_la_code")] = "999"
            n += 1
    assert n > 10
    d = broken(data_dir, tmp_path, {"sen2_needs_2025": gz(csv_bytes(rows))})
    out = sen2.load_needs_2025(ctx_for(d))
    assert (out["la_code"] == "999").sum() == 1  # the loader keeps it...
    with pytest.raises(UnknownLACodeError, match=re.escape(  # ...and validation refuses it
            f"{P('sen2_needs_2025')}: unknown LA code '999' (Surrey); column 'la_code'; year 202425")):
        harmonise.validate_long(out, load_la_reference(d), harmonise.measures_table(["sen2"]))


def test_unknown_text_in_a_value_cell_names_column_and_year(data_dir, tmp_path):
    rows = rows_of(real_text(data_dir, "ks2_sen_dashboard"))
    h = rows[0]
    r = next(r for r in rows[1:] if r[h.index("time_period")] == "202122" and r[h.index("la_name")] == "Kent")
    r[h.index("t_rwm_eligible_pupils")] = "n.a."
    d = broken(data_dir, tmp_path, {"ks2_sen_dashboard": csv_bytes(rows)})
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('ks2_sen_dashboard')}: 1 cell(s) are neither numbers nor known suppression markers "
            "(first: 'n.a.'); column 't_rwm_eligible_pupils'; year 202122")):
        load_inputs(d, families=["context"], use_cache=False)


def test_rate_over_100_names_file_column_year_and_range(data_dir, tmp_path):
    rows = rows_of(real_text(data_dir, "neet_2022"))
    h = rows[0]
    barnet = next(r for r in rows[1:] if r[h.index("old_la_code")] == "302")
    barnet[h.index("NEET_NK_EHCP_percent")] = "130"
    d = broken(data_dir, tmp_path, {"neet_2022": csv_bytes(rows)})
    with pytest.raises(SchemaError, match=re.escape(
            f"{P('neet_2022')}: value 130 out of range for neet_nk_ehcp_pct (Barnet); "
            "column 'NEET_NK_EHCP_percent'; year 202122; expected 0 to 100")):
        load_inputs(d, families=["neet"], use_cache=False)


# ---------------------------------------------------------------- suppression everywhere

_ID_COLUMNS = {"time_period", "time_identifier", "geographic_level", "country_code", "country_name",
               "region_code", "region_name", "old_la_code", "new_la_code", "la_name", "breakdown_topic",
               "breakdown", "education_phase", "send_category", "metric", "version", "school_characteristic",
               "Age", "establishment_group", "establishment_type"}


def all_markers(b: bytes) -> bytes:
    """Every value cell (not identifiers or breakdowns) replaced by x, c, z, :, low in turn."""
    rows = rows_of(b)
    h = rows[0]
    keep = [c in _ID_COLUMNS or c.startswith("characteristic") for c in h]
    k = 0
    for r in rows[1:]:
        for j in range(len(r)):
            if not keep[j]:
                r[j] = MARKERS[k % len(MARKERS)]
                k += 1
    return csv_bytes(rows)


@pytest.fixture(scope="module")
def sen2_all_markers(data_dir, warm, tmp_path_factory):
    """The 2025 SEN2 caseload release with every number suppressed, loaded with the rest."""
    b = gz(all_markers(real_text(data_dir, "sen2_caseload_2025")))
    d = broken(data_dir, tmp_path_factory.mktemp("markers"), {"sen2_caseload_2025": b})
    return d, load_inputs(d, cache_dir=warm[0])


def test_markers_everywhere_give_missing_values_with_reasons_never_zeros(sen2_all_markers):
    _, long = sen2_all_markers
    rows = long[long["source"] == "sen2_caseload_2025"]
    assert len(rows) > 6_000  # 7 Januarys x ~170 areas x 6 measures
    assert rows["value"].isna().all()
    assert rows["numerator"].isna().all() and rows["denominator"].isna().all()
    assert rows["missing_reason"].notna().all()
    reasons = set(rows["missing_reason"])
    assert reasons <= {*SUPPRESSION_MARKERS.values(), sen2.PLACEMENT_X}, reasons - set(SUPPRESSION_MARKERS.values())
    assert "blank" not in reasons
    # every LA is still there, with its reason
    assert rows.loc[rows["level"] == "la"].groupby("year")["la_code"].nunique().min() >= 150


def test_markers_everywhere_make_the_indicator_unpublished_not_scored(sen2_all_markers, data_dir):
    d, long = sen2_all_markers
    ed = build_edition("202425", long=long, data_dir=d)
    sub = ed.substitutions()
    place = sub[sub["indicator"].isin(["place_state_special", "place_indep_nmss"])]
    assert len(place) == 6
    assert (place["las_with_value"] == 0).all()
    assert (place["missing_reason"] == "no_la_values").all() and (place["expected_year"] == place["index_year"]).all()
    assert [edition_note(r) for r in place.to_dict("records")] == [
        f"no LA values for {y} in this project's data" for y in place["index_year"]]
    head = ed.headline().scores
    assert head["place_state_special_score"].isna().all() and head["placement_score"].isna().all()
    assert (head["n_indicators_available"] == len(ed.indicators) - 2).all()
    assert head["scored"].sum() >= 145  # the other ten indicators still score the LAs


def test_markers_everywhere_in_termly_rates_are_never_summed_to_zero(data_dir, tmp_path):
    d = broken(data_dir, tmp_path, {"excl_termly_sen": gz(all_markers(real_text(data_dir, "excl_termly_sen")))})
    out = load_inputs(d, families=["exclusions"], use_cache=False)
    rows = out[out["source"] == "excl_termly_sen"]
    assert rows["value"].isna().all() and rows["missing_reason"].notna().all()
    assert rows["missing_reason"].str.match(r"a termly rate is missing \(|partial year").all()


def test_one_suppressed_part_does_not_become_the_total(data_dir, tmp_path):
    # KS4 2017/18 builds "all pupils" from the two disadvantage groups; with one suppressed,
    # the other alone is not the total
    rows = rows_of(real_text(data_dir, "ks4_la_char_201718"))
    h = rows[0]
    col = {c: h.index(c) for c in h}
    hit = 0
    for r in rows[1:]:
        if (r[col["old_la_code"]] == "886" and r[col["breakdown"]] == "Disadvantage"
                and r[col["characteristic_disadvantage"]] == "disadvantaged"
                and all(r[col[c]] == "Total" for c in ks4._CHAR_201718 if c != "characteristic_disadvantage")):
            r[col["t_pupils"]] = "c"
            hit += 1
    assert hit == 1
    d = broken(data_dir, tmp_path, {"ks4_la_char_201718": csv_bytes(rows)})
    out = ks4.load_201718(ctx_for(d))
    kent = out[(out["la_code"] == "886") & (out["measure"].isin(["ks4raw_pupils_all", "ks4raw_a8_all"]))]
    assert len(kent) == 2
    assert kent["value"].isna().all()
    assert (kent["missing_reason"] == SUPPRESSION_MARKERS["c"]).all()


# ---------------------------------------------------------------- a year missing from a source

def test_missing_year_is_carried_forward_or_unpublished_never_invented(data_dir, warm, tmp_path):
    lait = pd.read_parquet(data_dir / P("lait_bds"))
    gone = lait["Years"].isin(["2018", "2017/18"])  # every LAIT label that means 2017/18
    assert gone.sum() > 50_000
    buf = io.BytesIO()
    lait[~gone].to_parquet(buf, index=False)
    d = broken(data_dir, tmp_path, {"lait_bds": buf.getvalue()})
    long = load_inputs(d, cache_dir=warm[0])
    assert not ((long["source"] == "lait_bds") & (long["year"] == "201718")).any()
    ed = build_edition("201819", long=long, data_dir=d)
    sub = ed.substitutions().set_index(["index_year", "indicator"])
    # census-year indicator: January 2018 has a second source (DfE's two-decimal %), used as it is
    v = ed.values.set_index(["index_year", "indicator"]).sort_index()
    r = v.loc[("201718", "assess_ehcp_share")]
    assert set(r["measure"]) == {"assess_ehcp_share_2dp"} and set(r["data_year"]) == {"201718"}
    assert r["carried_from"].isna().all()
    # exam indicators lag a year: index year 2018/19 reads 2017/18
    for ind in ["att_ks2_rwm_ehcp", "att_ks2_read_prog_ehcp", "att_ks2_write_prog_ehcp", "att_ks2_maths_prog_ehcp"]:
        r = sub.loc[("201819", ind)]
        assert (r["data_year"], r["carried_from"], r["expected_year"]) == ("201617", "201617", "201718")
    # KS4 has a second source for 2017/18 (the raw DfE file), which is used as it is, unflagged
    assert sub.loc[("201819", "att_ks4_a8_ehcp"), "measure"] == "ks4raw_a8_ehcp"
    # nothing invented: every value used exists in the input for that measure and data year
    have = ed.long[ed.long["value"].notna() & (ed.long["level"] == "la")]
    have = set(zip(have["measure"], have["year"], strict=True))
    used = ed.values[ed.values["value"].notna()]
    assert set(zip(used["measure"], used["data_year"], strict=True)) <= have


# ---------------------------------------------------------------- checksums

def test_fetch_refuses_a_mirror_file_with_the_wrong_checksum(data_dir, tmp_path):
    b = bytearray(real_bytes(data_dir, "iod2019_utla"))
    b[-100] ^= 0xFF
    mirror = broken(data_dir, tmp_path / "m", {"iod2019_utla": bytes(b)})
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError, match=re.escape(f"{P('iod2019_utla')}: checksum mismatch")):
        fetch(dest, mirror=mirror, registry=Registry((REG["iod2019_utla"],)), log=lambda s: None)
    assert not (dest / P("iod2019_utla")).exists()
    assert not list(dest.rglob(".fetch-*")), "no partial download left behind"
    assert main(["fetch", "--data-dir", str(dest), "--mirror", str(mirror), "--only", "iod2019_utla"]) == 2


def test_cli_verify_exits_2_naming_the_altered_file(data_dir, tmp_path, capsys):
    t = real_text(data_dir, "special_schools_ofsted")
    d = broken(data_dir, tmp_path, {"special_schools_ofsted": t.replace(b"Barnet", b"Barnett", 1)})
    assert main(["verify", "--data-dir", str(d)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"error: {P('special_schools_ofsted')}: checksum mismatch (sha256 ")
    assert f"ok  {P('lait_bds')}" in out


# ---------------------------------------------------------------- CLI, caches and reports

def test_failed_parse_leaves_the_cache_untouched(data_dir, warm, tmp_path):
    cache = warm[0]
    b = real_text(data_dir, "neet_2025")
    d = broken(data_dir, tmp_path, {"neet_2025": b[: len(b) - 50]})
    before = snapshot(cache)
    with pytest.raises(SchemaError, match=re.escape(P("neet_2025"))):
        load_inputs(d, cache_dir=cache)
    assert snapshot(cache) == before
    rep = LoadReport()
    load_inputs(data_dir, cache_dir=cache, report=rep)
    assert all(rep.cached.values()) and set(rep.cached) == set(loader_names())


def test_failed_validation_writes_no_cache_entry(data_dir, warm, tmp_path):
    cache = warm[0]
    rows = rows_of(real_text(data_dir, "neet_2022"))
    h = rows[0]
    next(r for r in rows[1:] if r[h.index("old_la_code")] == "302")[h.index("NEET_NK_EHCP_percent")] = "130"
    d = broken(data_dir, tmp_path, {"neet_2022": csv_bytes(rows)})
    before = snapshot(cache)
    with pytest.raises(SchemaError, match="out of range"):
        load_inputs(d, cache_dir=cache)
    assert snapshot(cache) == before, "a table that failed validation must not be cached"


def test_damaged_cache_entry_is_rebuilt_not_fatal(data_dir, warm, tmp_path):
    cache = tmp_path / "cache"
    for name, b in snapshot(warm[0]).items():
        if name.startswith("harmonised/lait-"):
            (cache / name).parent.mkdir(parents=True, exist_ok=True)
            (cache / name).write_bytes(b[: len(b) // 3])
    rep = LoadReport()
    a = load_inputs(data_dir, families=["lait"], cache_dir=cache, report=rep)
    assert rep.cached == {"lait": False}
    rep = LoadReport()
    b = load_inputs(data_dir, families=["lait"], cache_dir=cache, report=rep)
    assert rep.cached == {"lait": True}
    pd.testing.assert_frame_equal(a, b)


def test_cli_load_and_score_exit_2_naming_the_file(data_dir, tmp_path, cache_in_use, capsys):
    rows = rows_of(real_text(data_dir, "neet_2023"))
    rows[0][rows[0].index("NEET_NK_EHCP_percent")] = "NEET_NK_EHCP_pct"
    d = broken(data_dir, tmp_path, {"neet_2023": csv_bytes(rows)})
    before = snapshot(cache_in_use)
    expected = (f"error: {P('neet_2023')}: required column missing (found 'NEET_NK_EHCP_pct', renamed?); "
                "column 'NEET_NK_EHCP_percent'; year 202223")
    assert main(["load", "--data-dir", str(d)]) == 2
    assert capsys.readouterr().err.startswith(expected)
    out = tmp_path / "scores.csv"
    assert main(["score", "--edition", "202425", "--data-dir", str(d), "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith(expected)
    assert not out.exists()
    assert snapshot(cache_in_use) == before


def _report_notebook(nbdir: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'final_year = "000000"\nn_years = 1\ndata_dir = ""\noutput_dir = "."\nhighlight_la = ""')
    params.metadata["tags"] = ["parameters"]
    body = ("from inclusion_index.sources.harmonise import load_inputs\n"
            "long = load_inputs(data_dir)\n"
            "print('measures:', long['measure'].nunique())")
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nbdir / "a.ipynb")


def test_broken_input_keeps_the_last_good_report_and_cache(data_dir, tmp_path, cache_in_use, monkeypatch):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    _report_notebook(nbdir)
    monkeypatch.setattr(render, "PARTS", [("a", "Part A")])
    reports = tmp_path / "reports"
    good = mirror_with(data_dir, tmp_path / "good", {})
    render_edition("202425", years=1, data_dir=good, reports_dir=reports, notebooks_dir=nbdir, log=lambda s: None)
    page = (reports / "202425" / "a.html").read_text()
    assert re.search(r"measures: \d{2,}", page)
    cache_before = snapshot(cache_in_use)
    lines = real_text(data_dir, "neet_2025").split(b"\n")
    bad = broken(data_dir, tmp_path, {"neet_2025": b"\n".join(lines[:60])[:-7]})
    with pytest.raises(RenderError, match=r"edition 202425: a, cell \d+: SchemaError: " + re.escape(P("neet_2025"))):
        render_edition("202425", years=1, data_dir=bad, reports_dir=reports, notebooks_dir=nbdir,
                       log=lambda s: None)
    assert (reports / "202425" / "a.html").read_text() == page
    assert sorted(p.name for p in reports.iterdir()) == [".failed-202425", "202425"]
    assert snapshot(cache_in_use) == cache_before


# ---------------------------------------------------------------- an LA name holding HTML

@pytest.fixture(scope="module")
def script_edition(data_dir, warm, tmp_path_factory):
    """Barnet renamed to a script tag in the LA list (and in the two tables that name LAs
    without codes, so they still match it)."""
    tmp = tmp_path_factory.mktemp("script")
    swap = {sid: real_text(data_dir, sid).replace(b"Barnet", SCRIPT.encode())
            for sid in ("la_list_dfe", "ks2_sen_dashboard", "special_schools_ofsted")}
    swap["sen_la_totals_202324"] = xlsx_renamed(data_dir, "sen_la_totals_202324", "Barnet", SCRIPT)
    d = broken(data_dir, tmp, swap)
    cache = warm[0]
    mp = pytest.MonkeyPatch()
    mp.setattr(harmonise, "CACHE_DIR", cache)
    try:
        ed = load_edition("201819", years=3, data_dir=d, cache_dir=cache)
    finally:
        mp.undo()
    return d, cache, ed


def test_script_in_la_name_is_kept_as_data_in_the_score_table(script_edition, tmp_path):
    _, _, ed = script_edition
    t = ed.score_table
    assert t.loc[t["la_code"] == "302", "la_name"].tolist() == [SCRIPT]
    out = tmp_path / "scores.csv"
    write_score_table(ed, out, score_table_text(ed))
    # CSV is data, not markup: the name round-trips exactly (escaping it would corrupt it)
    with out.open(encoding="utf-8", newline="") as fh:
        names = {r["la_code"]: r["la_name"] for r in csv.DictReader(fh)}
    assert names["302"] == SCRIPT and ESCAPED not in out.read_text()


def test_script_in_la_name_is_escaped_in_index_and_profile_pages(script_edition, tmp_path, monkeypatch):
    d, cache, ed = script_edition
    las = list(zip(ed.geography["la_code"], ed.geography["la_name"], strict=True))
    assert ("302", SCRIPT) in las
    index = write_index(tmp_path, [render.EditionRender("201819", {"highlight_la": "302"})],
                        [vars(s) for s in REG.sources], {"201819": "2018/19"},
                        extra_sections=search_box_html({"201819": las}))
    page = index.read_text()
    assert SCRIPT not in page and ESCAPED in page
    assert SCRIPT not in profile_index("201819", las) and ESCAPED in profile_index("201819", las)

    monkeypatch.setenv("INCLUSION_CACHE_DIR", str(cache))  # the kernel finds the edition built above
    out = tmp_path / "la"
    res = render_profiles("201819", [("302", SCRIPT)], years=3, data_dir=d, out_dir=out, workers=1,
                          log=lambda s: None)
    assert res.pages == 1 and not res.failures
    for p in (out / "302.html", out / "index.html"):
        html = p.read_text()
        assert SCRIPT not in html, p
        assert ESCAPED in html, p


# ---------------------------------------------------------------- parse_values, property

def _is_bad(s: str) -> bool:
    try:
        parse_numeric_column(pd.Series([s]))
    except ValueError:
        return True
    return False


_years = st.sampled_from(["201819", "201920", "202021", "202122"])
_good_cells = st.one_of(
    st.sampled_from([m for m in SUPPRESSION_MARKERS if m != "nan"]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).map(repr),
)
_bad_cells = st.text(alphabet="abcdefghijklmnopqrstuvwxyz.#?!/ 0123456789", min_size=1, max_size=6).filter(_is_bad)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(good=st.lists(st.tuples(_years, _good_cells), max_size=30),
       bad=st.lists(st.tuples(_years, _bad_cells), min_size=1, max_size=3),
       data=st.data())
def test_property_bad_cell_error_names_file_column_and_first_bad_year(good, bad, data):
    cells = data.draw(st.permutations(good + bad))
    df = pd.DataFrame({"time_period": [y for y, _ in cells], "Values": [c for _, c in cells]}, dtype="string")
    with pytest.raises(SchemaError) as e:
        parse_values(df, "Values", "dir/some file.csv", year_column="time_period")
    err = e.value
    assert (err.file, err.column, err.year) == ("dir/some file.csv", "Values", min(y for y, _ in bad))
    first = next(c for _, c in cells if _is_bad(c)).strip()
    assert str(err).startswith(f"dir/some file.csv: {len(bad)} cell(s) are neither numbers nor known "
                               f"suppression markers (first: {first!r}); column 'Values'; year {err.year}")


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.tuples(_years, _good_cells), min_size=1, max_size=30))
def test_property_markers_become_missing_with_reason_never_zero(cells):
    df = pd.DataFrame({"time_period": [y for y, _ in cells], "Values": [c for _, c in cells]}, dtype="string")
    values, reasons = parse_values(df, "Values", "f.csv", year_column="time_period")
    for (_, cell), v, why in zip(cells, values, reasons, strict=True):
        if cell.strip().lower() in SUPPRESSION_MARKERS:
            assert math.isnan(v) and isinstance(why, str) and why
        else:
            assert v == pytest.approx(float(cell)) and why is pd.NA
    assert not np.any(values[reasons.notna()] == 0)
