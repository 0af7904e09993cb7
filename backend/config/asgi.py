import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")

django_application = get_asgi_application()

# After Django is set up (the wrapper's error bodies come from backend.core.errors).
from backend.core.body_limit import BodySizeLimit  # noqa: E402

# Bodies over the cap are refused before Django reads them (chunked ones as they arrive).
application = BodySizeLimit(django_application)
