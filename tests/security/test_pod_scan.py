"""The last scan of rendered output: host ports and added capabilities join the privileged and host
namespace settings it refuses, wherever in the document they appear."""

from __future__ import annotations

from airflow_eks_data.validate.security import pod_security_problems


def test_host_ports_and_capabilities_are_refused() -> None:
    container = {
        "name": "spark-kubernetes-driver",
        "ports": [{"containerPort": 4040, "hostPort": 4040}],
        "securityContext": {"capabilities": {"add": ["SYS_ADMIN"], "drop": ["ALL"]}},
    }
    document = {"podTemplates": {"s3://b/driver.yaml": {"spec": {"containers": [container]}}}}
    problems = pod_security_problems(document, [])
    assert sorted(p.rule.split(":")[0] for p in problems) == ["no-capabilities", "no-host-port"]
    assert any(p.path.endswith("capabilities.add") for p in problems)


def test_dropping_capabilities_and_unset_host_ports_pass() -> None:
    container = {
        "ports": [{"containerPort": 4040, "hostPort": 0}],
        "securityContext": {"capabilities": {"drop": ["ALL"]}},
    }
    assert pod_security_problems({"spec": {"containers": [container]}}, []) == []
