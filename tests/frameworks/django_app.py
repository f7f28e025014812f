"""Django's own ASGI handler, configured in code (no project directory), served by ruvicorn."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="ruvicorn-tests-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
    USE_TZ=True,
)


def json_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"method": request.method, "path": request.path,
                         "q": request.GET.get("q"), "agent": request.headers.get("User-Agent")})


def form_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    return JsonResponse({"fields": {k: request.POST.getlist(k) for k in request.POST}})


async def async_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"async": True, "body_length": len(request.body)})


urlpatterns = [
    path("json/", json_view),
    path("form/", form_view),
    path("async/", async_view),
]

from django.core.asgi import get_asgi_application  # noqa: E402  (runs django.setup())

application = get_asgi_application()
