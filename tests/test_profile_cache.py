"""A profile file is parsed once per version: an operator resolves its job (and loads its profile)
twice per submission, and a worker running many tasks would otherwise parse the same YAML each time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from airflow_eks_data.errors import SpecError
from airflow_eks_data.pipeline import load_profile
from tests.conftest import PROFILE_PATH


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    (tmp_path / "compaction.yaml").write_text(PROFILE_PATH.read_text())
    return tmp_path


def test_the_same_file_gives_the_same_profile(profiles: Path) -> None:
    by_name = load_profile("compaction", profiles)
    assert load_profile("compaction", profiles) is by_name
    assert load_profile(profiles / "compaction.yaml") is load_profile(str(profiles / "compaction.yaml"))


def test_a_changed_file_is_read_again(profiles: Path) -> None:
    path = profiles / "compaction.yaml"
    before = load_profile(path)
    data = yaml.safe_load(path.read_text())
    data["description"] = "changed"
    stat = path.stat()
    path.write_text(yaml.safe_dump(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the old mtime: size and ctime differ
    after = load_profile(path)
    assert after is not before and after.description == "changed"


def test_a_broken_file_is_not_remembered(profiles: Path) -> None:
    path = profiles / "compaction.yaml"
    good = path.read_text()
    path.write_text(good.replace("name: compaction", "name: [compaction"))
    with pytest.raises(SpecError):
        load_profile(path)
    path.write_text(good)
    assert load_profile(path).name == "compaction"
