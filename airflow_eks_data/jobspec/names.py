"""Kubernetes names and labels: what is valid, and how to shorten a name without losing uniqueness."""

from __future__ import annotations

import hashlib
import re

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_RULE = "lowercase letters, digits and '-', starting and ending with a letter or digit"
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

MAX_JOB_NAME = 63
# Spark refuses an executor pod name prefix longer than 47 characters, and the operator derives the
# prefix, the driver pod (`<name>-driver`) and the UI service (`<name>-ui-svc`) from the application name.
MAX_APP_NAME = 47


def is_templated(value: object) -> bool:
    """True for a string Airflow will render at run time; such values are checked after templating."""
    return isinstance(value, str) and "{{" in value


def shorten(name: str, limit: int) -> str:
    """`name` itself when it fits, else a prefix plus a stable 8-character hash of the whole name."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def to_dns_label(text: str, limit: int = MAX_APP_NAME) -> str:
    """A valid DNS-1123 label derived from arbitrary text (Airflow ids contain `_`, `.`, `:` and `+`)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "app"
    if not cleaned[0].isalpha():
        cleaned = f"a-{cleaned}"
    return shorten(re.sub(r"-{2,}", "-", cleaned), limit)


def label_key_problem(key: str) -> str | None:
    """Why `key` is not a valid Kubernetes label key, or None."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
        return "label key prefix must be a DNS subdomain (lowercase, '.', '-')"
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return "label key name must be 1-63 characters of letters, digits, '-', '_' or '.'"
    return None


def label_value_problem(value: str) -> str | None:
    """Why `value` is not a valid Kubernetes label value, or None (templated values pass until run time)."""
    if is_templated(value) or value == "":
        return None
    if len(value) > 63 or not _LABEL_NAME.match(value):
        return "label value must be at most 63 characters of letters, digits, '-', '_' or '.'"
    return None


def to_label_value(text: str) -> str:
    """A valid label value from an Airflow id (`run_id`s carry `:` and `+`); long ids keep a hash."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-_.")
    return shorten(cleaned, 63).strip("-_.") if cleaned else "none"


def task_key(dag_id: str, task_id: str, run_id: str, map_index: int) -> str:
    """A label-safe digest of one task instance, whatever characters its ids contain."""
    return hashlib.sha256(f"{dag_id}\x00{task_id}\x00{run_id}\x00{map_index}".encode()).hexdigest()[:20]


def attempt_name(job_name: str, key: str, try_number: int, attempt: int) -> str:
    """The application name of one attempt: the same inputs always give the same name, so a worker
    that dies after submitting finds its application instead of creating a second one."""
    return to_dns_label(f"{job_name[:24]}-{key[:10]}-{try_number}-{attempt}")
