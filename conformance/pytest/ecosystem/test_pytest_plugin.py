"""The pytest plugin (conformance/pytest_mqttspec) as a third-party project uses it: its example
project (a paho-mqtt application) is copied out of the tree and tested in a pytest of its own, with
the plugin from PYTHONPATH (-p) and, installed with pip, from its pytest11 entry point."""
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tomllib
import types

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
PLUGIN_DIR = REPO / "conformance" / "pytest_mqttspec"
BUILD = pathlib.Path(os.environ.get("MQTTSPEC_BUILD", REPO / "build" / "test"))
BROKER = BUILD / "reference" / "broker" / "app" / "mqttspec-broker"
RUNNER = BUILD / "conformance" / "runner" / "mqttspec"

needs_build = pytest.mark.skipif(not (BROKER.exists() and RUNNER.exists()), reason=f"mqttspec not built in {BUILD}")

# Added to the copy of the example: a test that fails after some traffic, so its report must carry
# the broker's trace.
FAILING_TEST = '''
from thermostat import make_client


def test_fails_on_purpose(mqttspec_broker):
    c = make_client("trace-me")
    c.connect(mqttspec_broker.host, mqttspec_broker.port)
    c.loop_start()
    c.publish("home/trace/temperature", "99", qos=1).wait_for_publish(10)
    c.disconnect()
    c.loop_stop()
    assert False, "on purpose"
'''


def load_plugin_module():
    spec = importlib.util.spec_from_file_location("pytest_mqttspec_under_test", PLUGIN_DIR / "pytest_mqttspec.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_pytest(cwd, env_extra, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(MQTTSPEC_BUILD=str(BUILD), PYTHONDONTWRITEBYTECODE="1", **env_extra)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.fixture
def example(tmp_path):
    project = tmp_path / "thermostat-example"
    shutil.copytree(PLUGIN_DIR / "example", project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return project


@needs_build
def test_example_project_with_the_plugin_on_pythonpath(example):
    (example / "tests" / "test_failing_on_purpose.py").write_text(FAILING_TEST)
    done = run_pytest(example, {"PYTHONPATH": str(PLUGIN_DIR)}, "-rfE")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "1 failed, 5 passed" in out, out
    # The failing test's report carries the broker's trace: its CONNECT and PUBLISH, decoded.
    section = out[out.index("test_fails_on_purpose"):]
    assert "mqttspec-broker trace (127.0.0.1:" in section, out
    assert 'CONNECT(v5.0, client_id="trace-me"' in section, out
    assert 'topic="home/trace/temperature"' in section, out
    # The passing tests' traces are not printed.
    assert out.count("mqttspec-broker trace (") == 1, out


@needs_build
def test_example_project_with_the_plugin_installed_by_pip(example, tmp_path):
    if importlib.util.find_spec("pip") is None:
        pytest.skip("pip is not installed (python3-pip)")
    source = tmp_path / "plugin-source"  # pip builds in the tree: keep the repository clean
    shutil.copytree(PLUGIN_DIR, source, ignore=shutil.ignore_patterns("example", "__pycache__", "build", "*.egg-info"))
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert install.returncode == 0, install.stdout + install.stderr
    entry_points = next(site.glob("pytest_mqttspec-*.dist-info")) / "entry_points.txt"
    assert "pytest_mqttspec = pytest_mqttspec" in entry_points.read_text()
    # No -p: the entry point loads it (the example's own addopts also name it: loaded once).
    pyproject = example / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('addopts = "-p pytest_mqttspec"', ""))
    done = run_pytest(example, {"PYTHONPATH": str(site)}, "-q", "-k", "hot_room or grants_less")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "2 passed" in out, out


def test_pyproject_declares_the_entry_point():
    meta = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["pytest11"] == {"pytest_mqttspec": "pytest_mqttspec"}
    assert meta["tool"]["setuptools"]["py-modules"] == ["pytest_mqttspec"]
    example = tomllib.loads((PLUGIN_DIR / "example" / "pyproject.toml").read_text())
    assert "-p pytest_mqttspec" in example["tool"]["pytest"]["ini_options"]["addopts"]


@pytest.mark.skipif(not BROKER.exists(), reason=f"mqttspec-broker not built in {BUILD}")
def test_keyword_options_become_broker_flags():
    plugin = load_plugin_module()
    args = plugin.broker_args(BROKER, {
        "max_qos": 1, "retained_before_suback": True, "specific_reason_codes": False, "retain_available": False,
        "scram_user": ["a:b", "c:d"], "server_keep_alive": None, "config": "/x.conf",
    })
    assert args == ["--max-qos", "1", "--retained-before-suback", "--retain-available", "false",
                    "--scram-user", "a:b", "--scram-user", "c:d", "--config", "/x.conf"]
    with pytest.raises(TypeError, match="no option --no-such-thing"):
        plugin.broker_args(BROKER, {"no_such_thing": 1})


def test_expectations_file_deviations(tmp_path):
    plugin = load_plugin_module()
    (tmp_path / "results.json").write_text(json.dumps({"tool": "mqttspec", "results": [
        {"id": "a", "verdict": "pass"}, {"id": "b", "verdict": "fail"}, {"id": "c", "verdict": "fail"},
        {"id": "d", "verdict": "unsupported"}, {"id": "e", "verdict": "error"}]}))
    run = plugin.ConformanceRun([], types.SimpleNamespace(returncode=1, stdout="", stderr=""), tmp_path)
    assert set(run.failures) == {"b", "c", "e"}
    expectations = tmp_path / "broker.tsv"
    expectations.write_text("# known deviations\nb\tfail\tdocumented bug 12\na\tpass|fail\ttiming\n"
                            "z\tfail\tnot in this selection\n")
    assert run.deviations(expectations) == [("c", "fail", "pass|unsupported", ""), ("e", "error", "pass|unsupported", "")]
    expectations.write_text("b\tfail\n")
    with pytest.raises(ValueError, match="broker.tsv:1"):
        run.deviations(expectations)
