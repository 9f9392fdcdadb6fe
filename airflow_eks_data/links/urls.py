"""A run's link URLs from the profile's templates (pure: backends fill them, `links.spark` shows them)."""

from __future__ import annotations

from typing import Any


def link_urls(templates: dict[str, str | None], **fields: Any) -> dict[str, str | None]:
    """Format the profile's URL templates (`{namespace}`, `{name}`, `{app_id}`, `{region}`); unset ones stay None."""
    return {key: template.format(**fields) if template else None for key, template in templates.items()}


def result_links(urls: dict[str, str | None]) -> dict[str, str | None]:
    """The links as the XCom result names them (`spark_ui_url`, ...); None for what the backend has not."""
    return {f"{field}_url": urls.get(field) for field in ("spark_ui", "history", "emr_job_run")}
