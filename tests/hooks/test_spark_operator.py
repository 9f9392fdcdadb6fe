"""The async hook's clients: shared by many waits, rebuilt on 401, never closed under a request,
never left open."""

from __future__ import annotations

import asyncio
import threading

import pytest

from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook, SparkOperatorHook
from airflow_eks_data.outcomes import Backoff
from airflow_eks_data.outcomes.retrying import status_of
from tests.kubeapi.fixtures import KubeApiFactory
from tests.kubeapi.server import KubeApiServer


def closed(api_client: object) -> bool:
    return bool(api_client.rest_client.pool_manager.closed)  # type: ignore[attr-defined]


def test_a_client_retired_by_401_closes_when_its_last_request_ends(kube_conn: str) -> None:
    async def scenario() -> dict[str, bool]:
        hook = AsyncSparkOperatorHook(conn_id=kube_conn)
        async with hook._lease() as first:  # a watch stream, say, is using the client
            hook.renew()
            hook.renew()  # two waits saw the same 401
            second = await hook._api()
            first_open_while_used = not closed(first)
            assert await hook.list_applications("default")  # the new client works
        seen = {"first open while used": first_open_while_used, "first closed after": closed(first)}
        hook.renew()  # nobody uses the second client: the next call closes it
        third = await hook._api()
        seen["idle retired closed by next call"] = closed(second)
        await hook.close()
        seen["current closed by close()"] = closed(third)
        return seen

    assert asyncio.run(scenario()) == {
        "first open while used": True,
        "first closed after": True,
        "idle retired closed by next call": True,
        "current closed by close()": True,
    }


def test_renewals_racing_many_calls_never_break_one(kube_conn: str) -> None:
    """A token expiry reaches every wait of the triggerer at once: each renews, while others are
    half-way through loading the configuration or using the client."""

    async def scenario() -> int:
        hook = AsyncSparkOperatorHook(conn_id=kube_conn)

        async def call(i: int) -> list[dict[str, object]]:
            listings = []
            for _ in range(3):
                listings.append(await hook.list_applications("default"))
                if i % 2:
                    hook.renew()
            return listings

        try:
            per_wait = await asyncio.gather(*(call(i) for i in range(30)))
        finally:
            await hook.close()
        return sum("items" in listing for listings in per_wait for listing in listings)

    assert asyncio.run(scenario()) == 90


FAST = Backoff(max_tries=4, base_seconds=0.05, cap_seconds=0.2)


def sync_hook(conn_id: str, budget: Backoff = FAST) -> SparkOperatorHook:
    hook = SparkOperatorHook(conn_id=conn_id)
    hook.retry_settings = budget
    return hook


def async_list(conn_id: str, budget: Backoff = FAST) -> dict[str, object]:
    async def scenario() -> dict[str, object]:
        hook = AsyncSparkOperatorHook(conn_id=conn_id)
        hook.retry_settings = budget
        try:
            return await hook.list_applications("default")
        finally:
            await hook.close()

    return asyncio.run(scenario())


@pytest.mark.parametrize("status", [408, 429, 500, 503])
@pytest.mark.parametrize("client", ["sync", "async"])
def test_transient_statuses_are_retried_up_to_the_budget(
    kube_api: KubeApiServer, kube_conn: str, status: int, client: str
) -> None:
    def call() -> object:
        return sync_hook(kube_conn).find_applications("default", {}) if client == "sync" else async_list(kube_conn)

    kube_api.faults.error(status, times=FAST.max_tries - 1, resources={"sparkapplications"})
    call()
    assert kube_api.counters[("list", "sparkapplications")] == FAST.max_tries
    kube_api.faults.error(status, times=FAST.max_tries, resources={"sparkapplications"})
    with pytest.raises(Exception) as failed:
        call()
    assert status_of(failed.value) == status
    assert kube_api.counters[("list", "sparkapplications")] == 2 * FAST.max_tries


@pytest.mark.parametrize("client", ["sync", "async"])
def test_401_renews_the_client_within_the_budget(
    kube_api_factory: KubeApiFactory, monkeypatch: pytest.MonkeyPatch, client: str
) -> None:
    """An expired token is renewed from the rotated kubeconfig; a token that never comes back costs
    exactly the budget, not more and not fewer tries."""
    server = kube_api_factory(token_auth=True)
    monkeypatch.setenv("AIRFLOW_CONN_KUBE_TOKEN", server.airflow_connection_json())

    def call() -> object:
        conn_id = "kube_token"
        return sync_hook(conn_id).find_applications("default", {}) if client == "sync" else async_list(conn_id)

    call()
    server.tokens.expire()
    rotation = threading.Timer(0.05, server.rotate_token)
    rotation.start()
    call()
    rotation.join()
    assert 1 <= server.tokens.rejected < FAST.max_tries
    server.tokens.expire()
    rejected = server.tokens.rejected
    with pytest.raises(Exception) as failed:
        call()
    assert status_of(failed.value) == 401
    assert server.tokens.rejected - rejected == FAST.max_tries


@pytest.mark.parametrize("client", ["sync", "async"])
def test_a_token_rotating_under_throttling_spends_neither_budget_for_the_other(
    kube_api_factory: KubeApiFactory, monkeypatch: pytest.MonkeyPatch, client: str
) -> None:
    """401s and transient errors are counted apart: a call meeting almost a whole budget of each
    (a token rotating while the API throttles, as in the fault campaign) still succeeds."""
    server = kube_api_factory(token_auth=True)
    monkeypatch.setenv("AIRFLOW_CONN_KUBE_TOKEN", server.airflow_connection_json())

    budget = Backoff(max_tries=6, base_seconds=0.2, cap_seconds=1.0)  # 401s outlast the 0.05 s rotation

    def call() -> object:
        conn_id = "kube_token"
        if client == "sync":
            return sync_hook(conn_id, budget).find_applications("default", {})
        return async_list(conn_id, budget)

    call()
    server.faults.error(503, times=budget.max_tries - 1, resources={"sparkapplications"})
    server.tokens.expire()
    rotation = threading.Timer(0.05, server.rotate_token)
    rotation.start()
    call()
    rotation.join()
    assert server.tokens.rejected >= 1
    assert server.counters[("list", "sparkapplications")] >= budget.max_tries
