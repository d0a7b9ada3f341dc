"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask CLI (`flask --app wsgi ...`)."""

import gc
import sys

from grants import DefinitionError, create_app
from grants.cli import only_checking_definitions
from grants.config import ConfigError

try:
    app = create_app(require_valid_definitions=not only_checking_definitions(sys.argv))
except (DefinitionError, ConfigError) as error:
    # Refuse to start with the message that says what to do (for a workflow file: its file and
    # line), no traceback.
    sys.stderr.write(f"{error}\n")
    raise SystemExit(1) from None

# What the app made while starting lives as long as the process: frozen out of the garbage
# collector's reach, a full collection walks only what requests make, instead of pausing a
# request for about a tenth of a second now and then.
gc.collect()
gc.freeze()
