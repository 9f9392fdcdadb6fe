"""`platform render` output: a multi-document YAML stream with its notes as comments, or a JSON `List`."""

from __future__ import annotations

from typing import Any

import yaml

from airflow_eks_data.platform.model import PlatformRendering


def yaml_stream(rendering: PlatformRendering) -> str:
    """`kubectl apply -f -` reads it; the notes a person must act on lead their document as comments."""
    head = [f"# airflow-eks-data platform render: profile {rendering.profile}, tenants {', '.join(rendering.tenants)}"]
    head += [f"# note: {note}" for note in rendering.notes]
    parts = ["\n".join(head) + "\n"]
    for manifest in rendering.manifests:
        comments = "".join(f"# note: {note}\n" for note in manifest.notes)
        parts.append("---\n" + comments + yaml.dump(manifest.body, Dumper=_Dumper, sort_keys=False, width=120))
    return "".join(parts)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (a ConfigMap's embedded file) as `|` blocks, readable as the file itself."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _string)


def json_list(rendering: PlatformRendering) -> dict[str, Any]:
    """A `v1` `List` of every object (JSON has no comments: the CLI prints the notes on stderr)."""
    return {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": rendering.documents()}
