"""`flask workflow check` and the app's start refuse invalid workflow and form files, naming
the file and the line (the rules themselves: tests/unit/test_workflow_validation.py and
tests/unit/test_form_definitions.py)."""

import subprocess
import sys

from grants.config import PROJECT_ROOT
from tests.factories import JOINT_VERSION
from tests.unit.test_form_definitions import BASE


def _run_flask(args, workflows_dir, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "GRANTS_WORKFLOWS_PATH": str(workflows_dir),
           "GRANTS_INSTANCE_PATH": str(tmp_path / "instance"), "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_cli_and_app_start_refuse_an_invalid_file(tmp_path):
    import shutil
    directory = tmp_path / "workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", directory)
    path = directory / "single_stage.yaml"
    path.write_text(path.read_text().replace("by: [lead]\n    requires", "by: [leadd]\n    requires"))
    check = _run_flask(["workflow", "check"], directory, tmp_path)
    assert check.returncode == 1
    assert "workflows/single_stage.yaml:" in check.stderr
    assert "names undefined role 'leadd'" in check.stderr
    assert f"joint_application v{JOINT_VERSION}" in check.stdout and "Traceback" not in check.stderr
    start = _run_flask(["routes"], directory, tmp_path)
    assert start.returncode == 1
    assert "The app cannot start" in start.stderr and "undefined role 'leadd'" in start.stderr
    assert "Traceback" not in start.stderr
    one = _run_flask(["workflow", "check", str(path)], directory, tmp_path)
    assert one.returncode == 1 and "single_stage.yaml:" in one.stderr
    good = _run_flask(["workflow", "check"], PROJECT_ROOT / "workflows", tmp_path)
    assert good.returncode == 0, good.stderr
    assert good.stdout.count(" – OK") == 15  # 5 workflows, 10 forms


def test_workflow_check_reports_invalid_form_files(app, tmp_path):
    bad = tmp_path / "forms" / "broken.yaml"
    bad.parent.mkdir()
    bad.write_text(BASE.replace("type: longtext", "type: essay"))
    result = app.test_cli_runner().invoke(args=["workflow", "check", str(bad)])
    assert result.exit_code == 1
    assert "broken.yaml:" in result.output and "unknown type 'essay'" in result.output
