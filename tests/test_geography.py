import numpy as np
import pandas as pd
import pytest

from inclusion_index.sources.geography import (
    january_of,
    load_la_reference,
    map_to_geography,
    shift_year,
    year_key,
)


@pytest.fixture(scope="module")
def ref(data_dir):
    return load_la_reference(data_dir)


def test_year_helpers():
    assert year_key(2018) == "201819"
    assert shift_year("201819", -1) == "201718"
    assert shift_year("199900", 1) == "200001"
    assert january_of("201819").year == 2019
    with pytest.raises(ValueError, match="201819"):
        shift_year("2019", 1)


def test_geographies_per_year(ref):
    g2019 = ref.geography_for_year("201819")
    assert len(g2019) == 150
    assert {"835", "836", "837"} <= set(g2019["la_code"]) and "839" not in set(g2019["la_code"])
    g2025 = ref.geography_for_year("202425")
    assert len(g2025) == 151
    assert {"940", "941", "942", "943", "839", "838"} <= set(g2025["la_code"])
    assert not {"909", "928", "835"} & set(g2025["la_code"])
    assert set(g2019["region_group"]) >= {"Inner London", "Outer London"}
    assert len(ref.geography_for_year("201819", include_excluded=True)) == 152


def test_split_copies_county_value_to_each_successor_flagged(ref):
    v = pd.DataFrame({"la_code": ["909", "302"], "value": [5.0, 7.0],
                      "numerator": [np.nan, np.nan], "denominator": [np.nan, np.nan]})
    out = map_to_geography(v, ["942", "943", "302"], ref).set_index("la_code")
    assert out.loc["942", "value"] == 5.0 and out.loc["943", "value"] == 5.0
    assert out.loc["942", "predecessors"] == "909" and out.loc["942", "combined"] == ""
    assert out.loc["302", "predecessors"] == ""


def test_merge_weights_by_denominator_and_leaves_out_christchurch(ref):
    # Bournemouth 10% of 100, Poole 20% of 300 -> BCP 17.5% of 400; Dorset county only feeds Dorset UA
    v = pd.DataFrame({"la_code": ["837", "836", "835"], "value": [10.0, 20.0, 30.0],
                      "numerator": [10.0, 60.0, 90.0], "denominator": [100.0, 300.0, 300.0]})
    out = map_to_geography(v, ["839", "838"], ref).set_index("la_code")
    assert out.loc["839", "value"] == pytest.approx(17.5)
    assert out.loc["839", "numerator"] == 70 and out.loc["839", "denominator"] == 400
    assert (out.loc["839", "predecessors"], out.loc["839", "combined"]) == ("836,837", "weighted")
    assert out.loc["838", "value"] == 30.0


def test_successor_with_its_own_value_keeps_it(ref):
    v = pd.DataFrame({"la_code": ["909", "942"], "value": [5.0, 9.0]})
    out = map_to_geography(v, ["942", "943"], ref).set_index("la_code")
    assert out.loc["942", "value"] == 9.0 and out.loc["943", "value"] == 5.0


def test_year_label_is_for_readers_and_leaves_other_text_alone():
    from inclusion_index.sources.geography import year_label

    assert year_label("201819") == "2018/19" and year_label(202425) == "2024/25"
    assert year_label("IoD2019") == "IoD2019" and year_label("") == ""


