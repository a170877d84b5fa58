"""mqttspec run --shard K/N, mqttspec merge and mqttspec compare, end to end; the comparison page is
checked in a real headless browser (Debian's chromium) when one is installed."""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
BUILD = pathlib.Path(os.environ.get("MQTTSPEC_BUILD", REPO / "build" / "test"))
MQTTSPEC = BUILD / "conformance" / "runner" / "mqttspec"
JUNIT_XSD = REPO / "reports" / "junit.xsd"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REPORTS = ("results.json", "junit.xml", "statements.csv", "statements.md", "report.html")
# A quick selection: a few sections of both versions, including what mosquitto 2.0.11 fails.
SELECTION = ["v3.1.1.malformed.reserved-flags-*", "v5.retain.*", "3.12", "v5.subscribe.*"]

pytestmark = pytest.mark.skipif(not MQTTSPEC.exists(), reason=f"mqttspec not built in {BUILD}")


def mqttspec(*args, check=None):
    done = subprocess.run([str(MQTTSPEC), *map(str, args)], capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    if check is not None:
        assert done.returncode == check, f"mqttspec {' '.join(map(str, args))}: exit {done.returncode}\n" \
                                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def results(path):
    return json.loads(pathlib.Path(path).read_text())["results"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The selection against the embedded broker: whole, and in three shards."""
    d = tmp_path_factory.mktemp("shards")
    mqttspec("run", *SELECTION, "-q", "--report-dir", d / "whole", check=0)
    for k in (1, 2, 3):
        mqttspec("run", *SELECTION, "-q", "--shard", f"{k}/3", "--report-dir", d / f"shard{k}", check=0)
    return d


@pytest.fixture(scope="module")
def mosquitto_run(tmp_path_factory):
    """The selection against mosquitto: a run with failures, wire logs and findings."""
    if not os.path.exists(MOSQUITTO):
        pytest.skip("mosquitto is not installed")
    d = tmp_path_factory.mktemp("mosquitto")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (d / "mosquitto.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(d / "mosquitto.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "mosquitto did not start"
                time.sleep(0.05)
        done = mqttspec("run", *SELECTION, "-q", "--target", f"127.0.0.1:{port}", "--report-dir", d / "mosquitto")
    finally:
        proc.terminate()
        proc.wait(10)
    assert done.returncode in (0, 1), done.stderr
    return d / "mosquitto"


def test_shards_cover_the_selection_once(runs):
    whole = [r["id"] for r in results(runs / "whole" / "results.json")]
    shards = [[r["id"] for r in results(runs / f"shard{k}" / "results.json")] for k in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(whole)  # every scenario in exactly one shard
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    again = mqttspec("run", *SELECTION, "-q", "--shard", "2/3", "--report-dir", runs / "shard2-again", check=0)
    assert [r["id"] for r in results(runs / "shard2-again" / "results.json")] == shards[1], again.stdout
    assert "--shard" in mqttspec("run", "--help", check=0).stdout
    assert mqttspec("run", "--shard", "4/3").returncode == 2
    assert mqttspec("run", "--shard", "0/3").returncode == 2


def test_merged_shards_equal_the_whole_run(runs, tmp_path):
    out = tmp_path / "merged"
    done = mqttspec("merge", *(runs / f"shard{k}" / "results.json" for k in (3, 1, 2)), "--report-dir", out, check=0)
    assert "merged 3 runs" in done.stdout
    whole = results(runs / "whole" / "results.json")
    merged = results(out / "results.json")
    assert [(r["id"], r["verdict"]) for r in merged] == [(r["id"], r["verdict"]) for r in whole]
    for name in REPORTS:
        assert (out / name).stat().st_size > 0, name
    check = subprocess.run(["xmllint", "--noout", "--schema", str(JUNIT_XSD), str(out / "junit.xml")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


def test_merge_refuses_a_scenario_twice(runs, tmp_path):
    shard = runs / "shard1" / "results.json"
    done = mqttspec("merge", shard, shard, "--report-dir", tmp_path / "m")
    assert done.returncode == 2
    assert "is in both" in done.stderr


def test_merge_regenerates_every_report_from_results_json(mosquitto_run, tmp_path):
    """results.json holds all the writers need: one run merged alone gives the same five files."""
    done = mqttspec("merge", mosquitto_run / "results.json", "--report-dir", tmp_path / "again")
    verdicts = {r["verdict"] for r in results(mosquitto_run / "results.json")}
    assert done.returncode == (1 if "fail" in verdicts else 0), done.stderr
    for name in REPORTS:
        assert (tmp_path / "again" / name).read_bytes() == (mosquitto_run / name).read_bytes(), name


@pytest.fixture(scope="module")
def comparison(runs, mosquitto_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    done = mqttspec("compare", runs / "whole" / "results.json", mosquitto_run / "results.json",
                    runs / "shard1" / "results.json", "--names", "reference,mosquitto,one shard", "--out", out, check=0)
    assert "compared 3 runs" in done.stdout
    return out


def test_compare_writes_a_self_contained_page_and_markdown(comparison, mosquitto_run):
    page = (comparison / "compare.html").read_text()
    for external in ("<link", " src=", "http://", "https://", "@import"):
        assert external not in page, external
    markdown = (comparison / "compare.md").read_text()
    assert "| section | scenario | reference | mosquitto | one shard |" in markdown
    failed = [r["id"] for r in results(mosquitto_run / "results.json") if r["verdict"] == "fail"]
    for scenario_id in failed:
        assert f'href="#d1-{scenario_id}"' in page  # the cell links to the embedded details
        assert f'<details id="d1-{scenario_id}">' in page
        assert f"| {scenario_id} | pass | **fail** |" in markdown
    assert "| missing |" in markdown  # the shard lacks most scenarios


def test_compare_rejects_names_that_do_not_fit(runs, tmp_path):
    done = mqttspec("compare", runs / "whole" / "results.json", "--names", "a,b", "--out", tmp_path)
    assert done.returncode == 2


def selftest_in_chromium(page, profile):
    """Opens `page` with #selftest in headless chromium; returns what the page wrote into <output>."""
    url = page.resolve().as_uri() + "#selftest"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    dom = done.stdout
    start = dom.find('<output id="selftest">')
    assert start >= 0, dom[:2000]
    return dom[start + len('<output id="selftest">'):dom.find("</output>", start)]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (ci/setup.sh installs it)")
def test_compare_page_in_a_headless_browser(comparison, tmp_path):
    """The page loads in chromium without script errors, and its filters and links work: opened with
    #selftest it exercises every verdict filter, the text and 'differ' filters and every verdict
    link, and writes the outcome into the DOM that --dump-dom prints."""
    outcome = selftest_in_chromium(comparison / "compare.html", tmp_path / "profile")
    assert outcome.startswith("selftest: ok"), outcome
    # The self-test can fail: a page whose filter hides nothing, or that has a script error, says so.
    page = (comparison / "compare.html").read_text()
    assert "tr.hidden = !ok;" in page
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace("tr.hidden = !ok;", "tr.hidden = false;"))
    outcome = selftest_in_chromium(broken, tmp_path / "profile")
    assert outcome.startswith("selftest: FAILED: verdict filter"), outcome
    broken.write_text(page.replace("</body>", "<script>undefinedFunction();</script></body>"))
    outcome = selftest_in_chromium(broken, tmp_path / "profile")
    assert "script error" in outcome and "undefinedFunction" in outcome, outcome
