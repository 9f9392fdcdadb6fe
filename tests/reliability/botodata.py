"""Share botocore's loaded data between sessions for the duration of a campaign.

botocore reads its data (the endpoint rules, each service's model: megabytes of JSON, and a walk of
its data directories) again for every new session, and `AwsBaseHook` makes a session per hook, so
each boto3 client a worker builds costs about 0.25 s of CPU: most of a campaign's CPU, spent on
files that never change. A `Loader` already caches all of that per instance (`_cache`); here every
loader with the same search paths and extras shares one cache. Same files, same parsed objects as
clients of one session share anyway: no request or response changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.loaders import Loader


@contextmanager
def shared_loader_cache() -> Iterator[None]:
    original = Loader.__init__
    caches: dict[tuple[Any, ...], dict[Any, Any]] = {}

    def init(self: Loader, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        key = (tuple(self.search_paths), tuple(self.extras_types), type(self.file_loader))
        self._cache = caches.setdefault(key, self._cache)

    Loader.__init__ = init
    try:
        yield
    finally:
        Loader.__init__ = original
