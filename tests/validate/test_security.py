from __future__ import annotations

from airflow_eks_data.validate.security import pod_security_problems


def test_forbidden_pod_settings_are_found_anywhere() -> None:
    document = {
        "spec": {
            "driver": {
                "template": {"spec": {"hostNetwork": True, "containers": [{"securityContext": {"privileged": True}}]}}
            },
            "volumes": [
                {"name": "root", "hostPath": {"path": "/"}},
                {"name": "ok", "hostPath": {"path": "/mnt/nvme"}},
            ],
            "sparkConf": {"spark.kubernetes.executor.volumes.hostPath.x.options.path": "/var/run"},
        }
    }
    rules = sorted(problem.rule.split(":")[0] for problem in pod_security_problems(document, ["/mnt/nvme"]))
    assert rules == ["no-host-network", "no-host-path", "no-host-path", "no-privileged"]


def test_clean_documents_pass() -> None:
    assert pod_security_problems({"spec": {"hostNetwork": False, "privileged": False}}, []) == []
