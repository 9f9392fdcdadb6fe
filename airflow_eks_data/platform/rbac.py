"""RBAC of a tenant namespace: what Airflow needs to run Spark Operator jobs there, and what Spark's
driver needs to run its executors.

`SUBMITTER_RULES` and `EVIDENCE_RULES` are every API call the Spark Operator backend makes, and no
more (docs/security/spark-operator-role.yaml publishes the same rules; a test keeps them equal, and the
least-privilege tests run every path of the backend under them):

- `hooks/spark_operator.py` creates SparkApplications, gets one, lists them by label (finding a run
  after a worker died), deletes one (`on_kill`, timeouts); the triggers watch them
  (`list ... watch=True`) and list them in pages;
- the outcome evidence reads the driver pod (`read_namespaced_pod`: get), the events on it and on the
  application (`list_namespaced_event`: list) and the driver log (`pods/log`: get);
- cluster-wide, optionally, the driver's node (get) and the node's events (list across namespaces):
  without them those reads answer 403 and are left out of the evidence.
"""

from __future__ import annotations

from typing import Any

from airflow_eks_data.jobspec.cluster import RbacSubject
from airflow_eks_data.platform.model import metadata
from airflow_eks_data.render.spark_application import API_VERSION

SPARK_GROUP = API_VERSION.partition("/")[0]
RBAC_API = "rbac.authorization.k8s.io/v1"
RBAC_GROUP = RBAC_API.partition("/")[0]

SUBMITTER_ROLE = "airflow-spark-submitter"
EVIDENCE_ROLE = "airflow-spark-evidence"
DRIVER_ROLE = "spark-driver"

SUBMITTER_RULES: tuple[dict[str, Any], ...] = (
    {
        "apiGroups": [SPARK_GROUP],
        "resources": ["sparkapplications"],
        "verbs": ["get", "list", "watch", "create", "delete"],
    },
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
)
"""Airflow's identity in each tenant namespace (Role `airflow-spark-submitter`)."""

EVIDENCE_RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]},
)
"""Airflow's identity cluster-wide, optional (ClusterRole `airflow-spark-evidence`)."""

DRIVER_RULES: tuple[dict[str, Any], ...] = (
    {
        "apiGroups": [""],
        "resources": ["pods"],
        "verbs": ["get", "list", "watch", "create", "patch", "delete", "deletecollection"],
    },
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "create", "delete", "deletecollection"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "delete"]},
)
"""The tenant's service account, as Spark 3.x's driver uses it: it creates, watches (and polls), labels
and deletes its executor pods and creates the executors' ConfigMap; when the application ends it
removes both by label, and its own service (`spark.kubernetes.driver.service.deleteOnTermination`).
The operator submits with its own identity, so the driver's pod and service are not created with this."""

EBS_DRIVER_RULE: dict[str, Any] = {
    "apiGroups": [""],
    "resources": ["persistentvolumeclaims"],
    "verbs": ["get", "list", "create", "delete", "deletecollection"],
}
"""With EBS shuffle storage the driver also creates (and reuses, and deletes) one claim per executor."""


def role(name: str, namespace: str, rules: tuple[dict[str, Any], ...], labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": RBAC_API,
        "kind": "Role",
        "metadata": metadata(name, namespace, labels),
        "rules": _copy(rules),
    }


def role_binding(
    name: str, namespace: str, subjects: list[dict[str, Any]], labels: dict[str, str], role_kind: str = "Role"
) -> dict[str, Any]:
    return {
        "apiVersion": RBAC_API,
        "kind": "RoleBinding",
        "metadata": metadata(name, namespace, labels),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": name},
        "subjects": subjects,
    }


def evidence_objects(subjects: list[RbacSubject]) -> list[dict[str, Any]]:
    """The optional ClusterRole and its binding: the same for every tenant of a profile."""
    return [
        {
            "apiVersion": RBAC_API,
            "kind": "ClusterRole",
            "metadata": metadata(EVIDENCE_ROLE),
            "rules": _copy(EVIDENCE_RULES),
        },
        {
            "apiVersion": RBAC_API,
            "kind": "ClusterRoleBinding",
            "metadata": metadata(EVIDENCE_ROLE),
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": EVIDENCE_ROLE},
            "subjects": subject_list(subjects),
        },
    ]


def subject_list(subjects: list[RbacSubject]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for subject in subjects:
        if subject.kind == "ServiceAccount":
            out.append({"kind": "ServiceAccount", "name": subject.name, "namespace": subject.namespace})
        else:
            out.append({"apiGroup": RBAC_GROUP, "kind": subject.kind, "name": subject.name})
    return out


def _copy(rules: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [{key: list(value) for key, value in rule.items()} for rule in rules]
