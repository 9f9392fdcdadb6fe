"""`SparkJob`: what a data engineer writes. It says what the job needs, never how a cluster runs it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from airflow_eks_data.jobspec.fields import (
    DatasetUri,
    JavaName,
    MavenCoordinate,
    RepositoryUrl,
    StrictModel,
    StringList,
    Uri,
)
from airflow_eks_data.jobspec.names import DNS_LABEL, DNS_LABEL_RULE, MAX_JOB_NAME, is_templated
from airflow_eks_data.jobspec.settings import JobSettings, LocalStorageKind

SparkType = Literal["Scala", "Java", "Python", "R"]
_TYPE_BY_SUFFIX: dict[str, SparkType] = {".py": "Python", ".r": "R", ".jar": "Scala"}


class Deps(StrictModel):
    jars: list[Uri] = Field(default_factory=list, description="Extra jars on the classpath (URIs).")
    py_files: list[Uri] = Field(default_factory=list, description="`.py`, `.zip` or `.egg` files for Python jobs.")
    files: list[Uri] = Field(default_factory=list, description="Files placed in each pod's working directory.")
    packages: list[MavenCoordinate] = Field(
        default_factory=list, description="Maven coordinates (`group:artifact:version`)."
    )
    repositories: list[RepositoryUrl] = Field(
        default_factory=list, description="Extra Maven repositories (`https://` URLs) to resolve `packages` from."
    )


class SparkJob(JobSettings):
    """A Spark job as its engineer declares it. Load it with `SparkJob.from_yaml(path)` or from a dict."""

    name: str = Field(description="Job name: a DNS label of at most 63 characters; application names derive from it.")
    tenant: str | None = Field(None, description="Tenant of the profile this job runs as.")
    type: SparkType | None = Field(
        None, description="Scala, Java, Python or R; inferred from the main file's suffix when omitted."
    )
    main_application_file: Uri = Field(
        description="The jar, `.py` or `.R` file: `s3://`, `s3a://`, `local://` (in the image), `https://` where the "
        "tenant allows it, or a local path / `file://` on the local backend."
    )
    main_class: JavaName | None = Field(None, description="Entry class for Scala and Java jobs.")
    arguments: StringList = Field(
        default_factory=list, description="Arguments passed to the main file: free text, after the main file."
    )
    local_storage: LocalStorageKind | None = Field(
        None, description="Where shuffle and spill go: the node's NVMe, an EBS volume, or the pod's disk."
    )
    deps: Deps = Field(default_factory=Deps, description="Extra jars, files, Python files and packages.")
    inputs: list[DatasetUri] = Field(default_factory=list, description="Dataset URIs read, for lineage.")
    outputs: list[DatasetUri] = Field(default_factory=list, description="Dataset URIs written, for lineage and Assets.")

    free_text: ClassVar[frozenset[str]] = frozenset({"arguments"})

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if len(value) > MAX_JOB_NAME:
            raise ValueError(f"at most {MAX_JOB_NAME} characters (got {len(value)})")
        if not DNS_LABEL.match(value):
            raise ValueError(DNS_LABEL_RULE)
        return value

    @model_validator(mode="after")
    def _type_and_class(self) -> SparkJob:
        if self.type is None and is_templated(self.main_application_file):
            return self  # inferred when Airflow has rendered the file, and the job is validated again
        inferred = _TYPE_BY_SUFFIX.get(Path(self.main_application_file).suffix.lower())
        if self.type is not None and inferred in ("Python", "R") and self.type != inferred:
            # spark-submit runs a `.py` or `.R` file as Python or R whatever the type says (and sizes it so).
            raise ValueError(f"type: a {Path(self.main_application_file).suffix} main file runs as {inferred}")
        if self.type is None:
            if inferred is None:
                raise ValueError(
                    "main_application_file: cannot infer the type from this suffix; give type: Scala, Java, Python or R"
                )
            object.__setattr__(self, "type", inferred)
        if self.type in ("Scala", "Java") and not self.main_class:
            raise ValueError(f"main_class: required for {self.type} jobs")
        return self
