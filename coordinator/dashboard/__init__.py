"""The experiment dashboard (served by `coordinator serve` at /dashboard) and the figures it
shares with `coordinator report`."""

from coordinator.dashboard.app import dashboard_app, dashboard_routes

__all__ = ["dashboard_app", "dashboard_routes"]
