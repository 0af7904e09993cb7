from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from backend.core import health
from backend.core.errors import error_body


@csrf_exempt
@require_GET
def livez(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = health.run_checks()
    down = [name for name, check in checks.items() if check["status"] == "down"]
    body: dict[str, object] = {"status": "unavailable" if down else "ok", "checks": checks}
    if down:
        body |= error_body(
            "UPSTREAM_UNAVAILABLE",
            f"Unavailable dependencies: {', '.join(down)}",
            {"down": down},
        )
    return JsonResponse(body, status=503 if down else 200)


@require_GET
def public_config(request: HttpRequest) -> JsonResponse:
    """What the browser app needs to know at start: only values meant to be public."""
    from backend.llm.selectors import OFFLINE_MODEL_ID, default_model_id

    env = settings.ENV
    model = default_model_id()
    posthog = (
        {"key": env.POSTHOG_API_KEY, "host": env.POSTHOG_HOST} if env.POSTHOG_API_KEY else None
    )
    return JsonResponse(
        {
            "default_model": model,
            "offline": model == OFFLINE_MODEL_ID,
            "posthog": posthog,
            "billing_enabled": bool(env.STRIPE_SECRET_KEY),
        }
    )
