from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("<slug:slug>/", views.campaign_detail, name="campaign_detail"),
    path("<slug:slug>/thanks/<uuid:action_id>/", views.thanks, name="thanks"),
]
