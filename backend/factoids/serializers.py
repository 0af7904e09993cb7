"""The factoid as the API and the run's result show it."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from backend.factoids.models import Factoid

VOTE_NAMES = {1: "up", -1: "down"}


class FactoidOutputSerializer(serializers.ModelSerializer):
    score = serializers.SerializerMethodField()
    my_vote = serializers.SerializerMethodField()

    class Meta:
        model = Factoid
        fields = [
            "uuid",
            "subject",
            "text",
            "model",
            "source",
            "visibility",
            "created_at",
            "up",
            "down",
            "score",
            "my_vote",
        ]

    def get_score(self, factoid: Factoid) -> int:
        return factoid.up - factoid.down

    def get_my_vote(self, factoid: Factoid) -> str | None:
        """From the list's annotation, or the ``my_vote`` context ("up", "down", None)."""
        if "my_vote" in self.context:
            vote: str | None = self.context["my_vote"]
            return vote
        return VOTE_NAMES.get(getattr(factoid, "own_vote", None) or 0)


def factoid_payload(factoid: Factoid, *, my_vote: str | None = None) -> dict[str, Any]:
    return dict(FactoidOutputSerializer(factoid, context={"my_vote": my_vote}).data)
