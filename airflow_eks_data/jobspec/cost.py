"""The profile's price table: what one vCPU-hour and one GB-hour cost, by capacity type and instance family."""

from __future__ import annotations

from pydantic import Field

from airflow_eks_data.jobspec.fields import StrictModel
from airflow_eks_data.jobspec.settings import Capacity


class Rate(StrictModel):
    """A price per vCPU-hour and GB-hour; the first rate whose filters match a pod's node prices it."""

    capacity: Capacity | None = Field(None, description="Capacity type this rate applies to (None: any).")
    instance_family: str | None = Field(
        None,
        description="Instance family (`karpenter.k8s.aws/instance-family`, e.g. `r7gd`) it applies to (None: any).",
    )
    vcpu_hour: float = Field(ge=0, description="Price of one vCPU for one hour.")
    gb_hour: float = Field(0.0, ge=0, description="Price of one GB of memory for one hour.")


class CostSettings(StrictModel):
    currency: str = Field("USD", description="Currency of the rates, reported with every estimate.")
    rates: list[Rate] = Field(
        default_factory=list, description="Rates, most specific first; no rates: no cost estimate."
    )
