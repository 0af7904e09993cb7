from django.core.exceptions import ValidationError as DjangoValidationError

from backend.clients.identity import hash_api_key
from backend.clients.models import ApiKey, Client


def client_get(*, client_id: str) -> Client | None:
    try:
        return Client.objects.get(pk=client_id)
    except (Client.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        return None


def api_key_get_active(*, raw_key: str) -> ApiKey | None:
    return (
        ApiKey.objects.select_related("client")
        .filter(key_hash=hash_api_key(raw_key), revoked_at__isnull=True)
        .first()
    )
