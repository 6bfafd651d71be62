"""The WSGI entry point gunicorn loads (``backend.service.wsgi:app``); settings come from the environment."""

import os

# One BLAS thread per process: several gunicorn and RQ workers share few cores.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from backend.logs import configure_logging  # noqa: E402
from backend.service.app import create_app  # noqa: E402
from backend.settings import Settings  # noqa: E402

settings = Settings.from_env()
configure_logging(settings.log_level)
app = create_app(settings)
