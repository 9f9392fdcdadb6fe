"""What engineers and platform teams write: the job spec and the profile, pure pydantic models."""

from airflow_eks_data.jobspec.job import Deps, SparkJob
from airflow_eks_data.jobspec.profile import PlatformProfile, Tenant

__all__ = ["Deps", "PlatformProfile", "SparkJob", "Tenant"]
