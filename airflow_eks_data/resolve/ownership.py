"""Who owns a key: the platform, the tenant or the job author. The one place that decides it.

A job reaches Spark through many spellings: a `spark_conf` key in any case, a `hadoop_conf` key, a
`spark.yarn.*` alias, a `-D` in Java options, an environment variable, a typed field that renders to
a property. Each spelling is first turned into the key Spark will read (`canonical_keys`), and only
then is the owner asked, so a new spelling can't reach around a rule.

The platform owns whole namespaces (everything under `spark.kubernetes.` is the pod: namespace,
identity, images, templates, volumes, placement), and any key whose words are about identity or
trust (credentials, endpoints, signers, TLS, encryption, roles): keys Spark, Hadoop or a connector
adds next year land in one of those, not on a list someone forgot to extend. A tenant may go further
and allow only listed keys (allow-list mode); the platform lists what is safe tuning for it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from fnmatch import fnmatchcase


class Owner(str, Enum):
    PLATFORM = "platform"
    TENANT = "tenant"
    JOB = "job"


@dataclass(frozen=True)
class Claim:
    """Who owns a key, the rule a job breaks by setting it, and why in a few words."""

    owner: Owner
    rule: str
    why: str


JOB_OWNED = Claim(Owner.JOB, "", "")

# Namespaces the platform renders or relies on. Compared lower-case, as globs, after `canonical_keys`.
PLATFORM_NAMESPACES: tuple[tuple[str, str], ...] = (
    ("spark.kubernetes.*", "the pods: namespace, identity, images, templates, volumes, placement"),
    ("spark.master", "where the application runs"),
    ("spark.submit.*", "how the application is submitted"),
    ("spark.app.*", "the application's name and id"),
    ("spark.yarn.*", "YARN settings"),
    ("spark.emr-serverless.*", "EMR Serverless workers: disks, driver env, allocation"),
    ("spark.decommission.*", "graceful decommissioning"),
    ("spark.storage.decommission.*", "graceful decommissioning"),
    ("spark.executor.decommission.*", "graceful decommissioning"),
    ("spark.files.*", "file fetching during decommissioning"),
    ("spark.ssl.*", "TLS"),
    ("spark.authenticate*", "RPC authentication"),
    ("spark.network.crypto.*", "RPC encryption"),
    ("spark.io.encryption.*", "encryption"),
    ("spark.*acls*", "access control"),
    ("spark.redaction.*", "redaction of secrets in logs"),
    ("spark.sql.redaction.*", "redaction of secrets in logs"),
    ("spark.security.*", "credential providers"),
    ("spark.kerberos.*", "identity"),
    ("spark.user.*", "identity"),
    ("spark.eventlog.*", "event logs for the history server"),
    ("spark.history.*", "the history server"),
    ("spark.ui.*", "the Spark UI, its filters and proxy"),
    ("spark.metrics.*", "metrics sinks"),
    ("spark.driver.log.*", "log shipping"),
    ("spark.openlineage.*", "lineage"),
    ("spark.extralisteners", "listeners (lineage, observability)"),
    ("spark.sql.queryexecutionlisteners", "listeners (lineage, observability)"),
    ("spark.sql.streaming.streamingquerylisteners", "listeners (lineage, observability)"),
    ("spark.plugins*", "plugins loaded into every JVM"),
    ("spark.*.extraclasspath", "the JVM classpath"),
    ("spark.*.extralibrarypath", "native libraries"),
    ("spark.*.defaultjavaoptions", "the platform's JVM options"),
    ("spark.*.userclasspathfirst", "the JVM classpath"),
    ("spark.pyspark.*", "the Python interpreter"),
    ("spark.r.*", "the R interpreter"),
    ("spark.archives", "archives unpacked into every pod"),
    ("spark.jars*", "code fetched into every JVM"),
    ("spark.driver.resource.*", "extended resources (GPUs) no cap covers"),
    ("spark.executor.resource.*", "extended resources (GPUs) no cap covers"),
    ("spark.stage.ignoredecommissionfetchfailure", "graceful decommissioning"),
    ("spark.shuffle.mapoutput.minsizeforbroadcast", "graceful decommissioning"),
    ("spark.streaming.dynamicallocation.*", "executor counts no cap covers"),
    ("spark.sql.hive.metastore.jars*", "code fetched into every JVM"),
    ("spark.hadoop.fs.defaultfs", "the default file system"),
    ("spark.hadoop.hadoop.*", "Hadoop security and identity"),
)

# A key with one of these words is about identity or trust, whatever namespace it is in. Words are split
# on the key as written (`customAWSCredentialsProvider`), and a few stems count wherever they stand.
TRUST_STEMS = (
    "credential",
    "secret",
    "password",
    "passwd",
    "token",
    "accesskey",
    "accesspoint",
    "auth",
    "decommission",
)
TRUST_WORDS = frozenset(
    {
        "access",
        "acl",
        "acls",
        "agent",
        "assume",
        "assumed",
        "auth",
        "authenticate",
        "authentication",
        "authorization",
        "cacerts",
        "credential",
        "credentials",
        "delegation",
        "encryption",
        "endpoint",
        "endpoints",
        "impl",
        "keystore",
        "keytab",
        "kms",
        "passwd",
        "password",
        "principal",
        "proxy",
        "role",
        "secret",
        "secrets",
        "security",
        "signer",
        "signers",
        "signing",
        "ssl",
        "sts",
        "tls",
        "token",
        "truststore",
    }
)

# Keys a typed field renders; spelling them in spark_conf would skip the field's grammar and the caps.
TYPED_KEYS = {
    "spark.driver.cores": "driver.cores",
    "spark.driver.memory": "driver.memory",
    "spark.driver.memoryoverhead": "driver.memory_overhead",
    "spark.executor.cores": "executor.cores",
    "spark.executor.memory": "executor.memory",
    "spark.executor.memoryoverhead": "executor.memory_overhead",
    "spark.executor.instances": "executor.instances",
    "spark.dynamicallocation.enabled": "dynamic_allocation.enabled",
    "spark.dynamicallocation.minexecutors": "dynamic_allocation.min_executors",
    "spark.dynamicallocation.maxexecutors": "dynamic_allocation.max_executors",
    "spark.dynamicallocation.initialexecutors": "executor.instances",
    "spark.jars": "deps.jars",
    "spark.jars.packages": "deps.packages",
    "spark.jars.repositories": "deps.repositories",
    "spark.files": "deps.files",
    "spark.submit.pyfiles": "deps.py_files",
}
TYPED_PREFIXES = {f"spark.{p}.": "env" for p in ("kubernetes.driverenv", "emr-serverless.driverenv", "executorenv")}
FIELD_KEYS = {field: key for key, field in TYPED_KEYS.items() if field.startswith("deps.")}
"""The Spark key each dependency field renders to, so a lock on the key holds on the field."""

# Spark's and Hadoop's other names for the same settings (`SparkConf.configsWithAlternatives`, the YARN
# spellings, Hadoop's deprecated keys).
ALIASES = {
    "spark.unsafe.offheap": "spark.memory.offheap.enabled",
    "spark.hadoop.fs.default.name": "spark.hadoop.fs.defaultfs",
    "spark.yarn.executor.memoryoverhead": "spark.executor.memoryoverhead",
    "spark.yarn.driver.memoryoverhead": "spark.driver.memoryoverhead",
    "spark.yarn.dist.jars": "spark.jars",
    "spark.yarn.dist.files": "spark.files",
    "spark.yarn.dist.archives": "spark.archives",
}
JAVA_OPTION_KEYS = frozenset({"spark.driver.extrajavaoptions", "spark.executor.extrajavaoptions"})

_S3A = "spark.hadoop.fs.s3a."
_S3A_BUCKET = _S3A + "bucket."
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@functools.lru_cache(maxsize=8192)
def canonical_keys(key: str, hadoop: bool = False) -> tuple[str, ...]:
    """The keys Spark reads when a layer writes `key`: lower-cased, `spark.hadoop.` for Hadoop keys,
    aliases resolved, and every `fs.s3a.<option>` a per-bucket `fs.s3a.bucket.<bucket>.<option>`
    stands for (bucket names hold dots, so each split is a candidate)."""
    norm = key.strip().lower()
    if hadoop:
        norm = "spark.hadoop." + norm
    norm = ALIASES.get(norm, norm)
    if not norm.startswith(_S3A_BUCKET):
        return (norm,)
    parts = norm[len(_S3A_BUCKET) :].split(".")
    return (norm, *(_S3A + ".".join(parts[index:]) for index in range(1, len(parts))))


def key_words(key: str) -> set[str]:
    """`fs.s3a.aws.credentials.provider` -> {fs, s3a, aws, credentials, provider}; camelCase splits too."""
    return set(_WORD.findall(_CAMEL.sub(" ", key.strip()).lower()))


def conf_claim(
    key: str,
    hadoop: bool = False,
    locked: Iterable[tuple[str, Owner]] = (),
    allow: Iterable[str] | None = None,
) -> Claim:
    """The owner of a Spark or Hadoop key as a layer writes it. `locked` are the profile's and tenant's
    lock globs with their owner; `allow` the globs a tenant in allow-list mode admits."""
    fixed = _fixed_claim(key, hadoop)
    if fixed:
        return fixed
    names = canonical_keys(key, hadoop)
    lock = lock_claim(names, locked)
    if lock:
        return lock
    if allow is not None:
        patterns = [p.strip().lower() for p in allow]
        # Every reading must be allowed: a per-bucket key is the option of whichever bucket S3A resolves.
        if not all(any(fnmatchcase(name, p) for p in patterns) for name in names):
            return Claim(Owner.TENANT, "not-allowed", "the tenant allows only its listed keys (allow-list mode)")
    return JOB_OWNED


@functools.lru_cache(maxsize=4096)
def _fixed_claim(key: str, hadoop: bool) -> Claim | None:
    """What holds for a key whatever the profile says: typed fields, platform namespaces, trust words.
    Cached: every render asks again about each property, and keys repeat across jobs."""
    names = canonical_keys(key, hadoop)
    for name in names:
        typed = TYPED_KEYS.get(name) or next((f for p, f in TYPED_PREFIXES.items() if name.startswith(p)), None)
        if typed:
            return Claim(Owner.JOB, "typed-field", f"set {typed} instead")
    for name in names:
        namespace = next((why for pattern, why in PLATFORM_NAMESPACES if fnmatchcase(name, pattern)), None)
        if namespace:
            return Claim(Owner.PLATFORM, "platform-key", namespace)
    words = (key_words(key) | set().union(*(key_words(name) for name in names))) & TRUST_WORDS
    stems = {stem for stem in TRUST_STEMS for name in names if stem in name.replace("-", "").replace("_", "")}
    if words or stems:
        return Claim(Owner.PLATFORM, "platform-key", f"identity and trust ({', '.join(sorted(words | stems))})")
    return None


def lock_claim(names: Iterable[str], locked: Iterable[tuple[str, Owner]]) -> Claim | None:
    """The profile's or tenant's lock on any of `names` (canonical keys), if one holds."""
    for pattern, owner in locked:
        if any(fnmatchcase(name, pattern.strip().lower()) for name in names):
            layer = "profile" if owner is Owner.PLATFORM else "tenant"
            return Claim(owner, "locked-key", f"locked by the {layer} ({pattern})")
    return None


# --- Java options --------------------------------------------------------------------------------------
# What a job's JVM options may be: flag forms that tune the JVM, never ones that load code, run commands
# or read files of flags; `-D` only for system properties on the safe list (a `-Dspark.*` is a Spark key).
_JVM_FLAG = re.compile(r"^-XX:[+-][A-Za-z][A-Za-z0-9]*$")
_JVM_SETTING = re.compile(r"^-XX:(?P<name>[A-Za-z][A-Za-z0-9]*)=[A-Za-z0-9._:,%/+-]*$")
_JVM_OTHER = re.compile(
    r"^(-Xss[0-9]+[kKmMgG]?|-Xlog:[A-Za-z0-9_.,:=*+%/-]+|-verbose:(gc|class|jni)|-(ea|da|esa|dsa)(:[A-Za-z0-9_.$]+)?)$"
)
_JVM_PROPERTY = re.compile(r"^-D(?P<name>[A-Za-z0-9_.-]+)(=(?P<value>[A-Za-z0-9_.:/,+@%=-]*))?$")
_UNSAFE_XX = ("On", "Flags", "VMOptionsFile", "CompileCommandFile")
SAFE_SYSTEM_PROPERTIES = (
    "file.encoding",
    "user.timezone",
    "user.language",
    "user.country",
    "java.net.preferipv4stack",
    "java.net.preferipv6addresses",
    "io.netty.*",
)
JAVA_OPTIONS_RULE = "GC and JIT flags (-XX:...), -Xss, -Xlog, -verbose, and -D of safe system properties"


def java_option_problems(value: str, safe_properties: Iterable[str] = ()) -> list[str]:
    """Why each token of a JVM option string is not the job's to give (empty: all are)."""
    # Spark splits on any Unicode whitespace and reads quotes and backslashes its own way: a value only
    # means the same to it and to this check if it has none of them.
    odd = next((c for c in value if (c.isspace() and c not in " \t") or c in "\\'\""), None)
    if odd is not None:
        return [f"java-options: U+{ord(odd):04X} is not allowed: options are separated by spaces, without quotes"]
    tokens = value.split()
    safe = [*SAFE_SYSTEM_PROPERTIES, *(p.lower() for p in safe_properties)]
    problems = []
    for token in tokens:
        setting = _JVM_SETTING.match(token)
        if _JVM_FLAG.match(token) or _JVM_OTHER.match(token):
            continue
        if setting:
            if not setting["name"].startswith(_UNSAFE_XX):
                continue
            problems.append(f"java-options: {token.split('=')[0]} runs a command or reads a file of options")
            continue
        prop = _JVM_PROPERTY.match(token)
        if prop and prop["name"].lower().startswith("spark."):
            problems.append(f"java-options: {token} sets a Spark key: put it in spark_conf, where its owner is checked")
        elif prop and not any(fnmatchcase(prop["name"].lower(), pattern) for pattern in safe):
            problems.append(f"java-options: system property {prop['name']} is not one the platform lists as safe")
        elif not prop:
            problems.append(f"java-options: {token} is not one of: {JAVA_OPTIONS_RULE}")
    return problems


# --- environment variables -------------------------------------------------------------------------------
# Names that launch, locate or identify: the image's entrypoint, the JVM, Python, the dynamic linker,
# the AWS SDKs, Kubernetes clients, proxies and TLS trust. Compared upper-case.
PLATFORM_ENV = (
    "AWS_*",
    "AMAZON_*",
    "SPARK_*",
    "PYSPARK_*",
    "HADOOP_*",
    "HDFS_*",
    "YARN_*",
    "HIVE_*",
    "JAVA_*",
    "_JAVA_*",
    "JDK_*",
    "JVM_*",
    "CLASSPATH",
    "KUBERNETES_*",
    "KUBECONFIG",
    "LD_*",
    "DYLD_*",
    "PYTHON*",
    "PATH",
    "HOME",
    "USER",
    "SHELL",
    "HOSTNAME",
    "*PROXY",
    "SSL_*",
    "*_CA_BUNDLE",
    "CURL_*",
    "OPENLINEAGE_*",
    "AIRFLOW_*",
    "EMR_*",
    "KRB5*",
    "BASH_*",
    "BASHOPTS",
    "SHELLOPTS",
    "ENV",
    "PS4",
    "IFS",
    "GLIBC_*",
    "GCONV_PATH",
    "MALLOC_*",
    "OPENSSL_*",
    "SPARKR_*",
    "R_*",
    "NODE_OPTIONS",
    "PERL5*",
    "RUBY*",
)


def env_claim(name: str) -> Claim:
    upper = name.strip().upper()
    if any(fnmatchcase(upper, pattern) for pattern in PLATFORM_ENV):
        return Claim(Owner.PLATFORM, "platform-env", "launch, identity and trust settings come from the platform")
    return JOB_OWNED


# --- labels ----------------------------------------------------------------------------------------------
# Prefixes Kubernetes, EKS, Karpenter, Spark, the Spark Operator, EMR and this package select on.
_RESERVED_DOMAINS = (
    "kubernetes.io",
    "k8s.io",
    "x-k8s.io",
    "karpenter.sh",
    "karpenter.k8s.aws",
    "amazonaws.com",
    "volcano.sh",
    "yunikorn.apache.org",
)
_OPEN_PREFIXES = ("app.kubernetes.io",)
PACKAGE_PREFIX = "airflow-eks-data"


def label_claim(key: str) -> Claim:
    prefix, _, name = key.strip().lower().rpartition("/")
    reserved = Claim(Owner.PLATFORM, "reserved-label", "set and selected on by Kubernetes, Spark or the platform")
    if not prefix:
        return reserved if name.startswith("spark-") else JOB_OWNED
    if prefix in _OPEN_PREFIXES:
        return JOB_OWNED
    if prefix == PACKAGE_PREFIX or any(prefix == d or prefix.endswith("." + d) for d in _RESERVED_DOMAINS):
        return reserved
    return JOB_OWNED
