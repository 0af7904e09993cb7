from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backend.clients.models import Plan
from backend.clients.services import api_key_create


class Command(BaseCommand):
    help = "Create an isk_ API key; the key is printed once and stored only as a hash."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--plan", choices=[Plan.FREE, Plan.PAID], default=Plan.FREE)

    def handle(self, *args: Any, **options: Any) -> None:
        key, raw = api_key_create(name=options["name"], plan=options["plan"])
        self.stdout.write(f"API key {key.name!r} ({key.plan}), shown once:\n{raw}")
