"""`airflow-eks-data`: render, validate and explain a job without a cluster, list profiles, and render the
cluster-side objects of a profile's tenants (`platform render`).

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
from airflow_eks_data.errors import Problem, SpecError
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

    platform_help = "Print the cluster-side objects a profile's tenants need (namespace, RBAC, quotas, NodePools)."
    platform = commands.add_parser("platform", help=platform_help, description=platform_help)
    platform.add_argument("action", choices=["render"], help="render the manifests (kubectl apply -f - reads them)")
    platform.add_argument("profile", metavar="PROFILE", help="profile name (in the profiles directory) or YAML path")
    platform.add_argument("--tenant", "-t", help="only this tenant (default: every tenant of the profile)")
    platform.add_argument(
        "--format", "-o", choices=["yaml", "json"], default="yaml", help="a YAML stream, or a JSON List"
    )
    platform.add_argument(
        "--karpenter-crds", metavar="DIR", help="also validate NodePool and EC2NodeClass against the CRDs in DIR"
    )
    platform.add_argument("--profiles-dir", help="directory of profiles (default: [eks_data] profiles_dir)")

    doctor_help = "Check the cluster and AWS against a profile: RBAC, CRD, NodePools, EMR virtual clusters and apps."
    doctor = commands.add_parser("doctor", help=doctor_help, description=doctor_help)
    doctor.add_argument("profile", metavar="PROFILE", help="profile name (in the profiles directory) or YAML path")
    doctor.add_argument("--tenant", "-t", help="only this tenant (default: every tenant of the profile)")
    doctor.add_argument("--kubernetes-conn-id", default="kubernetes_default", help="Airflow Kubernetes connection")
    doctor.add_argument("--aws-conn-id", default="aws_default", help="Airflow AWS connection")
    doctor.add_argument("--skip", choices=["kubernetes", "aws"], action="append", default=[], help="skip a service")
    doctor.add_argument("--profiles-dir", help="directory of profiles (default: [eks_data] profiles_dir)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 invalid input, 2 usage)."""
    stream = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        if args.command == "profiles":
            return _profiles(args, stream)
        if args.command == "platform":
            return _platform(args, stream)
        if args.command == "doctor":
            return _doctor(args, stream)
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


def _platform(args: argparse.Namespace, out: TextIO) -> int:
    """Render, then check every object (built-in kinds against the client's OpenAPI types, Karpenter's
    against their CRDs when given) before printing anything: a wrong object is never half-applied."""
    from airflow_eks_data.pipeline import load_profile
    from airflow_eks_data.platform import render_platform
    from airflow_eks_data.platform.output import json_list, yaml_stream
    from airflow_eks_data.validate.platform import platform_problems

    profile = load_profile(args.profile, _profiles_dir(args.profiles_dir))
    rendering = render_platform(profile, args.tenant)
    problems = platform_problems(rendering, args.karpenter_crds)
    if problems:
        raise SpecError(problems, source=f"platform render {profile.name}")
    if args.format == "json":
        for note in rendering.all_notes():
            print(f"note: {note}", file=sys.stderr)
        _dump(json_list(rendering), "json", out)
    else:
        out.write(yaml_stream(rendering))
    return 0


def _doctor(args: argparse.Namespace, out: TextIO) -> int:
    """One line per check, and exit 1 if any failed (for CI)."""
    from airflow_eks_data.hooks.cluster import diagnose
    from airflow_eks_data.pipeline import load_profile

    profile = load_profile(args.profile, _profiles_dir(args.profiles_dir))
    if args.tenant and args.tenant not in profile.tenants:
        known = ", ".join(sorted(profile.tenants))
        raise SpecError([Problem("--tenant", args.tenant, f"a tenant of profile {profile.name}: {known}")])
    tenants = [args.tenant] if args.tenant else sorted(profile.tenants)
    checks = diagnose(
        profile,
        tenants,
        kubernetes_conn_id=None if "kubernetes" in args.skip else args.kubernetes_conn_id,
        aws_conn_id=None if "aws" in args.skip else args.aws_conn_id,
    )
    for check in checks:
        print(check.line(), file=out)
    failed = sum(not check.ok for check in checks)
    print(f"{len(checks) - failed} passed, {failed} failed", file=out)
    return EXIT_INVALID if failed else 0


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
