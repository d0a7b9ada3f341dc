"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask CLI (`flask --app wsgi ...`)."""

import sys

from grants import DefinitionError, create_app
from grants.cli import only_checking_definitions

try:
    app = create_app(require_valid_definitions=not only_checking_definitions(sys.argv))
except DefinitionError as error:
    # Refuse to start with the validator's own message (file, line, what to do), no traceback.
    sys.stderr.write(f"{error}\n")
    raise SystemExit(1) from None
