"""What `doctor` reads of a cluster, through the Kubernetes connection the Spark Operator backend uses:
access reviews of that identity, the SparkApplication CRD, and Karpenter's NodePools."""

from __future__ import annotations

from typing import Any

from airflow_eks_data.hooks.spark_operator import SparkOperatorHook
from airflow_eks_data.jobspec.profile import PlatformProfile
from airflow_eks_data.outcomes.retrying import status_of
from airflow_eks_data.platform.doctor import (
    CRD_NAME,
    Access,
    Check,
    access_check,
    application_check,
    crd_check,
    doctor_rules_text,
    node_pool_check,
    submitter_access,
    virtual_cluster_check,
)
from airflow_eks_data.utils.retries import call_with_retries

NOT_FOUND = 404
FORBIDDEN = 403


class ClusterHook(SparkOperatorHook):
    """Reads only; every call retried as the backend's calls are (429, 5xx, 401 with renewal)."""

    hook_name = "EKS cluster checks"

    def _typed(self, api: str, method: str, **kwargs: Any) -> Any:
        """`kubernetes.client.<api>(client).<method>(**kwargs)` on the current (renewable) client."""
        from kubernetes import client  # type: ignore[import-untyped]

        return call_with_retries(
            lambda: getattr(getattr(client, api)(self.api_client), method)(**kwargs),
            renew=self._renew,
            backoff=self.retry_settings,
        )

    def can_i(self, namespace: str, access: Access) -> bool:
        """A SelfSubjectAccessReview: may this connection's identity make that call in `namespace`?"""
        attributes = {"namespace": namespace, "verb": access.verb, "group": access.group, "resource": access.resource}
        if access.subresource:
            attributes["subresource"] = access.subresource
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        review = self._typed("AuthorizationV1Api", "create_self_subject_access_review", body=body)
        return bool(review.status and review.status.allowed)

    def spark_application_crd(self) -> dict[str, Any] | None:
        """The installed CustomResourceDefinition, as a plain document, or None."""
        try:
            crd = self._typed("ApiextensionsV1Api", "read_custom_resource_definition", name=CRD_NAME)
        except Exception as exc:
            if status_of(exc) == NOT_FOUND:
                return None
            raise
        return self.api_client.sanitize_for_serialization(crd)  # type: ignore[no-any-return]

    def node_pools(self) -> list[dict[str, Any]] | None:
        """Karpenter's NodePools, or None when the cluster has no `karpenter.sh/v1` API."""
        found = self._call(
            "custom_object_client",
            "list_cluster_custom_object",
            group="karpenter.sh",
            version="v1",
            plural="nodepools",
            missing=None,
        )
        return None if found is None else list(found.get("items", []))


def diagnose(
    profile: PlatformProfile,
    tenants: list[str],
    *,
    kubernetes_conn_id: str | None = "kubernetes_default",
    aws_conn_id: str | None = "aws_default",
) -> list[Check]:
    """Every check for these tenants: Kubernetes ones when a Kubernetes connection is given, EMR ones
    for tenants with a virtual cluster or an application when an AWS connection is given. A service
    that cannot be reached fails its checks with the error instead of ending the run."""
    checks: list[Check] = []
    if kubernetes_conn_id:
        checks += _kubernetes(profile, tenants, kubernetes_conn_id)
    if aws_conn_id:
        checks += _aws(profile, tenants, aws_conn_id)
    return checks


def _kubernetes(profile: PlatformProfile, tenants: list[str], conn_id: str) -> list[Check]:
    hook = ClusterHook(conn_id=conn_id)
    checks: list[Check] = []
    try:
        checks.append(crd_check(hook.spark_application_crd()))
    except Exception as exc:
        checks.append(_failed("Spark Operator CRD", exc))
    for name in tenants:
        namespace = profile.tenants[name].namespace
        try:
            answers = {access: hook.can_i(namespace, access) for access in submitter_access()}
        except Exception as exc:
            return [*checks, _failed(f"Kubernetes API ({conn_id})", exc)]
        checks.append(access_check(name, namespace, answers))
    try:
        pools = hook.node_pools()
    except Exception as exc:
        return [*checks, _failed("NodePools", exc)]
    return checks + [node_pool_check(profile, name, role, pools) for name in tenants for role in ("driver", "executor")]


def _aws(profile: PlatformProfile, tenants: list[str], conn_id: str) -> list[Check]:
    checks: list[Check] = []
    with_emr = [(name, profile.tenants[name].emr) for name in tenants if profile.tenants[name].emr]
    with_serverless = [(name, profile.tenants[name].emr_serverless) for name in tenants]
    try:
        if with_emr:
            from airflow_eks_data.hooks.emr_on_eks import EmrEksHook

            emr = EmrEksHook(aws_conn_id=conn_id)
            for name, section in with_emr:
                assert section is not None
                cluster_id = section.virtual_cluster_id
                checks.append(virtual_cluster_check(name, cluster_id, emr.describe_virtual_cluster(cluster_id)))
        serverless = [(name, section) for name, section in with_serverless if section is not None]
        if serverless:
            from airflow_eks_data.hooks.emr_serverless import EmrServerlessHook

            hook = EmrServerlessHook(aws_conn_id=conn_id)
            release = profile.emr_serverless.release_label
            for name, app in serverless:
                found = hook.get_application(app.application_id)
                checks.append(application_check(name, app.application_id, found, release))
    except Exception as exc:
        return [*checks, _failed(f"AWS ({conn_id})", exc)]
    return checks


def _failed(what: str, exc: BaseException) -> Check:
    """A read that did not answer: the check fails with the error, and a 403 with what to grant."""
    fix = "check the connection and the identity it uses"
    if status_of(exc) == FORBIDDEN:
        fix = f"let the connection's identity read the cluster: {doctor_rules_text()}"
    return Check(what, False, f"{type(exc).__name__}: {exc}"[:300], fix)
