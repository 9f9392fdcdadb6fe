"""`airflow-eks-data`: render, validate and explain a job without a cluster, and list profiles.

Runs without importing Airflow unless a profile has to be found through Airflow's own config file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from airflow_eks_data.backends.registry import names
from airflow_eks_data.errors import SpecError
from airflow_eks_data.targets import DASHED

EXIT_INVALID = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airflow-eks-data",
        description="Render, validate and explain Spark jobs for EKS without a cluster.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def job_command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("job", metavar="JOB", help="SparkJob YAML file")
        sub.add_argument("--profile", "-p", required=True, help="profile name (in the profiles directory) or YAML path")
        sub.add_argument("--tenant", "-t", help="tenant, when the job does not name one")
        sub.add_argument(
            "--target",
            choices=[*names(), *DASHED],
            metavar="{" + ",".join(names()) + "}",
            help="what to render for (default: the profile's backend)",
        )
        sub.add_argument("--profiles-dir", help="directory of profiles (default: [eks_data] profiles_dir)")
        return sub

    render = job_command("render", "Print what would be submitted.")
    render.add_argument("-o", "--output", choices=["yaml", "json"], default="yaml", help="output format")
    validate = job_command("validate", "Check a job: exit 0 if valid, 1 with one line per problem.")
    validate.add_argument("--crd", help="SparkApplication CRD YAML to validate the manifest against")
    job_command("explain", "Show every rendered value and the layer (profile, tenant, job) that set it.")

    profiles = commands.add_parser(
        "profiles", help="List or show platform profiles.", description="List or show profiles."
    )
    profiles.add_argument("action", choices=["list", "show"], help="list all profiles, or show one")
    profiles.add_argument("name", nargs="?", help="profile to show")
    profiles.add_argument("--profiles-dir", help="directory of profiles (default: [eks_data] profiles_dir)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 invalid input, 2 usage)."""
    stream = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        if args.command == "profiles":
            return _profiles(args, stream)
        return _job_command(args, stream)
    except BrokenPipeError:
        # `... | head` closed the pipe: not an error; keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except SpecError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr if args.command != "validate" else stream)
        return EXIT_INVALID


def _job_command(args: argparse.Namespace, out: TextIO) -> int:
    from airflow_eks_data.masking import is_sensitive_rendered_key, job_secrets, masked_value, redact
    from airflow_eks_data.pipeline import load_job, load_profile, prepare
    from airflow_eks_data.render import explain

    directory = _profiles_dir(args.profiles_dir)
    job = load_job(Path(args.job))
    profile = load_profile(args.profile, directory)
    crd = getattr(args, "crd", None)
    target = args.target
    if target in DASHED:
        target = DASHED[target].value
        print(f"note: --target {args.target} is deprecated: write --target {target}", file=sys.stderr)
    prepared = prepare(job, profile, target=target, tenant=args.tenant, crd=crd)
    if args.command == "validate":
        print(
            f"{args.job}: valid for {prepared.target} (profile {profile.name}, tenant {prepared.job.tenant_name})",
            file=out,
        )
        return 0
    # Credentials in the job or its profile are masked: the output is for people, pipes and CI logs.
    secrets = [secret.value for secret in job_secrets(prepared.job)]
    if args.command == "render":
        _dump(redact(prepared.document, secrets, is_sensitive_rendered_key), args.output, out)
    else:
        rows = explain(prepared.job, prepared.target)
        width = min(max((len(path) for path, _, _ in rows), default=0), 72)
        for path, value, origin in rows:
            shown = masked_value(path, value, secrets, is_sensitive_rendered_key)
            print(f"{path:<{width}}  {_short(shown)}  <- {origin}", file=out)
    return 0


def _profiles(args: argparse.Namespace, out: TextIO) -> int:
    from airflow_eks_data.jobspec.loading import list_profile_files
    from airflow_eks_data.pipeline import load_profile

    directory = _profiles_dir(args.profiles_dir)
    if args.action == "show":
        if not args.name:
            print("profiles show: give a profile name", file=sys.stderr)
            return 2
        from airflow_eks_data.masking import find_secrets, redact

        profile = load_profile(args.name, directory)
        shown = profile.model_dump(mode="json", exclude_defaults=True)
        _dump(redact(shown, [secret.value for secret in find_secrets(shown)]), "yaml", out)
        return 0
    if directory is None:
        print("no profiles directory: pass --profiles-dir or set [eks_data] profiles_dir", file=sys.stderr)
        return EXIT_INVALID
    code = 0
    for path in list_profile_files(directory):
        try:
            profile = load_profile(path)
        except SpecError as exc:
            # One broken profile must not hide the others.
            print(*exc.lines(), sep="\n", file=sys.stderr)
            code = EXIT_INVALID
            continue
        tenants = ", ".join(sorted(profile.tenants)) or "-"
        print(
            f"{profile.name:<20} {profile.backend:<15} tenants: {tenants}  {profile.description or ''}".rstrip(),
            file=out,
        )
    return code


def _profiles_dir(explicit: str | None) -> Path | None:
    from airflow_eks_data.jobspec.loading import profiles_dir

    return profiles_dir(explicit)


def _dump(document: Any, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(document, out, indent=2)
        out.write("\n")
    else:
        yaml.safe_dump(document, out, sort_keys=False, width=120)


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


if __name__ == "__main__":
    sys.exit(main())
