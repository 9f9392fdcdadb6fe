"""Ask the real spark-submit argument parsers how they read an argv, without running a job.

A rendered command is only safe if spark-submit reads every job-author string where the renderer put it
(an application argument, the value of the option that carries it), never as an option of its own.
Re-implementing Spark's parsing to check that would test our reading of Spark, not Spark. The command
parses twice: `bin/spark-submit` first runs the launcher (`org.apache.spark.launcher.Main`, whose
SparkSubmitCommandBuilder parses the argv, may refuse it, and writes a new argv for the JVM it starts:
`--driver-memory` becomes `--conf spark.driver.memory=...`, and for a few main classes options after the
primary resource still count), then `org.apache.spark.deploy.SparkSubmit` parses that new argv with
SparkSubmitArguments. `SparkSubmitParser` runs both, from the installed pyspark, in one JVM reached over
py4j (a start of a few seconds, then ~15 ms a parse); `verbose_parse` runs the command itself, so a test can show
that the two agree.

Neither reads a Spark defaults file nor the caller's Spark environment, so a result depends on the argv
and the working directory alone: relative paths resolve against the directory the JVM runs in
(`SparkSubmitParser.cwd`), as they do for the command.

Tests get one parser per session from the `spark_submit_parser` fixture, after
`from tests.security.spark_submit_parser import spark_submit_parser_fixture  # noqa: F401`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, cast

import pytest

PROGRAM = "spark-submit"
_SUBMIT_CLASS = "org.apache.spark.deploy.SparkSubmit"
_BUILDER_CLASS = "org.apache.spark.launcher.SparkSubmitCommandBuilder"
# Main classes for which the launcher lets options follow the primary resource (a shell or a server takes
# its own arguments mixed with spark-submit's), from SparkSubmitCommandBuilder.specialClasses in Spark 4.
MIXED_ARGUMENT_CLASSES = frozenset(
    {
        "org.apache.spark.repl.Main",
        "org.apache.spark.sql.application.ConnectRepl",
        "org.apache.spark.sql.hive.thriftserver.SparkSQLCLIDriver",
        "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
    }
)

# The "Parsed arguments:" fields of SparkSubmitArguments.toString that `SubmitArguments.options` holds,
# with the getter that reads each (the fields with a dataclass attribute of their own are left out).
_OPTION_GETTERS: tuple[tuple[str, str], ...] = (
    ("deployMode", "deployMode"),
    ("executorMemory", "executorMemory"),
    ("executorCores", "executorCores"),
    ("totalExecutorCores", "totalExecutorCores"),
    ("propertiesFile", "propertiesFile"),
    ("driverMemory", "driverMemory"),
    ("driverCores", "driverCores"),
    ("driverExtraClassPath", "driverExtraClassPath"),
    ("driverExtraLibraryPath", "driverExtraLibraryPath"),
    ("driverExtraJavaOptions", "driverExtraJavaOptions"),
    ("supervise", "supervise"),
    ("queue", "queue"),
    ("numExecutors", "numExecutors"),
    ("archives", "archives"),
    ("packagesExclusions", "packagesExclusions"),
)
# Set by the parser but absent from the `--verbose` printout, so only `SparkSubmitParser` reports them.
NOT_PRINTED_OPTIONS = frozenset({"proxyUser", "principal", "keytab", "action"})
_NOT_PRINTED_GETTERS: tuple[tuple[str, str], ...] = (
    ("proxyUser", "proxyUser"),
    ("principal", "principal"),
    ("keytab", "keytab"),
)

_QUIET_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %m%n%ex
"""
# `--verbose` prints the parse through SparkSubmit's logger at INFO: keep that one logger, bare.
_VERBOSE_LOG4J = _QUIET_LOG4J + "logger.submit.name = org.apache.spark.deploy.SparkSubmit\nlogger.submit.level = info\n"


@dataclass(frozen=True)
class SubmitArguments:
    """How spark-submit read one argv: the fields of Spark's SparkSubmitArguments after it parsed what the
    launcher passed on, exactly as Spark holds them (paths resolved to URIs, lists as Spark's
    comma-separated strings, `None` for what was not given), or `error` and nothing else when either
    parser refused the argv ("launcher: <message>" as the command prints it after "Error: ", or
    "<exception class>: <message>" from SparkSubmitArguments).

    `spark_properties` are the `--conf` pairs that survived (keys not starting with "spark." are dropped,
    a repeated key keeps its last value) plus what the launcher turned into `--conf`: `--driver-memory`,
    `--driver-java-options`, `--driver-library-path`, `--driver-class-path`. `options` holds every other
    option field that is set, under the name the `--verbose` printout gives it ("deployMode",
    "numExecutors", ...; a switch such as `--supervise` as "true"; some filled in from
    `spark_properties`), plus `NOT_PRINTED_OPTIONS` from SparkSubmitParser only.
    """

    primary_resource: str | None = None
    main_class: str | None = None
    name: str | None = None
    master: str | None = None
    spark_properties: dict[str, str] = field(default_factory=dict)
    jars: str | None = None
    files: str | None = None
    py_files: str | None = None
    packages: str | None = None
    repositories: str | None = None
    child_args: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def spark_home() -> Path:
    """The installed pyspark, which is a Spark distribution: the jars and `bin/spark-submit` both paths
    use (an inherited SPARK_HOME could point at another Spark)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def strip_program(argv: Sequence[str]) -> list[str]:
    """The arguments of a rendered command, which must start with the spark-submit program."""
    if not argv or Path(argv[0]).name != PROGRAM:
        raise ValueError(f"expected a command starting with {PROGRAM!r}, got {list(argv[:1])!r}")
    return _checked(argv[1:])


def _checked(args: Sequence[str]) -> list[str]:
    """`args` as a list, refused if no exec could pass them: a NUL ends a C string, and an argv that is
    not valid UTF-8 text cannot be sent to the JVM."""
    for arg in args:
        if "\0" in arg:
            raise ValueError(f"an argv cannot hold a NUL character: {arg!r}")
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"not valid UTF-8 text: {arg!r}") from exc
    return list(args)


def _strings(scala: Any, cc: Any) -> list[str]:
    """A Scala collection of strings in two calls rather than one a string; one a string only if some
    string holds a NUL (none from the argv can: `_checked`; a properties file's can)."""
    size = scala.size()
    strings: list[str] = scala.mkString("\0").split("\0") if size else []
    if len(strings) != size:
        strings = list(cc.asJava(scala.toList()))
    return strings


def _properties(scala: Any, cc: Any) -> dict[str, str]:
    """A Scala map of strings in a few calls: one map's keys and values iterate in the same order."""
    return dict(zip(_strings(scala.keys(), cc), _strings(scala.values(), cc), strict=True))


def _thrown(thrown: Any) -> str:
    """A Java exception as "<simple class name>: <message>", as the command's stack trace starts."""
    return f"{thrown.getClass().getSimpleName()}: {thrown.getMessage()}"


class _Refused(Exception):
    """The launcher refused the argv; the message is what the command prints."""


class SparkSubmitParser:
    """One JVM, started once, that reads many argvs with Spark's own two parsers, as the command does
    (one thread at a time).

    The launcher's SparkSubmitCommandBuilder builds the command `bin/spark-submit` would exec (its
    argv for SparkSubmit is taken from it; nothing is executed), then SparkSubmitArguments is constructed
    on that argv: it parses, merges defaults, reads the environment and validates, and nothing more (the
    command prepares and runs the application only after it), so nothing runs here. Spark 4 reports a
    refusal by throwing (the launcher IllegalArgumentException; SparkSubmitArguments SparkException,
    IllegalArgumentException for a missing option value, SparkUserAppException for --help and an empty
    argv) rather than exiting, so the JVM survives every refusal and `error` carries the message.

    `env` is the environment SparkSubmitArguments sees (default: none, so no SPARK_CONF_DIR or
    SPARK_HOME defaults file and no MASTER, SPARK_DRIVER_MEMORY, HADOOP_CONF_DIR... fallbacks); the
    launcher reads the JVM's own environment, which is the caller's without its SPARK_*, PYSPARK_*,
    HADOOP_CONF_DIR and YARN_CONF_DIR variables. `cwd` is where relative paths resolve (default: the
    current directory).
    """

    def __init__(self, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self.cwd = (cwd or Path.cwd()).resolve()
        self._tmp = tempfile.TemporaryDirectory(prefix="spark-submit-parser-")
        tmp = Path(self._tmp.name)
        conf_dir = _conf_dir(tmp, _QUIET_LOG4J)
        self._log_path = tmp / "jvm.log"
        self._log: IO[bytes] = self._log_path.open("wb")
        self._gateway: Any = None
        try:
            self._gateway = _launch_gateway(conf_dir, self.cwd, self._log)
        except Exception as exc:
            message = f"the py4j JVM did not start; its output:\n{self._log_tail()}"
            self.close()
            raise RuntimeError(message) from exc
        gateway = self._gateway
        jvm = gateway.jvm
        self._jvm = jvm
        self._cc = jvm.scala.jdk.javaapi.CollectionConverters
        immutable_map = getattr(getattr(jvm.scala.collection.immutable, "Map$"), "MODULE$")
        self._env = getattr(immutable_map, "from")(self._cc.asScala(dict(env or {})))
        # Every `jvm.a.b.C` is a lookup in the JVM: resolve the classes once.
        self._submit_arguments = jvm.org.apache.spark.deploy.SparkSubmitArguments
        self._array_seq = jvm.scala.collection.immutable.ArraySeq
        self._array_list = jvm.java.util.ArrayList
        self._hash_map = jvm.java.util.HashMap
        self._nul = jvm.java.util.regex.Pattern.compile("\0")
        self._call = gateway.new_array(jvm.java.lang.Object, 1)  # reflection's argument array, reused
        # The builder and its buildCommand are package-private: reach them by reflection.
        builder = jvm.java.lang.Class.forName(_BUILDER_CLASS)
        self._new_builder = builder.getDeclaredConstructor(self._classes("java.util.List"))
        self._new_builder.setAccessible(True)
        self._build_command = builder.getMethod("buildCommand", self._classes("java.util.Map"))
        self._build_command.setAccessible(True)

    def _classes(self, *names: str) -> Any:
        array = self._gateway.new_array(self._jvm.java.lang.Class, len(names))
        for index, name in enumerate(names):
            array[index] = self._jvm.java.lang.Class.forName(name)
        return array

    def parse(self, argv: Sequence[str]) -> SubmitArguments:
        """How spark-submit reads a rendered command (`argv[0]` the spark-submit program)."""
        return self.parse_args(strip_program(argv))

    def parse_args(self, args: Sequence[str]) -> SubmitArguments:
        """How spark-submit reads its arguments (the command without the program)."""
        from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]

        try:
            submit_args = self._launch(_checked(args))
        except _Refused as refused:
            return SubmitArguments(error=f"launcher: {refused}")
        try:
            parsed = self._submit_arguments(self._cc.asScala(submit_args).toList(), self._env)
        except Py4JJavaError as exc:
            return SubmitArguments(error=_thrown(exc.java_exception))
        return self._read(parsed)

    def launcher_args(self, argv: Sequence[str]) -> list[str]:
        """The argv the launcher passes to SparkSubmit for a rendered command; ValueError if it refuses."""
        try:
            return list(self._launch(strip_program(argv)))
        except _Refused as refused:
            raise ValueError(f"launcher: {refused}") from None

    def _launch(self, args: list[str]) -> Any:
        """SparkSubmit's argv (a java.util.List) in the command the launcher builds for `args`."""
        from py4j.protocol import Py4JJavaError

        if args:  # one string over the socket, not a call per argument
            java_args = self._cc.asJava(self._array_seq.unsafeWrapArray(self._nul.split("\0".join(args), -1)))
        else:
            java_args = self._array_list()
        call = self._call
        call[0] = java_args
        try:
            builder = self._new_builder.newInstance(call)
            call[0] = self._hash_map()  # the environment it would add to the child's
            command = self._build_command.invoke(builder, call)
        except Py4JJavaError as exc:  # an InvocationTargetException around what the launcher threw
            thrown = exc.java_exception.getCause() or exc.java_exception
            if thrown.getClass().getName() == "java.lang.IllegalArgumentException":
                raise _Refused(thrown.getMessage()) from None  # Main prints "Error: <message>"
            raise _Refused(_thrown(thrown)) from None
        start = command.indexOf(_SUBMIT_CLASS)
        if start < 0:
            raise _Refused(f"the command runs {command.get(0)}, not {_SUBMIT_CLASS}")
        return command.subList(start + 1, command.size())

    def _read(self, parsed: Any) -> SubmitArguments:
        options: dict[str, str] = {}
        for label, getter in (*_OPTION_GETTERS, *_NOT_PRINTED_GETTERS):
            value = getattr(parsed, getter)()
            if value is not None and value is not False:
                options[label] = "true" if value is True else str(value)
        remote = parsed.maybeRemote()
        if remote.isDefined():
            options["remote"] = remote.get()
        extra_files = parsed.extraPropertiesFiles().mkString(",")
        if extra_files:
            options["extraPropertiesFiles"] = extra_files
        action = parsed.action().toString()
        if action != "SUBMIT":
            options["action"] = action
        return SubmitArguments(
            primary_resource=parsed.primaryResource(),
            main_class=parsed.mainClass(),
            name=parsed.name(),
            master=parsed.master(),
            spark_properties=_properties(parsed.sparkProperties(), self._cc),
            jars=parsed.jars(),
            files=parsed.files(),
            py_files=parsed.pyFiles(),
            packages=parsed.packages(),
            repositories=parsed.repositories(),
            child_args=_strings(parsed.childArgs(), self._cc),
            options=options,
        )

    def _log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        """Stop the JVM (it exits when its stdin closes) and remove its files; safe to call twice."""
        gateway, self._gateway = self._gateway, None
        if gateway is not None:
            proc: subprocess.Popen[bytes] | None = gateway.proc
            gateway.shutdown()
            if proc is not None:
                if proc.stdin is not None:
                    proc.stdin.close()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._log.close()
        self._tmp.cleanup()

    def __enter__(self) -> SparkSubmitParser:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@pytest.fixture(scope="session", name="spark_submit_parser")
def spark_submit_parser_fixture() -> Iterator[SparkSubmitParser]:
    """One parser for the session, so the JVM start is paid once. Named apart from the fixture so that
    a test module can import it without its parameters shadowing the import (ruff F811)."""
    pytest.importorskip("pyspark")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("no Java: spark-submit's parser runs in a JVM")
    with SparkSubmitParser() as parser:
        yield parser


def _conf_dir(tmp: Path, log4j: str) -> Path:
    """A SPARK_CONF_DIR with a log4j configuration and nothing else: no spark-defaults.conf, no
    spark-env.sh."""
    conf = tmp / "conf"
    conf.mkdir()
    (conf / "log4j2.properties").write_text(log4j)
    return conf


@contextmanager
def _environ(changes: Mapping[str, str | None]) -> Iterator[None]:
    """os.environ with `changes` applied (None removes), restored after: pyspark's launch_gateway reads
    the process environment and takes no environment of its own."""
    saved = {key: os.environ.get(key) for key in changes}
    try:
        for key, value in changes.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _launch_gateway(conf_dir: Path, cwd: Path, log: IO[bytes]) -> Any:
    """pyspark's py4j gateway: a JVM with Spark's classpath (started through spark-submit, which runs
    PythonGatewayServer) and no SparkContext."""
    from pyspark.java_gateway import launch_gateway

    # The launcher reads the JVM's environment: leave none of the caller's Spark settings in it.
    changes: dict[str, str | None] = {
        key: None
        for key in os.environ
        if key.startswith(("SPARK_", "PYSPARK_")) or key in {"HADOOP_CONF_DIR", "YARN_CONF_DIR"}
    }
    changes |= {
        "SPARK_HOME": str(spark_home()),
        "SPARK_CONF_DIR": str(conf_dir),
        "PYSPARK_SUBMIT_ARGS": "pyspark-shell",  # and no PYSPARK_GATEWAY_PORT: that would reuse another JVM
        "SPARK_LOCAL_IP": "127.0.0.1",
        "LC_ALL": "C.UTF-8",
    }
    launch = cast(Callable[..., Any], launch_gateway)
    with _environ(changes):
        return launch(popen_kwargs={"cwd": str(cwd), "stdout": log, "stderr": subprocess.STDOUT})


def verbose_parse(argv: Sequence[str], *, cwd: Path | None = None, timeout: float = 120) -> SubmitArguments:
    """How the `spark-submit --verbose` command reads a rendered command, from what it prints: the
    cross-check that SparkSubmitParser asks the same parsers the command uses.

    The command runs from `cwd` in a scrubbed environment (no defaults file, an empty home, no
    KUBECONFIG) and is killed as soon as its parse printout is complete, before it prepares or submits
    anything; still, give it a primary resource that does not exist and a master that can do no harm.
    `--verbose` goes first, so the launcher's first-argument special cases (pyspark-shell-main,
    run-example, ...) cannot be seen here. The printout is lossy where SparkSubmitParser is not:
    secret-like property values are redacted, child arguments are printed joined by spaces (exact only
    if none holds a space or is empty), a value printed as "null" reads as None, and
    NOT_PRINTED_OPTIONS are not printed at all. A refused argv gives `error` as SparkSubmitParser words
    it, read from the "Error: ..." line or the exception the command dies of.
    """
    args = strip_program(argv)
    with tempfile.TemporaryDirectory(prefix="spark-submit-verbose-") as tmp_name:
        tmp = Path(tmp_name)
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "SPARK_HOME": str(spark_home()),
            "SPARK_CONF_DIR": str(_conf_dir(tmp, _VERBOSE_LOG4J)),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "LC_ALL": "C.UTF-8",  # the JVM decodes argv and encodes its output by the locale
            "HOME": str(tmp),
            "KUBECONFIG": str(tmp / "no-kubeconfig"),
            "SPARK_SUBMIT_OPTS": f"-Duser.home={tmp}",  # where Java looks for ~/.kube, ~/.ivy2
        }
        if "JAVA_HOME" in os.environ:
            env["JAVA_HOME"] = os.environ["JAVA_HOME"]
        command = [str(spark_home() / "bin" / PROGRAM), "--verbose", *args]
        proc = subprocess.Popen(
            command,
            cwd=cwd or Path.cwd(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # its own process group, so the kill reaches what it started
        )
        timer = threading.Timer(timeout, _kill_group, (proc,))
        timer.start()
        lines: list[str] = []
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                lines.append(line.rstrip("\n"))
                if _printout_complete(lines):
                    break
        finally:
            timer.cancel()
            _kill_group(proc)
            proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
    return _read_printout(lines, proc.returncode)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


_PARSED = "Parsed arguments:"
_PROPERTIES = "Spark properties used, including those specified through"
_LABEL = re.compile(r"  ([A-Za-z]+) +")
_VALUE_COLUMN = 26  # toString pads every "  label" to this column


def _printout_complete(lines: Sequence[str]) -> bool:
    """The property list ends at the first blank line after its two-line header."""
    try:
        start = lines.index(_PROPERTIES) + 2
    except ValueError:
        return False
    return any(not line.strip() for line in lines[start:])


_DIED = re.compile(r'Exception in thread "main" (?:[\w$]+\.)*([\w$]+): (.*)')


def _printed_error(lines: Sequence[str], returncode: int | None) -> str:
    """Why the command printed no parse, worded as SparkSubmitParser words it."""
    for index, line in enumerate(lines):
        if line == "Error: Could not create the Java Virtual Machine.":  # java itself, not the launcher
            return f"java: {lines[index - 1] if index else line}"
        if line.startswith("Error: "):
            return f"launcher: {line.removeprefix('Error: ')}"
        if died := _DIED.match(line):
            thrower = next((frame for frame in lines[index + 1 :] if frame.startswith("\tat ")), "")
            where = "launcher: " if thrower.startswith("\tat org.apache.spark.launcher.") else ""
            return f"{where}{died.group(1)}: {died.group(2)}"
    tail = "\n".join(lines[-20:])
    return f"no parse printed (exit {returncode}):\n{tail}"


def _read_printout(lines: Sequence[str], returncode: int | None) -> SubmitArguments:
    if _PARSED not in lines or not _printout_complete(lines):
        return SubmitArguments(error=_printed_error(lines, returncode))
    fields: dict[str, str] = {}
    last = ""
    for line in lines[lines.index(_PARSED) + 1 : lines.index(_PROPERTIES)]:
        label = _LABEL.match(line)
        if label and len(line) >= _VALUE_COLUMN and label.end() >= _VALUE_COLUMN:
            last = label.group(1)
            fields[last] = line[_VALUE_COLUMN:]
        elif last:  # a value with a line break goes on on the next line
            fields[last] += "\n" + line
    properties: dict[str, str] = {}
    entries: list[str] = []
    start = lines.index(_PROPERTIES) + 2
    for line in lines[start:]:
        if not line.strip():
            break
        if line.startswith("  (") or not entries:
            entries.append(line.removeprefix("  ("))
        else:
            entries[-1] += "\n" + line
    for entry in entries:
        key, _, value = entry.removesuffix(")").partition(",")
        properties[key] = value

    def get(label: str) -> str | None:
        value = fields.get(label)
        return None if value == "null" else value

    child = fields.get("childArgs", "[]")[1:-1]
    options = {
        label: value
        for label, value in ((label, get(label)) for label, _ in _OPTION_GETTERS)
        if value is not None and value != "false"
    }
    if remote := get("remote"):
        options["remote"] = remote
    if extra := fields.get("extraPropertiesFiles", "[]")[1:-1]:
        options["extraPropertiesFiles"] = extra
    return SubmitArguments(
        primary_resource=get("primaryResource"),
        main_class=get("mainClass"),
        name=get("name"),
        master=get("master"),
        spark_properties=properties,
        jars=get("jars"),
        files=get("files"),
        py_files=get("pyFiles"),
        packages=get("packages"),
        repositories=get("repositories"),
        child_args=child.split(" ") if child else [],
        options=options,
    )
