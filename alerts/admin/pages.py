"""Pages of one object beside its admin change page (`<id>/dashboard/`, `<id>/preview/`...)."""

from functools import partial

from django.urls import path


def object_page_urls(model_admin, pages) -> list:
    """URL patterns for `(route, view, name)` pages of one object: each view is called as
    `view(model_admin, request, object_id)` behind the admin's own checks, and named
    `<app>_<model>_<name>` like the admin's own pages."""
    prefix = f"{model_admin.opts.app_label}_{model_admin.opts.model_name}"
    return [
        path(
            f"<path:object_id>/{route}",
            model_admin.admin_site.admin_view(partial(view, model_admin)),
            name=f"{prefix}_{name}",
        )
        for route, view, name in pages
    ]
