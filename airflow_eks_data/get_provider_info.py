"""Provider metadata Airflow reads through the `apache_airflow_provider` entry point.

This is the one place that lists what the package registers; a test checks it against the modules.
"""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    from airflow_eks_data import __version__

    return {
        "package-name": "airflow-eks-data",
        "name": "EKS Data (Spark on Amazon EKS)",
        "description": "Run Spark on Amazon EKS and EMR Serverless: typed jobs, platform profiles, four targets.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Spark on Amazon EKS",
                "external-doc-url": "https://github.com/kubeflow/spark-operator",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Spark on Amazon EKS",
                "python-modules": [
                    "airflow_eks_data.hooks.spark_operator",
                    "airflow_eks_data.hooks.emr_on_eks",
                    "airflow_eks_data.hooks.emr_serverless",
                    "airflow_eks_data.hooks.aws_api",
                    "airflow_eks_data.hooks.local_spark",
                    "airflow_eks_data.hooks.cluster",
                ],
            },
        ],
        "operators": [
            {"integration-name": "Spark on Amazon EKS", "python-modules": ["airflow_eks_data.operators.spark_on_eks"]},
        ],
        "sensors": [
            {
                "integration-name": "Spark on Amazon EKS",
                "python-modules": [
                    "airflow_eks_data.sensors.spark_application",
                    "airflow_eks_data.sensors.emr_job_run",
                    "airflow_eks_data.sensors.emr_serverless_job_run",
                    "airflow_eks_data.sensors.job_run",
                ],
            },
        ],
        "triggers": [
            {
                "integration-name": "Spark on Amazon EKS",
                "python-modules": [
                    "airflow_eks_data.triggers.spark_application",
                    "airflow_eks_data.triggers.emr_job_run",
                    "airflow_eks_data.triggers.emr_serverless_job_run",
                    "airflow_eks_data.triggers.polled_job_run",
                    "airflow_eks_data.triggers.resubmit",
                    "airflow_eks_data.triggers.spark_submit",
                ],
            },
        ],
        "extra-links": [
            "airflow_eks_data.links.spark.SparkUiLink",
            "airflow_eks_data.links.spark.SparkHistoryLink",
            "airflow_eks_data.links.spark.EmrJobRunLink",
        ],
        "config": {
            "eks_data": {
                "description": "Settings of the airflow-eks-data provider.",
                "options": {
                    "profiles_dir": {
                        "description": "Directory holding platform profiles (`<name>.yaml`), found by name.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "/opt/airflow/eks-data/profiles",
                        "default": None,
                    },
                    "default_profile": {
                        "description": "Profile used by operators that do not name one.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "compaction",
                        "default": None,
                    },
                    "trusted_profiles_only": {
                        "description": "Accept only profile names found in `profiles_dir`: a profile object "
                        "or path from a DAG could map a tenant to another team's namespace and identity.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "True",
                        "default": "False",
                    },
                },
            }
        },
    }
