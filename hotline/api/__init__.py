"""The HTTP API for integrators: JSON under /api/v1, Open311 GeoReport v2, /metrics.

A thin shell over ``hotline.service.Service``, like the CLI: ``app.create_app(service)``.
"""
