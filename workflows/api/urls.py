"""Workflow and delivery routes; included by action_engine.api.urls (served on api.action-engine)."""
from rest_framework.routers import SimpleRouter

router = SimpleRouter(trailing_slash="/?")
