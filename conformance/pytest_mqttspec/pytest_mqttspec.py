"""pytest plugin of mqttspec: the reference MQTT broker and the conformance suite as fixtures.

Load it with ``-p pytest_mqttspec`` (this directory on PYTHONPATH), ``pytest_plugins =
["pytest_mqttspec"]`` in a conftest.py, or by installing this directory (its pyproject.toml
declares the ``pytest11`` entry point, so pytest loads it by itself).

Fixtures:

``mqttspec_broker``
    ``mqttspec-broker`` on a free loopback port, stopped after the test. Broker options come from
    ``@pytest.mark.mqttspec_broker(max_qos=1, retained_before_suback=True, ...)``: each keyword is
    the long flag with ``-`` for ``_``; ``True`` gives a bare flag (or ``true`` for an option that
    takes a value; ``False`` gives ``false`` there and leaves a bare flag out), ``None`` leaves it
    out, a list repeats it. The object has ``host``, ``port``, ``url`` (``mqtt://host:port``,
    ``mqtts://`` with ``tls_cert``), ``target`` (``host:port``), ``tls``, ``ws_port`` and
    ``ws_url`` (with ``ws_port=0``), ``trace()`` (the broker's log so far) and ``stop()``. The
    broker runs with ``--trace``; when the test fails, its trace is attached to the test's report.

``mqttspec_broker_factory``
    ``start(**options)`` for tests that need several brokers, or options computed at run time.

``mqtt_conformance``
    ``run(target=None, *selectors, version="all", ...)`` plays the conformance suite (or the
    scenarios the selectors pick) against ``target``: a ``host:port``, a ``ws://`` URL, a broker
    from ``mqttspec_broker``, or None for the runner's embedded reference broker. Returns a
    ``ConformanceRun`` with ``returncode``, ``report_dir``, ``verdicts`` ({scenario id: verdict}),
    ``results`` ({id: the results.json entry}), ``failures``, ``deviations(expectations_file)``
    and ``summary()``.

Where the programs are: the options ``--mqttspec`` / ``--mqttspec-broker`` (or the ini keys
``mqttspec`` / ``mqttspec_broker``), else the environment variables ``MQTTSPEC`` /
``MQTTSPEC_BROKER``, else ``$MQTTSPEC_BUILD/conformance/runner/mqttspec`` and
``$MQTTSPEC_BUILD/reference/broker/app/mqttspec-broker`` (a build tree), else ``PATH``.
"""

import json
import os
import pathlib
import re
import selectors
import shutil
import signal
import subprocess
import time

import pytest

__all__ = ["Broker", "ConformanceRun"]

START_TIMEOUT = 20.0  # a sanitizer build on a busy machine starts slowly
STOP_TIMEOUT = 5.0
TRACE_LIMIT = 200_000  # characters of trace attached to a report (its end)

_RUNNER_IN_BUILD = ("conformance", "runner", "mqttspec")
_BROKER_IN_BUILD = ("reference", "broker", "app", "mqttspec-broker")


def pytest_addoption(parser):
    group = parser.getgroup("mqttspec", "mqttspec conformance suite and reference broker")
    group.addoption("--mqttspec", dest="mqttspec_bin", default=None, metavar="PATH",
                    help="the mqttspec program (default: $MQTTSPEC, $MQTTSPEC_BUILD, PATH)")
    group.addoption("--mqttspec-broker", dest="mqttspec_broker_bin", default=None, metavar="PATH",
                    help="the mqttspec-broker program (default: $MQTTSPEC_BROKER, $MQTTSPEC_BUILD, PATH)")
    parser.addini("mqttspec", "path of the mqttspec program", default=None)
    parser.addini("mqttspec_broker", "path of the mqttspec-broker program", default=None)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "mqttspec_broker(**options): options of the mqttspec_broker fixture's broker "
        "(long flags, '_' for '-': max_qos=1, retained_before_suback=True, ...)",
    )


def _find_program(config, option, ini, env, in_build, name):
    for candidate in (config.getoption(option), config.getini(ini), os.environ.get(env)):
        if candidate:
            return pathlib.Path(candidate)
    build = os.environ.get("MQTTSPEC_BUILD")
    if build and pathlib.Path(build, *in_build).exists():
        return pathlib.Path(build, *in_build)
    found = shutil.which(name)
    return pathlib.Path(found) if found else None


def _program(config, which):
    if which == "broker":
        path = _find_program(config, "mqttspec_broker_bin", "mqttspec_broker", "MQTTSPEC_BROKER", _BROKER_IN_BUILD,
                             "mqttspec-broker")
        name, option = "mqttspec-broker", "--mqttspec-broker"
    else:
        path = _find_program(config, "mqttspec_bin", "mqttspec", "MQTTSPEC", _RUNNER_IN_BUILD, "mqttspec")
        name, option = "mqttspec", "--mqttspec"
    if path is None or not path.exists():
        pytest.fail(f"{name} not found{f' at {path}' if path else ''}: pass {option} PATH, or set MQTTSPEC_BUILD "
                    f"to an mqttspec build directory, or put {name} on PATH", pytrace=False)
    return path


def pytest_report_header(config):
    found = []
    for which in ("runner", "broker"):
        try:
            found.append(str(_program(config, which)))
        except pytest.fail.Exception:
            found.append(f"({which} not found)")
    return "mqttspec: " + ", ".join(found)


# --- the broker ------------------------------------------------------------------------------

_flag_kinds = {}


def _flag_kinds_of(program):
    """{long flag: takes a value?}, read from the broker's --help once per program."""
    key = str(program)
    if key not in _flag_kinds:
        text = subprocess.run([key, "--help"], capture_output=True, text=True, timeout=30).stdout
        kinds = {}
        for match in re.finditer(r"^\s+(?:-\w,)?--([\w-]+)(?:[ \t]+([A-Z]+)\b)?", text, re.M):
            kinds[match.group(1)] = match.group(2) is not None
        kinds["config"] = True  # CLI11 prints no type for its config-file option
        _flag_kinds[key] = kinds
    return _flag_kinds[key]


def broker_args(program, options):
    """Broker options as keyword arguments -> command-line flags."""
    kinds = _flag_kinds_of(program)
    args = []
    for key, value in options.items():
        flag = key.replace("_", "-")
        if flag not in kinds:
            raise TypeError(f"mqttspec-broker has no option --{flag} (from {key}=); see mqttspec-broker --help")
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is None or item is False and not kinds[flag]:
                continue
            if not kinds[flag]:
                args.append(f"--{flag}")
            elif isinstance(item, bool):
                args += [f"--{flag}", "true" if item else "false"]
            else:
                args += [f"--{flag}", str(item)]
    return args


class Broker:
    """One mqttspec-broker process on a free loopback port (``--port 0``: it picks and prints it)."""

    def __init__(self, program, options, log_path):
        options = dict(options)
        options.setdefault("trace", True)
        options.setdefault("bind", "127.0.0.1")
        self.args = [str(program), "--port", "0", *broker_args(program, options)]
        self.log_path = pathlib.Path(log_path)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL)
        line = self._first_line()
        match = re.search(r"listening on (\S+?):(\d+)( \(TLS\))?(?:, (wss?)://\S+?:(\d+))?", line or "")
        if not match:
            self.stop()
            pytest.fail(f"mqttspec-broker did not start ({' '.join(self.args)}): {line!r}\n{self.trace()}",
                        pytrace=False)
        self.host, self.port = match.group(1), int(match.group(2))
        self.tls = bool(match.group(3))
        self.ws_port = int(match.group(5)) if match.group(5) else None
        self._ws_scheme = match.group(4)

    def _first_line(self):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline, data = time.monotonic() + START_TIMEOUT, b""
        while b"\n" not in data and time.monotonic() < deadline:
            if sel.select(max(0.0, deadline - time.monotonic())):
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                data += chunk
        sel.close()
        return data.decode(errors="replace").split("\n", 1)[0] if data else None

    @property
    def target(self):
        return f"{self.host}:{self.port}"

    @property
    def url(self):
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def ws_url(self):
        return f"{self._ws_scheme}://{self.host}:{self.ws_port}/mqtt" if self.ws_port else None

    def trace(self):
        """The broker's log (with --trace: every packet in and out, decoded) so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode

    def __repr__(self):
        return f"<mqttspec-broker {self.target}>"


_BROKERS_KEY = pytest.StashKey() if hasattr(pytest, "StashKey") else None


def _brokers_of(item):
    if _BROKERS_KEY is not None:
        return item.stash.setdefault(_BROKERS_KEY, [])
    if not hasattr(item, "_mqttspec_brokers"):
        item._mqttspec_brokers = []
    return item._mqttspec_brokers


@pytest.fixture
def mqttspec_broker_factory(request, tmp_path):
    """start(**options) -> Broker; every broker is stopped after the test."""
    program = _program(request.config, "broker")
    started = _brokers_of(request.node)

    def start(**options):
        broker = Broker(program, options, tmp_path / f"mqttspec-broker-{len(started)}.log")
        started.append(broker)
        return broker

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture
def mqttspec_broker(request, mqttspec_broker_factory):
    """The reference broker on a free loopback port; options from @pytest.mark.mqttspec_broker(...)."""
    options = {}
    for mark in reversed(list(request.node.iter_markers("mqttspec_broker"))):
        options.update(mark.kwargs)
    return mqttspec_broker_factory(**options)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for broker in _brokers_of(item):
        text = broker.trace()
        if len(text) > TRACE_LIMIT:
            text = f"[... first {len(text) - TRACE_LIMIT} characters left out ...]\n" + text[-TRACE_LIMIT:]
        report.sections.append((f"mqttspec-broker trace ({broker.target}, {report.when})", text))


# --- the conformance suite ----------------------------------------------------------------------


class ConformanceRun:
    """What one `mqttspec run` gave: its exit status, reports and verdicts."""

    def __init__(self, args, proc, report_dir):
        self.args = args
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.report_dir = pathlib.Path(report_dir)
        results_file = self.report_dir / "results.json"
        self.json = json.loads(results_file.read_text()) if results_file.exists() else None
        self.results = {r["id"]: r for r in (self.json or {}).get("results", [])}
        self.verdicts = {i: r["verdict"] for i, r in self.results.items()}

    @property
    def failures(self):
        """{id: result} of the scenarios whose verdict is fail or error."""
        return {i: r for i, r in self.results.items() if r["verdict"] in ("fail", "error")}

    def deviations(self, expectations, default=("pass", "unsupported")):
        """Scenarios whose verdict an expectations file does not allow, as (id, verdict, acceptable,
        reason) tuples. The file (like conformance/pytest/runner/mosquitto-2.0.11.tsv) has one
        tab-separated line per known deviation: scenario id, acceptable verdicts (``fail`` or
        ``pass|fail``), the reason; ``#`` starts a comment. Scenarios it does not list must have
        a verdict in ``default``; listed scenarios that did not run are ignored."""
        table = {}
        for n, line in enumerate(pathlib.Path(expectations).read_text().splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if len(cells) != 3 or not cells[2].strip():
                raise ValueError(f"{expectations}:{n}: want scenario<TAB>verdicts<TAB>reason")
            table[cells[0]] = (set(cells[1].split("|")), cells[2])
        out = []
        for i, verdict in self.verdicts.items():
            acceptable, reason = table.get(i, (set(default), ""))
            if verdict not in acceptable:
                out.append((i, verdict, "|".join(sorted(acceptable)), reason))
        return out

    def summary(self):
        """One line per failure (verdict, id, message, rerun command), for assertion messages."""
        lines = [f"mqttspec exit status {self.returncode}; reports in {self.report_dir}"]
        for i, r in self.failures.items():
            lines.append(f"{r['verdict']}: {i}: {r.get('message', '')}\n    rerun: {r.get('rerun', '')}")
        if self.json is None:
            lines.append(self.stderr.strip())
        return "\n".join(lines)

    def __repr__(self):
        return f"<ConformanceRun exit {self.returncode}, {len(self.results)} scenarios, {len(self.failures)} failures>"


@pytest.fixture
def mqtt_conformance(request, tmp_path):
    """run(target=None, *selectors, version="all", jobs=2, profile=None, strict=False, timeout_ms=None,
    extra_args=(), report_dir=None, timeout=900) -> ConformanceRun."""
    program = _program(request.config, "runner")
    count = [0]

    def run(target=None, *selectors, version="all", jobs=2, profile=None, strict=False, timeout_ms=None,
            extra_args=(), report_dir=None, timeout=900):
        count[0] += 1
        report_dir = pathlib.Path(report_dir or tmp_path / f"mqttspec-reports-{count[0]}")
        args = [str(program), "run", *selectors, "--version", version, "--jobs", str(jobs), "-q",
                "--report-dir", str(report_dir)]
        if target is not None:
            args += ["--target", getattr(target, "target", None) or str(target)]
        if profile:
            args += ["--profile", str(profile)]
        if strict:
            args.append("--strict")
        if timeout_ms:
            args += ["--timeout-ms", str(timeout_ms)]
        args += [str(a) for a in extra_args]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        result = ConformanceRun(args, proc, report_dir)
        if result.json is None:
            pytest.fail(f"mqttspec run wrote no results.json (exit {proc.returncode}):\n{' '.join(args)}\n"
                        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}", pytrace=False)
        return result

    return run
