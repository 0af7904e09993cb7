"""Guarded model calls for the backend's runs and tool endpoints.

What the backend hands the agents package so its model calls are guarded, recorded and
reported: the model factory with the process's guard and the backend's analytics hook
(``factory``), and where a call's usage goes (``usage``: the ledger, the run's totals,
PostHog, the run's stream). Shared by chat runs, factoid runs and the tools API; a run's
stream is reached only through the sinks the run passes in, never through a registry.
"""
