"""Job and profile references in, a checked document out: the path the CLI and the operators share."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from airflow_eks_data.backends.registry import backend_name
from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec.job import SparkJob
from airflow_eks_data.jobspec.loading import find_profile_file, looks_like_path, profiles_dir
from airflow_eks_data.jobspec.profile import PlatformProfile
from airflow_eks_data.outcomes.policy import OnDemandEscalation
from airflow_eks_data.render import render
from airflow_eks_data.resolve import ResolvedJob, RunAdditions, resolve
from airflow_eks_data.validate import rendered_problems

JobRef = SparkJob | dict[str, Any] | str | Path
ProfileRef = PlatformProfile | str | Path


def load_job(ref: JobRef) -> SparkJob:
    """A `SparkJob` from itself, a dict, or a YAML path."""
    if isinstance(ref, SparkJob):
        return ref
    if isinstance(ref, dict):
        return SparkJob.from_dict(ref)
    return SparkJob.from_yaml(ref)


def load_profile(ref: ProfileRef, directory: str | Path | None = None) -> PlatformProfile:
    """A `PlatformProfile` from itself, a YAML path, or a name looked up in the profiles directory."""
    if isinstance(ref, PlatformProfile):
        return ref
    if isinstance(ref, Path) or looks_like_path(ref):
        return _profile_file(ref)
    return _profile_file(find_profile_file(ref, profiles_dir(directory)))


def _profile_file(path: str | Path) -> PlatformProfile:
    """The profile in `path`, parsed once per version of the file: an operator loads its profile for
    every resolution (twice per submission), and YAML parsing plus validation is most of the CPU a
    Spark Operator submission costs. Profiles are frozen models, so one instance can be shared; a
    changed file (size, mtime, inode) is parsed again."""
    stat = Path(path).stat()
    return _parsed_profile(str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@lru_cache(maxsize=32)
def _parsed_profile(path: str, *version: int) -> PlatformProfile:
    return PlatformProfile.from_yaml(path)


@dataclass(frozen=True)
class Prepared:
    job: ResolvedJob
    target: str
    """The backend's registered name (a `Target` for the built-in ones)."""
    document: dict[str, Any]


def prepare(
    job: JobRef,
    profile: ProfileRef,
    *,
    target: str | None = None,
    tenant: str | None = None,
    crd: str | Path | None = None,
    profiles_directory: str | Path | None = None,
    app_name: str | None = None,
    escalation: OnDemandEscalation | None = None,
    additions: RunAdditions | None = None,
) -> Prepared:
    """Load, resolve, render and validate; raises `SpecError` with every problem found."""
    spark_job = load_job(job)
    platform = load_profile(profile, profiles_directory)
    chosen = backend_name(target or platform.backend)
    resolved = resolve(
        spark_job, platform, tenant=tenant, app_name=app_name, escalation=escalation, additions=additions
    )
    document = render(resolved, chosen)
    problems = rendered_problems(resolved, chosen, document, crd)
    if problems:
        raise SpecError(problems)
    return Prepared(resolved, chosen, document)
