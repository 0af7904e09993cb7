import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from backend.core.errors import NotFoundError, UnauthorizedError, error_response
from backend.ops.metrics import registry


@csrf_exempt
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of the whole service, for ``Authorization: Bearer
    <METRICS_TOKEN>``; without the setting there is no such endpoint (404)."""
    token = settings.ENV.METRICS_TOKEN
    if not token:
        raise NotFoundError(f"No such resource: {request.path}")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        refused = error_response(
            UnauthorizedError("Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.")
        )
        refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refused
    # OpenMetrics when the scraper asks for it (Prometheus does), else the text format.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = HttpResponse(encode(registry), content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
