from django.urls import path
from django.views.decorators.cache import never_cache

from . import views

app_name = "alerts"

# `Cache-Control: no-store, private` (and an Expires in the past) for every page of the
# journey, the thanks and the confirmation pages: they carry a visitor's name, address or email,
# or tokens bound to one visitor (the CSRF token, the one-time form token). The first step is
# among them: its shared parts are cached on the server (pages.py), never the page a visitor
# gets, which a shared cache would hand to the next visitor with the first one's tokens.
urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("privacy/", views.privacy, name="privacy"),
    path("confirm/<uuid:action_id>/", never_cache(views.confirm), name="confirm"),
    path("<slug:slug>/", never_cache(views.campaign_detail), name="campaign_detail"),
    path("<slug:slug>/count.json", views.campaign_count, name="campaign_count"),
    path("<slug:slug>/thanks/<uuid:action_id>/", never_cache(views.thanks), name="thanks"),
    path(
        "<slug:slug>/thanks/<uuid:action_id>/called/",
        never_cache(views.call_logged),
        name="call_logged",
    ),
    path("<slug:slug>/embed/", never_cache(views.campaign_embed), name="campaign_embed"),
    path(
        "<slug:slug>/embed/thanks/<uuid:action_id>/",
        never_cache(views.embed_thanks),
        name="embed_thanks",
    ),
]
