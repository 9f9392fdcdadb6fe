"""The provider's `[eks_data]` Airflow settings, read lazily (Airflow's config is slow to import)."""

from __future__ import annotations


def _get(key: str) -> str | None:
    from airflow.configuration import conf

    value = conf.get("eks_data", key, fallback=None)
    return value or None


def profiles_dir() -> str | None:
    """`[eks_data] profiles_dir` (environment: `AIRFLOW__EKS_DATA__PROFILES_DIR`)."""
    return _get("profiles_dir")


def default_profile() -> str | None:
    """`[eks_data] default_profile`: the profile of operators that name none."""
    return _get("default_profile")


def trusted_profiles_only() -> bool:
    """`[eks_data] trusted_profiles_only`: operators accept only profile names from `profiles_dir`."""
    from airflow.configuration import conf

    return conf.getboolean("eks_data", "trusted_profiles_only", fallback=False)
