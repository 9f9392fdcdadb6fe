"""The cluster side of a profile: what one tenant needs in the cluster, and the Karpenter NodePools its
placement asks for (`airflow-eks-data platform render`). Pure: builds manifests, touches nothing."""

from airflow_eks_data.platform.model import Manifest, PlatformRendering
from airflow_eks_data.platform.onboarding import render_platform, tenant_manifests

__all__ = ["Manifest", "PlatformRendering", "render_platform", "tenant_manifests"]
