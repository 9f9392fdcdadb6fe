"""Which values of a job are credentials, so that nothing this package prints or stores shows them.

A value is secret when its key names a credential (`fs.s3a.secret.key`, `AWS_SESSION_TOKEN`,
`spark.ssl.keyPassword`) or when it is shaped like an AWS credential whatever its key. Pure (no
Airflow import): the CLI masks its output with it, and `utils/secret_masker.py` hands what it finds to
Airflow's secret masker, adding Airflow's own sensitive key names through `name_test`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_eks_data.resolve.resolved import ResolvedJob

NameTest = Callable[[str], bool]
MASK = "***"
MIN_LENGTH = 5
"""Shorter values are masked only where their key names them (Airflow's `min_length_masked_secret`)."""

# Spark, Hadoop and environment spellings of credential keys, compared as Airflow compares names
# (lower case, non-word runs as `_`); camelCase spellings (`accessKey`, `keyPassword`) included. The CLI
# cannot import Airflow, so this is the rule there; under Airflow, `utils/secret_masker.py` adds Airflow's own
# list and `[core] sensitive_var_conn_names`.
SENSITIVE_NAME_PARTS = (
    "secret",
    "password",
    "passwd",
    "passphrase",
    "token",
    "access_key",
    "accesskey",
    "private_key",
    "privatekey",
    "api_key",
    "apikey",
    "account_key",
    "authorization",
)

RENDERER_TOKENS = frozenset({"clientToken"})
"""Keys the renderers write that match a credential name but hold an idempotency token."""

# Access key ids start with a four-letter type prefix (AKIA long-term, ASIA temporary, ...).
_ACCESS_KEY_ID = re.compile(
    r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}(?![A-Z0-9])"
)
# Secret keys are 40 base64 characters; session tokens are hundreds.
_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_SESSION_TOKEN = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{100,}={0,2}(?![A-Za-z0-9/+=])")
# `--password=x`, `fs.s3a.secret.key=x` inside one string (arguments, `--conf` pairs).
_ASSIGNMENT = re.compile(r"^-{0,2}([^=\s]+)=(.+)$", re.DOTALL)
_OPTION = re.compile(r"^--?[A-Za-z][\w.\-]*$")


@dataclass(frozen=True)
class Secret:
    """One value to hide: where it was found, the text itself, and why it counts as a secret."""

    path: str
    value: str
    why: str


def is_sensitive_name(name: str) -> bool:
    """True for a key that names a credential."""
    normalized = re.sub(r"\W+", "_", name.strip().lower())
    return any(part in normalized for part in SENSITIVE_NAME_PARTS)


def is_sensitive_rendered_key(name: str) -> bool:
    """`is_sensitive_name` for keys and paths of a rendered document, whose own idempotency tokens are not secret."""
    return name.rsplit(".", 1)[-1] not in RENDERER_TOKENS and is_sensitive_name(name)


def shaped_secrets(text: str) -> list[tuple[str, str]]:
    """(substring, kind) for every part of `text` shaped like an AWS access key id, secret key or session token."""
    found = [(m.group(), "AWS access key id") for m in _ACCESS_KEY_ID.finditer(text)]
    for pattern, kind in ((_SECRET_KEY, "AWS secret access key"), (_SESSION_TOKEN, "AWS session token")):
        found += [(m.group(), kind) for m in pattern.finditer(text) if _random_looking(m.group())]
    return found


def _random_looking(text: str) -> bool:
    """Base64 of random bytes mixes cases and digits; hex digests, paths and words do not."""
    return any(c.isupper() for c in text) and any(c.islower() for c in text) and any(c.isdigit() for c in text)


def find_secrets(data: Any, name_test: NameTest = is_sensitive_name, path: str = "") -> list[Secret]:
    """Secrets anywhere in a raw job or profile mapping (or any JSON-like value): every string under a
    key `name_test` accepts, and every AWS-credential-shaped part of any other string.

    YAML aliases share and even nest containers (`&a [*a]`): each container is walked once per
    sensitivity, so neither a cycle nor a billion-laughs document makes this loop or blow up.
    """
    found: list[Secret] = []
    _walk(data, path, name_test, False, found, set())
    return _unique(found)


def job_secrets(job: ResolvedJob, name_test: NameTest = is_sensitive_name) -> list[Secret]:
    """Secrets of a resolved job: what its profile, tenant and job layers put into what gets rendered."""
    fields = {
        "spark_conf": job.spark_conf,
        "hadoop_conf": job.hadoop_conf,
        "env": job.env,
        "arguments": job.arguments,
        "labels": job.labels,
        "main_application_file": job.main_application_file,
        "deps": job.deps.model_dump(),
        "inputs": job.inputs,
        "outputs": job.outputs,
    }
    return find_secrets(fields, name_test)


def _walk(
    node: Any, path: str, name_test: NameTest, sensitive: bool, found: list[Secret], seen: set[tuple[int, bool]]
) -> None:
    if isinstance(node, Mapping | list | tuple):
        if (id(node), sensitive) in seen:
            return
        seen.add((id(node), sensitive))
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            hide = sensitive or (isinstance(key, str) and _safe_test(name_test, key))
            _walk(value, here, name_test, hide, found, seen)
    elif isinstance(node, list | tuple):
        previous: Any = None
        for index, item in enumerate(node):
            # `["--password", "x"]`: an option naming a credential makes the next item one.
            option = isinstance(previous, str) and _OPTION.match(previous) and _safe_test(name_test, previous)
            _walk(item, f"{path}[{index}]", name_test, sensitive or bool(option), found, seen)
            previous = item
    elif isinstance(node, str):
        assigned = _ASSIGNMENT.match(node)
        if sensitive and node:
            found.append(Secret(path, node, "key name"))
        elif assigned and _safe_test(name_test, assigned.group(1)):
            found.append(Secret(path, assigned.group(2), "key name"))
        else:
            found += [Secret(path, value, kind) for value, kind in shaped_secrets(node)]
    elif sensitive and isinstance(node, int | float) and not isinstance(node, bool):
        text = _number_text(node)
        if text:
            found.append(Secret(path, text, "key name"))


def _number_text(number: float) -> str | None:
    """How a number under a credential key is rendered (YAML `password: 12345678`), if it can be."""
    try:
        return str(number)
    except ValueError:  # more digits than Python converts: too long to be anyone's password
        return None


def _safe_test(name_test: NameTest, name: str) -> bool:
    try:
        return bool(name_test(name))
    except Exception:  # a foreign predicate must not turn masking into a crash: hide rather than show
        return True


def _unique(found: list[Secret]) -> list[Secret]:
    seen: set[str] = set()
    out = []
    for secret in found:
        if secret.value not in seen:
            seen.add(secret.value)
            out.append(secret)
    return out


def mask_text(text: str, values: Iterable[str], replacement: str = MASK) -> str:
    """`text` with every occurrence of each value of at least `MIN_LENGTH` characters replaced (longest
    first, so no part of one survives); shorter ones would mask unrelated text, as in Airflow."""
    for value in sorted({v for v in values if len(v) >= MIN_LENGTH}, key=len, reverse=True):
        text = text.replace(value, replacement)
    return text


def redact(
    document: Any, values: Iterable[str] = (), name_test: NameTest = is_sensitive_name, replacement: str = MASK
) -> Any:
    """A copy of a JSON-like document where values under credential keys are masked whole, and `values`
    and credential-shaped text are masked in every other string."""
    return _redact(document, [*values], name_test, replacement)


def masked_value(path: str, value: Any, values: Iterable[str] = (), name_test: NameTest = is_sensitive_name) -> Any:
    """`value` as a message may show it: masked whole when `path` names a credential, else redacted."""
    if path and name_test(path) and value not in (None, ""):
        return MASK
    return redact(value, [*values, *(s.value for s in find_secrets(value, name_test))], name_test)


def _redact(
    node: Any,
    values: list[str],
    name_test: NameTest,
    replacement: str,
    hide: bool = False,
    memo: dict[tuple[int, bool], Any] | None = None,
) -> Any:
    """Containers are copied once per sensitivity and the copies shared as the originals were, so
    aliases stay linear and cycles stay cycles."""
    memo = {} if memo is None else memo
    if isinstance(node, Mapping | list | tuple):
        key = (id(node), hide)
        if key in memo:
            return memo[key]
        if isinstance(node, Mapping):
            out: dict[Any, Any] = memo.setdefault(key, {})
            for name, value in node.items():
                sensitive = hide or (isinstance(name, str) and _safe_test(name_test, name))
                copied = _redact(value, values, name_test, replacement, sensitive, memo)
                out[_redact(name, values, name_test, replacement, False, memo)] = copied
            return out
        items: list[Any] = memo.setdefault(key, [])
        items.extend(_redact(item, values, name_test, replacement, hide, memo) for item in node)
        if isinstance(node, tuple):
            memo[key] = tuple(items)
        return memo[key]
    if hide and isinstance(node, str | int | float) and not isinstance(node, bool) and node != "":
        return replacement
    if isinstance(node, str):
        return mask_text(node, [*values, *(found for found, _ in shaped_secrets(node))], replacement)
    if isinstance(node, int | float) and not isinstance(node, bool) and values and _number_text(node) in values:
        return replacement  # a number found as a credential elsewhere (`password: 123456`) is one here too
    return node


def mask_shapes(text: str) -> str:
    """`text` with its AWS-credential-shaped parts masked."""
    return mask_text(text, [found for found, _ in shaped_secrets(text)])
