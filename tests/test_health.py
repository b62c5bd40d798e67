import httpx


async def test_healthz_answers(client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_each_store_up_with_latency(client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/readyz")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["down"] == []
    assert set(body["stores"]) == {"postgresql", "mongodb"}
    for store in body["stores"].values():
        assert store["status"] == "up"
        assert store["latencyMs"] >= 0
