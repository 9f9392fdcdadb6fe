"""The async hook's clients: shared by many waits, rebuilt on 401, never closed under a request,
never left open."""

from __future__ import annotations

import asyncio

from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook


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
