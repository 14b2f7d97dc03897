"""The ASGI entry point: `uvicorn api.main:app`."""

import gc

from api.app import create_app

app = create_app()
# What start-up made (routes, models, templates) lives as long as the worker: moved out of
# the collector's generations, so the full collections that run between requests stay short
# (bench/README.md, decision_http: p99 74 against 109 ms, 96 against 125 ms).
gc.collect()
gc.freeze()
