"""What Spark 4's own spark-submit parsers do with the argv shapes a renderer must get right: options end
at the primary resource (unless the main class is a shell's), a `--conf` value is one token whatever it
holds, and a main file that looks like an option is an option. One JVM serves the session
(`spark_submit_parser`); one test runs the command itself."""

from __future__ import annotations

import pytest

pytest.importorskip("pyspark")

from tests.security.spark_submit_parser import (
    MIXED_ARGUMENT_CLASSES,
    SparkSubmitParser,
    SubmitArguments,
    spark_submit_parser_fixture,  # noqa: F401
    verbose_parse,
)

pytestmark = pytest.mark.spark

MAIN = "/nonexistent/jobs/main.py"


def command(*args: str) -> list[str]:
    return ["spark-submit", *args]


def test_options_before_the_primary_resource_are_options(spark_submit_parser: SparkSubmitParser) -> None:
    parsed = spark_submit_parser.parse(
        command(
            "--master", "k8s://https://kube.example:443",
            "--deploy-mode", "cluster",
            "--name", "compact events",
            "--class", "org.example.Main",
            "--conf", "spark.kubernetes.namespace=tenant-a",
            "--conf", "spark.executor.instances=4",
            "--conf", "not.spark.key=dropped",
            "--driver-memory", "2g",
            "--jars", "s3a://bucket/a.jar,s3a://bucket/b.jar",
            "--files", "s3a://bucket/app.conf",
            "--py-files", "s3a://bucket/deps.zip",
            "--packages", "org.example:lib:1.0",
            "--repositories", "https://repo.example/maven",
            "--proxy-user", "tenant-a",
            MAIN,
            "arg1",
        )
    )  # fmt: skip

    assert parsed == SubmitArguments(
        primary_resource=f"file:{MAIN}",
        main_class="org.example.Main",
        name="compact events",
        master="k8s://https://kube.example:443",
        spark_properties={
            "spark.kubernetes.namespace": "tenant-a",
            "spark.executor.instances": "4",
            "spark.driver.memory": "2g",  # the launcher passes --driver-memory on as a --conf
        },
        jars="s3a://bucket/a.jar,s3a://bucket/b.jar",
        files="s3a://bucket/app.conf",
        py_files="s3a://bucket/deps.zip",
        packages="org.example:lib:1.0",
        repositories="https://repo.example/maven",
        child_args=["arg1"],
        options={"deployMode": "cluster", "driverMemory": "2g", "numExecutors": "4", "proxyUser": "tenant-a"},
    )


def test_everything_after_the_primary_resource_is_a_child_argument(spark_submit_parser: SparkSubmitParser) -> None:
    after = [
        "--conf", "spark.x=y",
        "--class", "evil.Main",
        "--master", "k8s://https://evil.example",
        "--conf=spark.kubernetes.namespace=other",
        "--bogus",
        "-v",
        "--",
        "",
    ]  # fmt: skip

    parsed = spark_submit_parser.parse(command("--name", "job", MAIN, *after))

    assert parsed == SubmitArguments(
        primary_resource=f"file:{MAIN}", name="job", master="local[*]", child_args=after, spark_properties={}
    )


@pytest.mark.parametrize(
    "value",
    [
        "has spaces",
        "k=v=w",
        "\"double\" and 'single' quotes",
        "--conf spark.kubernetes.namespace=other",
        "",
        "=",
        "line\nbreak\ttab",
        "$(id) `id` ${HOME} ; rm -rf /",
        "ünïcödé ✓",
    ],
)
def test_a_conf_value_is_one_token(spark_submit_parser: SparkSubmitParser, value: str) -> None:
    parsed = spark_submit_parser.parse(command("--conf", f"spark.app.note={value}", MAIN))

    assert parsed.error is None
    assert parsed.spark_properties == {"spark.app.note": value}
    assert parsed.child_args == []


def test_a_conf_without_equals_is_refused(spark_submit_parser: SparkSubmitParser) -> None:
    parsed = spark_submit_parser.parse(command("--conf", "spark.app.note", MAIN))

    assert parsed.error == "launcher: Invalid argument to --conf: spark.app.note"


def test_the_parser_and_the_verbose_command_agree(spark_submit_parser: SparkSubmitParser) -> None:
    argv = command(
        "--master", "local[2]",
        "--deploy-mode", "client",
        "--name", "compact events",
        "--conf", 'spark.app.note=a b="c" d=e',
        "--conf", "spark.executor.instances=1",
        "--conf", "spark.executor.instances=2",
        "--conf", "ignored.key=1",
        "--driver-memory", "1g",
        "--driver-java-options", "-Dx=1 -Dy=2",
        "--jars", "libs/a.jar,s3a://bucket/b.jar",
        "--files", "/etc/app.conf",
        "--py-files", "deps.zip",
        "--archives", "env.tar.gz#env",
        "--packages", "org.example:lib:1.0",
        "--repositories", "https://repo.example/maven",
        "--exclude-packages", "org.example:other",
        MAIN,
        "arg1",
        "--conf",
        "spark.x=y",
        "--class",
    )  # fmt: skip

    parsed = spark_submit_parser.parse(argv)
    printed = verbose_parse(argv, cwd=spark_submit_parser.cwd)

    assert parsed.error is None
    assert parsed.spark_properties == {
        "spark.app.note": 'a b="c" d=e',
        "spark.executor.instances": "2",
        "spark.driver.memory": "1g",
        "spark.driver.extraJavaOptions": "-Dx=1 -Dy=2",
    }
    assert parsed.child_args == ["arg1", "--conf", "spark.x=y", "--class"]
    assert parsed.jars == f"file:{spark_submit_parser.cwd}/libs/a.jar,s3a://bucket/b.jar"
    assert printed == parsed


def test_a_main_file_that_looks_like_a_conf_is_read_as_an_option(spark_submit_parser: SparkSubmitParser) -> None:
    """The attack: a renderer that places the job's main file unchecked before the job's arguments."""
    main_file = "--conf=spark.kubernetes.namespace=other"
    tenant = ("--master", "local[*]", "--conf", "spark.kubernetes.namespace=tenant-a")

    parsed = spark_submit_parser.parse(command(*tenant, main_file, "/jobs/real.py", "x"))

    assert parsed.spark_properties == {"spark.kubernetes.namespace": "other"}  # the later --conf wins
    assert parsed.primary_resource == "file:/jobs/real.py"  # the job's first argument became the main file
    assert parsed.child_args == ["x"]
    # With nothing after it, the option still parses, and then there is no application at all.
    assert spark_submit_parser.parse(command(*tenant, main_file)).error == "launcher: Missing application resource."
    # The same string after a real main file is only an argument.
    safe = spark_submit_parser.parse(command(*tenant, MAIN, main_file))
    assert safe.spark_properties == {"spark.kubernetes.namespace": "tenant-a"}
    assert safe.child_args == [main_file]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--bogus", MAIN], "launcher: Unrecognized option: --bogus"),
        (["--", MAIN], "launcher: Unrecognized option: --"),  # no end-of-options marker
        (["-", MAIN], "launcher: Unrecognized option: -"),
        (["--conf=", MAIN], "launcher: Unrecognized option: --conf="),
        (["--CONF", "spark.x=1", MAIN], "launcher: Unrecognized option: --CONF"),
        ([MAIN, "--conf"], None),  # after the resource nothing is an option, not even a dangling one
        (["--conf"], "launcher: Missing argument for option '--conf'."),
        (["--driver-java-options", "-Xmx4g", MAIN], "launcher: Not allowed to specify max heap(Xmx) memory settings"
         " through java options (was -Xmx4g). Use the corresponding --driver-memory or spark.driver.memory"
         " configuration instead."),
        (["--deploy-mode", "local", MAIN], 'SparkException: --deploy-mode must be either "client" or "cluster"'),
        (["--master", "yarn", MAIN], "SparkException: When running with master 'yarn' either HADOOP_CONF_DIR or"
         " YARN_CONF_DIR must be set in the environment."),
        ([], "SparkUserAppException: User application exited with -1"),
        (["--help", MAIN], "SparkUserAppException: User application exited with 0"),
    ],
)  # fmt: skip
def test_what_the_parser_refuses(spark_submit_parser: SparkSubmitParser, args: list[str], error: str | None) -> None:
    assert spark_submit_parser.parse(command(*args)).error == error


@pytest.mark.parametrize("main_class", sorted(MIXED_ARGUMENT_CLASSES))
def test_a_shell_main_class_lets_options_follow_the_primary_resource(
    spark_submit_parser: SparkSubmitParser, main_class: str
) -> None:
    """The launcher parses a shell's or server's arguments mixed with spark-submit's: with one of these
    classes, a job argument that looks like an option is one, and the main file becomes an argument."""
    parsed = spark_submit_parser.parse(
        command("--master", "local[*]", "--class", main_class, MAIN, "--conf=spark.kubernetes.namespace=other", "x")
    )

    assert parsed.error is None
    assert parsed.spark_properties == {"spark.kubernetes.namespace": "other"}
    assert parsed.primary_resource in {"spark-shell", "connect-shell", "spark-internal"}  # not MAIN
    assert parsed.child_args == [MAIN, "x"]


def test_the_launcher_rewrites_driver_options_as_conf(spark_submit_parser: SparkSubmitParser) -> None:
    """SparkSubmit does not receive the rendered argv: the launcher parses it first and writes its own."""
    args = spark_submit_parser.launcher_args(
        command("--name", "n", "--driver-memory", "1g", "--conf", "spark.x=1", "--conf", "spark.x=2", MAIN, "--conf")
    )

    assert args[-2:] == [MAIN, "--conf"]
    options = args[:-2]
    assert sorted(zip(options[::2], options[1::2], strict=True)) == [
        ("--conf", "spark.driver.memory=1g"),
        ("--conf", "spark.x=2"),
        ("--name", "n"),
    ]


def test_how_values_and_repeats_are_read(spark_submit_parser: SparkSubmitParser) -> None:
    """Surprises a renderer has to allow for: an option's value is the next token whatever it looks like,
    `--opt=value` is the same option, a switch swallows `=anything`, and the last repeat wins silently."""
    parse = spark_submit_parser.parse

    assert parse(command("--name", "--conf", MAIN)).name == "--conf"
    assert parse(command("--name=a=b", MAIN)).name == "a=b"
    assert parse(command("-c", "spark.x=1", MAIN)).spark_properties == {"spark.x": "1"}
    assert parse(command("--supervise=no", MAIN)).options == {"supervise": "true"}
    repeated = parse(command("--class", "a.A", "--class", "b.B", "--conf", "spark.x=1", "--conf", "spark.x=2", MAIN))
    assert (repeated.main_class, repeated.spark_properties) == ("b.B", {"spark.x": "2"})
    assert parse(command("--conf", "=v", "--conf", "other=v", MAIN)).spark_properties == {}
