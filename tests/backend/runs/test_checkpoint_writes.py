"""The worker's checkpoint saver writes each checkpoint's blobs and each task's writes as
one statement; what it stores must read back, through LangGraph's own saver, exactly as
LangGraph's own writes do: the state history, parallel tasks' writes, a stored interrupt
and its resume, and a fork from an earlier ``checkpoint_id``."""

from __future__ import annotations

import operator
import uuid
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, Send, interrupt
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from backend.runs import checkpoints

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class State(TypedDict, total=False):
    messages: Annotated[list, add_messages]
    items: Annotated[list[str], operator.add]
    answer: str


async def fan(state: State) -> Command[Any]:
    return Command(goto=[Send("work", {"item": f"item-{i}"}) for i in range(3)])


async def work(task: dict[str, str]) -> dict[str, Any]:
    # Several writes per task (two channels), three tasks in one step.
    return {"items": [task["item"]], "messages": [AIMessage(task["item"], id=task["item"])]}


async def ask(state: State) -> dict[str, Any]:
    answer = interrupt({"question": "keep?", "items": sorted(state["items"])})
    return {"answer": str(answer)}


def graph(saver: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("fan", fan, destinations=("work",))
    builder.add_node("work", work)
    builder.add_node("ask", ask)
    builder.add_edge(START, "fan")
    builder.add_edge("work", "ask")
    return builder.compile(checkpointer=saver)


async def scenario(saver: Any, thread_id: str) -> None:
    """A run that waits at an interrupt, its resume, then a fork from after ``fan``."""
    app = graph(saver)
    config = {"configurable": {"thread_id": thread_id}}
    await app.ainvoke({"messages": [HumanMessage("go", id="human-1")]}, config)
    await app.ainvoke(Command(resume="yes"), config)
    history = [snapshot async for snapshot in app.aget_state_history(config)]
    after_fan = next(s for s in history if s.next == ("work", "work", "work"))
    fork = {"configurable": {**after_fan.config["configurable"]}}
    forked = await app.ainvoke(None, fork)
    assert "__interrupt__" in forked  # the fork ran the three tasks again, then asked
    await app.ainvoke(Command(resume="no"), config)


def shape(snapshots: list[Any]) -> list[tuple[Any, ...]]:
    """What a reader sees of each checkpoint, without its ids and timestamps."""
    return [
        (
            snapshot.values.get("answer"),
            sorted(snapshot.values.get("items", [])),
            sorted(m.content for m in snapshot.values.get("messages", [])),
            snapshot.next,
            snapshot.metadata.get("step"),
            snapshot.metadata.get("source"),
            [i.value for i in snapshot.interrupts],
            snapshot.parent_config is None,
        )
        for snapshot in snapshots
    ]


async def history_read_by_langgraph(dsn: str, thread_id: str) -> list[Any]:
    async with AsyncPostgresSaver.from_conn_string(dsn) as reader:
        app = graph(reader)
        config = {"configurable": {"thread_id": thread_id}}
        return [snapshot async for snapshot in app.aget_state_history(config)]


@pytest.fixture
async def dsn():
    found = checkpoints.postgres_dsn()
    assert found
    checkpoints.setup_postgres_sync(found)
    return found


async def test_one_statement_writes_read_back_as_langgraphs_own(dsn):
    ours, theirs = f"ours-{uuid.uuid4().hex}", f"theirs-{uuid.uuid4().hex}"
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        dsn,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    await pool.open()
    try:
        await scenario(checkpoints._pooled_saver_class()(conn=pool), ours)
    finally:
        await pool.close()
    async with AsyncPostgresSaver.from_conn_string(dsn) as stock:
        await scenario(stock, theirs)

    mine = await history_read_by_langgraph(dsn, ours)
    reference = await history_read_by_langgraph(dsn, theirs)
    assert shape(mine) == shape(reference)
    assert len(mine) >= 8  # the run, its resume, the fork and the fork's resume
    # The stored interrupt, as a waiting run's resume finds it.
    waiting = [s for s in mine if s.interrupts]
    assert waiting and waiting[0].interrupts[0].value["items"] == ["item-0", "item-1", "item-2"]


def test_multi_row_keeps_the_statement_and_flattens_the_rows():
    sql = "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT (a) DO NOTHING"
    statement, params = checkpoints.multi_row(sql, [(1, 2), (3, 4), (5, 6)])
    assert statement == (
        "INSERT INTO t (a, b) VALUES (%s, %s), (%s, %s), (%s, %s) ON CONFLICT (a) DO NOTHING"
    )
    assert params == [1, 2, 3, 4, 5, 6]
