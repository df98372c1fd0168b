"""Configuration YAML is parsed once per version of the file, and callers cannot share state."""

from __future__ import annotations

import os

import pytest
import yaml

from inclusion_index.config_files import read_yaml


def test_read_yaml_rereads_an_edited_file_and_hands_out_copies(tmp_path):
    f = tmp_path / "s.yml"
    f.write_text("a: {b: 1}\n")
    first = read_yaml(f)
    assert first == {"a": {"b": 1}}
    first["a"]["b"] = 99  # a caller changing its copy changes nobody else's
    assert read_yaml(f) == {"a": {"b": 1}}
    f.write_text("a: {b: 2, c: 3}\n")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a new version even within one tick
    assert read_yaml(f) == {"a": {"b": 2, "c": 3}}


def test_read_yaml_raises_like_yaml_and_open(tmp_path):
    with pytest.raises(OSError):
        read_yaml(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(yaml.YAMLError):
        read_yaml(bad)
    (tmp_path / "empty.yml").write_text("")
    assert read_yaml(tmp_path / "empty.yml") is None
