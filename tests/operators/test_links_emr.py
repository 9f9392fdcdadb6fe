"""The EMR on EKS job run link: from the profile's template, in XCom while deferred and in the result."""

from __future__ import annotations

from pathlib import Path

from tests.emr.moto_emr import REGION, EmrMoto
from tests.operators.test_spark_on_eks_emr import COMPLETED, play, run_emr


def test_emr_job_run_link(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, airflow_home: Path, tmp_path: Path
) -> None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_eks_data.links.spark import EmrJobRunLink

    play(moto_server, [COMPLETED])
    result = run_emr(airflow_home, tmp_path, "emr_link", virtual_cluster, moto_server)
    out = result.xcom["spark"]
    expected = f"https://emr.example.com/{REGION}/virtual-clusters/{virtual_cluster}/jobs/{out['job_run_id']}"
    assert out["emr_job_run_url"] == expected
    assert out["spark_ui_url"] is None  # no live driver UI through EMR
    with create_session() as session:
        stored = session.scalar(
            select(XComModel.value).where(
                XComModel.dag_id == "emr_link",
                XComModel.run_id == result.run_id,
                XComModel.key == EmrJobRunLink().xcom_key,
            )
        )
    assert expected in str(stored)
