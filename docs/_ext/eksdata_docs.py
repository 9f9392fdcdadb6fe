"""Sphinx directives that generate reference pages from the code, so nothing is written twice.

``eksdata-model``: one table per model (and per nested model) from the pydantic JSON schema.
``eksdata-cli``: the help of every CLI command from the argparse parser.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class ModelDirective(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module_name, _, class_name = self.arguments[0].rpartition(".")
        model = getattr(importlib.import_module(module_name), class_name)
        schema = model.model_json_schema(mode="validation")
        definitions = {class_name: schema, **schema.get("$defs", {})}
        lines: list[str] = []
        for name in _ordered(class_name, definitions):
            definition = definitions[name]
            if "properties" not in definition:
                continue
            lines += [f".. rubric:: {name}", f"   :name: model-{name.lower()}", ""]
            if definition.get("description"):
                lines += [_one_line(definition["description"]), ""]
            lines += [".. list-table::", "   :header-rows: 1", "   :widths: 20 25 15 40", ""]
            lines += ["   * - Key", "     - Type", "     - Default", "     - Meaning"]
            required = set(definition.get("required", []))
            for key, field in definition["properties"].items():
                default = "required" if key in required else _default(field)
                lines += [
                    f"   * - ``{key}``",
                    f"     - {_type(field)}",
                    f"     - {default}",
                    f"     - {_one_line(field.get('description', ''))}",
                ]
            lines.append("")
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="eksdata-model"), self.content_offset, container)
        return container.children


def _ordered(root: str, definitions: dict[str, Any]) -> list[str]:
    """The root model first, then nested models in the order fields first mention them."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in definitions:
            return
        order.append(name)
        for ref in _refs(definitions[name]):
            visit(ref)

    visit(root)
    return order


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else []
        for key, value in node.items():
            if key != "$defs":
                found += _refs(value)
        return found
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _type(field: dict[str, Any]) -> str:
    if "$ref" in field:
        name = field["$ref"].rsplit("/", 1)[-1]
        return f":ref:`{name} <model-{name.lower()}>`"
    if "anyOf" in field:
        return " or ".join(_type(option) for option in field["anyOf"] if option.get("type") != "null")
    if "enum" in field:
        return " | ".join(f"``{value}``" for value in field["enum"])
    if "const" in field:
        return f"``{field['const']}``"
    kind = field.get("type", "any")
    if kind == "array":
        return f"list of {_type(field.get('items', {}))}"
    if kind == "object":
        values = field.get("additionalProperties")
        return f"map of string to {_type(values)}" if isinstance(values, dict) else "mapping"
    return str(kind)


def _default(field: dict[str, Any]) -> str:
    if "default" not in field or field["default"] is None:
        return ""
    value = field["default"]
    return f"``{json.dumps(value)}``" if value not in ([], {}) else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


class CliDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        from airflow_eks_data.cli import build_parser

        parser = build_parser()
        sections: list[nodes.Node] = [nodes.literal_block(text=parser.format_help())]
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, sub in subparsers.choices.items():
            title = nodes.rubric(text=f"airflow-eks-data {name}")
            sections += [title, nodes.literal_block(text=sub.format_help())]
        return sections


class RenderDirective(SphinxDirective):
    """``eksdata-render JOB PROFILE TARGET``: the document the CLI prints, rendered at build time."""

    required_arguments = 3

    def run(self) -> list[nodes.Node]:
        import yaml

        from airflow_eks_data.pipeline import prepare
        from airflow_eks_data.render import render

        root = Path(self.env.srcdir).parent
        job, profile, target = self.arguments
        prepared = prepare(root / job, root / profile, target=target)
        text = yaml.safe_dump(render(prepared.job, prepared.target), sort_keys=False, width=120)
        block = nodes.literal_block(text=text)
        block["language"] = "yaml"
        return [block]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("eksdata-model", ModelDirective)
    app.add_directive("eksdata-render", RenderDirective)
    app.add_directive("eksdata-cli", CliDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
