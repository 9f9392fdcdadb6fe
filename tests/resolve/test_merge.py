from __future__ import annotations

from airflow_eks_data.resolve.merge import merge_settings, merge_tolerations


def test_maps_merge_key_by_key_and_later_layers_win() -> None:
    merged, origins = merge_settings(
        [
            (
                "profile",
                {"spark_conf": {"a": "1", "b": "1"}, "executor": {"cores": 4, "memory": "8g"}, "image": "p"},
            ),
            ("tenant", {"spark_conf": {"b": "2"}}),
            ("job", {"spark_conf": {"c": "3"}, "executor": {"memory": "16g"}}),
        ]
    )
    assert merged == {
        "spark_conf": {"a": "1", "b": "2", "c": "3"},
        "executor": {"cores": 4, "memory": "16g"},
        "image": "p",
    }
    assert origins["spark_conf.a"] == "profile"
    assert origins["spark_conf.b"] == "tenant"
    assert origins["executor.memory"] == "job"
    assert origins["executor.cores"] == "profile"


def test_lists_replace_as_a_whole() -> None:
    merged, _ = merge_settings([("profile", {"arguments": ["a", "b"]}), ("job", {"arguments": ["c"]})])
    assert merged["arguments"] == ["c"]


def test_tolerations_merge_by_key_and_effect() -> None:
    spot = {"key": "spot", "operator": "Exists", "effect": "NoSchedule"}
    spot_again = {"key": "spot", "operator": "Equal", "value": "yes", "effect": "NoSchedule"}
    gpu = {"key": "gpu", "operator": "Exists"}
    assert merge_tolerations([spot, gpu], [spot_again]) == [spot_again, gpu]
