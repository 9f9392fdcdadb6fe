"""What the platform sees of a run: dataset names shared with OpenLineage's Spark integration, per-attempt
usage read from the backend's evidence, and the cost estimate. Pure: no I/O, no Airflow import."""
