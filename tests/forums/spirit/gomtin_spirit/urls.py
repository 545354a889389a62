"""Spirit at the site root (no Django admin: the tests only read the forum)."""

from django.urls import include, path

import spirit.urls

urlpatterns = [path("", include(spirit.urls))]
