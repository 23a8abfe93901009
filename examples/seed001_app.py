"""Seed 001's FastAPI application (the "Health Checks for Gradient
Deployments" example), kept as the seed wrote it where it can be: routes
declared with a trailing slash (`/liveness/`, `/readiness/`, `/startup/`),
probed at the seed's paths without one (`path: /liveness`), so Starlette
answers 307 and the probe must follow it, as the kubelet does.

What differs from the seed, so that scripts/seed-e2e.sh can drive it:
- pydantic's BaseSettings moved to pydantic-settings in pydantic 2, so the
  load status is a plain object;
- the startup event "downloads the model" for MODEL_LOAD_SECONDS (default
  1): uvicorn serves nothing until it is done;
- while the file named by LIVENESS_FAIL_FILE exists, /liveness/ answers
  500; while the file named by READINESS_FAIL_FILE exists, /readiness/
  answers 503 (the seed's "S3 connection check" failing); with
  STARTUP_NEVER=1, /startup/ answers 503 (a start that never completes).

Run: uvicorn seed001_app:app --app-dir examples --port 8000
"""

import asyncio
import os

from fastapi import FastAPI, Response, status


class LoadStatus:
    model_loaded: bool = False


load_status = LoadStatus()
app = FastAPI()


@app.on_event("startup")
async def model_load():
    # Download model
    await asyncio.sleep(float(os.environ.get("MODEL_LOAD_SECONDS", "1")))
    load_status.model_loaded = True


@app.get("/liveness/", status_code=200)
def liveness_check(response: Response):
    fail = os.environ.get("LIVENESS_FAIL_FILE")
    if fail and os.path.exists(fail):
        response.status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
        return "Liveness check failed."
    return "Liveness check succeeded."


@app.get("/readiness/", status_code=200)
def readiness_check(response: Response):
    fail = os.environ.get("READINESS_FAIL_FILE")
    s3_successful = not (fail and os.path.exists(fail))
    if not s3_successful or not load_status.model_loaded:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return "Readiness check failed."
    return "Readiness check succeeded."


@app.get("/startup/", status_code=200)
def startup_check(response: Response):
    if os.environ.get("STARTUP_NEVER") == "1":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return "Startup check failed."
    return "Startup check succeeded."
