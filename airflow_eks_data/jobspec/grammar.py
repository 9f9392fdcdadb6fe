"""The grammar of every string that reaches a command line, a request or a manifest.

A deny-list of dangerous values can't keep up with spark-submit's options, so each kind of string
says what it may be: a URI with an allowed scheme, a Java binary name, a Maven coordinate, an OCI image
reference. Anything else is refused, so no value a job author writes can become an option or a
second argument. Pure (no I/O): the models call these as validators.
"""

from __future__ import annotations

import re
import unicodedata

from airflow_eks_data.jobspec.names import is_templated

SCHEMES = ("s3", "s3a", "local", "file", "https")
"""URI schemes a main file or a dependency may have; `file` is for the local backend only and
`https` for tenants that allow it (checked when the job is resolved for a backend)."""

_URI = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>[^\s,]*)$")
# A relative path needs a file suffix: spark-submit reads bare words such as `spark-shell`,
# `pyspark-shell-main` or `spark-internal` in the main file's place as its own commands.
_LOCAL_PATH = re.compile(r"^(/[^\s,]*|[A-Za-z0-9_.][^\s,:]*\.[A-Za-z0-9]+)$")
_JAVA_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$")
_MAVEN_PART = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_MAVEN = re.compile(rf"^{_MAVEN_PART}:{_MAVEN_PART}:[A-Za-z0-9_][A-Za-z0-9_.\-+]*$")
_REPOSITORY = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+;=:@/-]*)?$")
_SPARK_VERSION = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?([-+.][A-Za-z0-9.-]+)?$")
# The OCI distribution reference grammar: [registry[:port]/]path[:tag][@digest].
_OCI_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_OCI_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_OCI_DOMAIN = rf"{_OCI_LABEL}(?:\.{_OCI_LABEL})*(?::[0-9]+)?"
_OCI = re.compile(
    rf"^(?:{_OCI_DOMAIN}/)?{_OCI_COMPONENT}(?:/{_OCI_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
_FREE_TEXT_CONTROLS = {"\t", "\n", "\r"}

_SCHEME_LIST = ", ".join(s + "://" for s in SCHEMES)
_URI_TEXT = f"a URI with scheme {_SCHEME_LIST} (or a local path with a file suffix), no spaces or commas"
URI_RULE = f"uri: {_URI_TEXT}"
JAVA_NAME_RULE = "java-class: a Java binary class name, e.g. com.example.Main or com.example.Outer$Inner"
MAVEN_RULE = "maven: a Maven coordinate group:artifact:version"
REPOSITORY_RULE = "repository: an https:// URL without credentials, spaces or commas"
IMAGE_RULE = "image-ref: an OCI image reference: [registry/]repository[:tag][@digest], lowercase repository"
SPARK_VERSION_RULE = "spark-version: a Spark version such as 3.5.1"


def control_character(text: str, free_text: bool = False) -> str | None:
    """The first character no process, properties file or log line should receive, or None.

    NUL ends a C string, a newline starts a new `key=value` line in `spark-defaults.conf`, and bidi
    overrides make a log line read other than it runs. Free text (a program's own arguments) may hold
    tabs and line breaks.
    """
    for char in text:
        if free_text and char in _FREE_TEXT_CONTROLS:
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return char
    return None


def uri_problem(value: str) -> str | None:
    """Why `value` is not a main file or dependency URI, or None. Templated values pass when their literal
    start is a valid beginning; they are checked again once Airflow has rendered them."""
    if value.startswith("-"):
        return f"uri: must not start with '-' (it would be read as an option); {_URI_TEXT}"
    if is_templated(value):
        literal = value[: value.index("{{")]
        if "://" in literal:
            return uri_problem(literal.split("://")[0] + "://x")
        start_ok = not literal or literal.startswith("/") or re.fullmatch(r"[a-z0-9+.-]+:?/*", literal)
        return None if start_ok else URI_RULE
    if _LOCAL_PATH.match(value):
        return _dot_segments(value)
    match = _URI.match(value)
    if not match:
        return URI_RULE
    if match["scheme"] not in SCHEMES:
        return f"uri: scheme {match['scheme']}:// is not allowed; {_URI_TEXT}"
    if not match["rest"]:
        return URI_RULE
    return _dot_segments(match["rest"])


def _dot_segments(path: str) -> str | None:
    """Hadoop's `Path` normalises `..`, so `s3://lake/mine/../theirs` would leave a data prefix."""
    decoded = path.replace("%2e", ".").replace("%2E", ".")
    if any(part in (".", "..") for part in decoded.split("/")):
        return "uri: no '.' or '..' path segments"
    return None


def uri_scheme(value: str) -> str:
    """`s3`, `local`, ...; `file` for an absolute path."""
    match = _URI.match(value)
    return match["scheme"] if match else "file"


SPARK_CLASSES = "org.apache.spark."
"""Spark's own entry points (the shells, the SQL CLI, the Thrift and Connect servers) make spark-submit
parse options after the main file again; examples are the one part of it a job may run."""


def java_name_problem(value: str) -> str | None:
    if is_templated(value):
        return None
    if not _JAVA_NAME.match(value):
        return JAVA_NAME_RULE
    if value.startswith(SPARK_CLASSES) and not value.startswith(SPARK_CLASSES + "examples."):
        return "java-class: Spark's own entry points are not jobs (they re-open spark-submit's options)"
    return None


def maven_problem(value: str) -> str | None:
    return None if _MAVEN.match(value) else MAVEN_RULE


def repository_problem(value: str) -> str | None:
    return None if _REPOSITORY.match(value) else REPOSITORY_RULE


def image_problem(value: str) -> str | None:
    if is_templated(value):
        return None
    return None if len(value) <= 4096 and _OCI.match(value) else IMAGE_RULE


def spark_version_problem(value: str) -> str | None:
    return None if is_templated(value) or _SPARK_VERSION.match(value) else SPARK_VERSION_RULE


_DATASET = re.compile(r"^([a-z][a-z0-9+.-]*://[^\s,]+|/[^\s,]*)$")
_DATASET_TEXT = "a dataset URI (scheme://...) or an absolute path, without spaces or commas"
DATASET_RULE = f"uri: {_DATASET_TEXT}"


def dataset_uri_problem(value: str) -> str | None:
    """Inputs and outputs name data for lineage and prefixes; any scheme, but never an option."""
    if value.startswith("-"):
        return f"uri: must not start with '-'; {_DATASET_TEXT}"
    if is_templated(value):
        return None
    if not _DATASET.match(value):
        return DATASET_RULE
    return _dot_segments(value.split("://", 1)[-1])
