"""`coordinator serve`: the SigOpt v1-compatible REST API (Starlette, served by uvicorn)."""

from coordinator.api.app import create_app

__all__ = ["create_app"]
