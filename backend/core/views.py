from django.http import HttpRequest, HttpResponse, JsonResponse
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


_PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>InsightStream</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;">
<h1>InsightStream</h1>
<p>The API is running. The chat interface is not built yet.</p>
<ul><li><a href="/api/docs/">API documentation</a></li>
<li><a href="/healthz">Health</a></li></ul>
</body></html>"""


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_PLACEHOLDER, content_type="text/html; charset=utf-8")
