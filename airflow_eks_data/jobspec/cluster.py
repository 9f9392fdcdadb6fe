"""The cluster side of a profile: who submits, and the Karpenter node class its NodePools launch with.

Only `airflow-eks-data platform render` reads these; jobs never do.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from airflow_eks_data.jobspec.fields import StrictModel, StringMap
from airflow_eks_data.jobspec.names import DNS_LABEL, DNS_LABEL_RULE, DNS_SUBDOMAIN

SUBMITTERS_GROUP = "airflow-spark-submitters"
"""The Kubernetes group an EKS access entry maps Airflow's IAM role to, unless the profile names others."""

_AMI_ALIAS = re.compile(r"^(al2|al2023|bottlerocket)@[A-Za-z0-9.\-_]+$")
_DURATION = re.compile(r"^([0-9]+(s|m|h))+$")


class RbacSubject(StrictModel):
    """Who the submitter Role is bound to: Airflow's workers and triggerer."""

    kind: Literal["Group", "User", "ServiceAccount"] = Field(description="RBAC subject kind.")
    name: str = Field(min_length=1, description="Group, user or service account name.")
    namespace: str | None = Field(None, description="The service account's namespace (ServiceAccount only).")

    @model_validator(mode="after")
    def _namespace(self) -> RbacSubject:
        if (self.kind == "ServiceAccount") != (self.namespace is not None):
            raise ValueError("namespace: required for a ServiceAccount subject, and only for one")
        if self.namespace is not None and (len(self.namespace) > 63 or not DNS_LABEL.match(self.namespace)):
            raise ValueError(f"namespace: {DNS_LABEL_RULE}")
        return self


def default_submitters() -> list[RbacSubject]:
    return [RbacSubject(kind="Group", name=SUBMITTERS_GROUP)]


class KarpenterSettings(StrictModel):
    """The `EC2NodeClass` the profile's NodePools launch nodes with (Karpenter v1).

    The NodePools themselves come from `placement`: capacity type, architecture, local NVMe and zones.
    """

    node_class: str | None = Field(
        None, description="Name of the EC2NodeClass (default: the profile's name); the NodePools refer to it."
    )
    node_role: str | None = Field(
        None, description="IAM role name of the nodes (`spec.role`); give it or `instance_profile`, not both."
    )
    instance_profile: str | None = Field(None, description="IAM instance profile of the nodes, instead of a role.")
    subnet_tags: StringMap = Field(
        min_length=1, description="Tags that select the nodes' subnets, e.g. `{karpenter.sh/discovery: my-cluster}`."
    )
    security_group_tags: StringMap = Field(min_length=1, description="Tags that select the nodes' security groups.")
    ami_alias: str = Field(
        "al2023@latest", description="AMI family and version, `family@version` (al2023, al2 or bottlerocket)."
    )
    instance_families: list[str] = Field(
        default_factory=list,
        description="EC2 instance families the NodePools may launch (`karpenter.k8s.aws/instance-family`), e.g. "
        "`[m6gd, r6gd]` for Graviton with local NVMe. Empty: any that meets the other requirements.",
    )
    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized"] = Field(
        "WhenEmpty",
        description="When Karpenter may remove nodes: `WhenEmpty` never moves running executors (a moved "
        "executor loses its shuffle files and stalls the job) to pack nodes tighter.",
    )
    consolidate_after: str = Field("60s", description="How long a node stays empty before it is removed.")

    @model_validator(mode="after")
    def _identity(self) -> KarpenterSettings:
        if (self.node_role is None) == (self.instance_profile is None):
            raise ValueError("give exactly one of node_role and instance_profile (the EC2NodeClass needs one)")
        return self

    @field_validator("node_class")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 253 or not DNS_SUBDOMAIN.match(value)):
            raise ValueError("a Kubernetes object name: a DNS subdomain (lowercase, '.', '-')")
        return value

    @field_validator("node_role", "instance_profile")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("subnet_tags", "security_group_tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 20:
            raise ValueError("at most 20 tags")
        if any(not key or not tag for key, tag in value.items()):
            raise ValueError("tag keys and values must not be empty")
        return value

    @field_validator("ami_alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        if len(value) > 30 or not _AMI_ALIAS.match(value):
            raise ValueError("family@version, family one of al2023, al2, bottlerocket (e.g. al2023@latest)")
        return value

    @field_validator("instance_families")
    @classmethod
    def _families(cls, value: list[str]) -> list[str]:
        wrong = [family for family in value if not re.match(r"^[a-z][a-z0-9-]*$", family)]
        if wrong:
            raise ValueError(f"{wrong[0]!r} is not an instance family such as m6gd")
        return value

    @field_validator("consolidate_after")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not _DURATION.match(value):
            raise ValueError("a duration such as 30s, 5m or 1h")
        return value
