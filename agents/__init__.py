"""InsightStream's agent: a LangGraph graph, its tools and the guarded model factory.

A library the backend drives; it never imports Django.
"""

from agents.context import (
    AgentData,
    AgentDeps,
    ChatModelSource,
    Context,
    SavedFactoid,
    ToolExecutor,
)
from agents.graph import build_graph, compile_graph
from agents.models import ModelCallAnalytics, ModelCallEvent, ModelFactory, ModelSettings
from agents.state import InputState, State

__all__ = [
    "AgentData",
    "AgentDeps",
    "ChatModelSource",
    "Context",
    "InputState",
    "ModelCallAnalytics",
    "ModelCallEvent",
    "ModelFactory",
    "ModelSettings",
    "SavedFactoid",
    "State",
    "ToolExecutor",
    "build_graph",
    "compile_graph",
]
