"""grants: joint external-funding applications from first draft to the funder's inbox."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from grants.config import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)


class DefinitionError(RuntimeError):
    """A workflow or form file is invalid: the app refuses to start."""


def create_app(config: dict[str, Any] | None = None, *, settings: Settings | None = None,
               require_valid_definitions: bool = True) -> Flask:
    """Build the app. Invalid workflow or form files raise DefinitionError (the app refuses to
    start), unless `require_valid_definitions` is False: then only the commands that check
    definitions can do anything useful (`flask workflow check`)."""
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
        instance_path=str(settings.instance_path),
    )
    app.config.update(settings.to_flask())
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from grants import models  # noqa: F401,PLC0415 - every table known before anything runs
    from grants.db import db  # noqa: PLC0415
    from grants.extensions import babel, csrf, login_manager, migrate  # noqa: PLC0415
    from grants.i18n import select_locale  # noqa: PLC0415

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)

    from grants import features  # noqa: PLC0415 - every feature registers its parts
    from grants.processes import load_definitions  # noqa: PLC0415
    from grants.workflow.yamlsource import SourceInvalid  # noqa: PLC0415
    try:
        load_definitions(app)
    except SourceInvalid as exc:
        if require_valid_definitions:
            raise DefinitionError(
                "The app cannot start: invalid workflow or form definitions.\n" + str(exc)
                + "\nFix the files above; `flask --app wsgi workflow check` checks them again."
            ) from exc
        app.extensions.setdefault("grants.workflows", {})
        app.extensions.setdefault("grants.forms", {})

    from grants.web import register_web  # noqa: PLC0415
    register_web(app, features.blueprints())

    from grants.cli import register_cli  # noqa: PLC0415
    register_cli(app)
    return app
