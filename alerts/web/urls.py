from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("privacy/", views.privacy, name="privacy"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("<slug:slug>/", views.campaign_detail, name="campaign_detail"),
    path("<slug:slug>/count.json", views.campaign_count, name="campaign_count"),
    path("<slug:slug>/thanks/<uuid:action_id>/", views.thanks, name="thanks"),
    path("<slug:slug>/thanks/<uuid:action_id>/called/", views.call_logged, name="call_logged"),
    path("<slug:slug>/embed/", views.campaign_embed, name="campaign_embed"),
    path("<slug:slug>/embed/thanks/<uuid:action_id>/", views.embed_thanks, name="embed_thanks"),
]
