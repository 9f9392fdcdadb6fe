"""A consumer of the compacted lake: runs whenever `hourly_compaction` publishes an hour of `payments`.

`hourly_compaction` reports each table's hour as an event of the table's Asset; the event's extra says
which hour (`partition`), where it was written, and the manifest's files, bytes and rows.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Asset, get_current_context, task

PAYMENTS = Asset("s3://example-lake/compacted/payments")

with DAG("example_downstream_of_compaction", schedule=[PAYMENTS], start_date=datetime(2026, 1, 1), catchup=False):

    @task
    def report_new_hours() -> list[str]:
        """The hours this run was triggered for (a data-aware schedule can batch several events)."""
        events = get_current_context()["triggering_asset_events"][PAYMENTS]
        hours = [str(event.extra.get("partition")) for event in events]
        for event in events:
            print(f"{event.extra.get('location')}: {event.extra.get('rows')} rows in {event.extra.get('files')} files")
        return hours

    report_new_hours()
