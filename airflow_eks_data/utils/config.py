"""The provider's `[eks_data]` Airflow settings, read lazily (Airflow's config is slow to import)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_eks_data.jobspec.profile import PlatformProfile


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


def operator_profile(ref: str | Path | PlatformProfile | None) -> PlatformProfile:
    """The operator's profile: its argument, else `default_profile`; a name only, from `profiles_dir`,
    when `trusted_profiles_only` is set (so a DAG cannot bring its own guardrails)."""
    from airflow_eks_data.errors import Problem, SpecError
    from airflow_eks_data.jobspec.loading import looks_like_path
    from airflow_eks_data.pipeline import load_profile

    ref = ref or default_profile()
    if ref is None:
        raise SpecError([Problem("profile", None, "required: pass profile= or set [eks_data] default_profile")])
    if trusted_profiles_only() and (not isinstance(ref, str) or looks_like_path(ref)):
        shown = ref if isinstance(ref, str | Path) else type(ref).__name__
        rule = "trusted-profile: [eks_data] trusted_profiles_only accepts only a profile name from profiles_dir"
        raise SpecError([Problem("profile", str(shown), rule)])
    return load_profile(ref, profiles_dir())
