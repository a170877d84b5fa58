"""The CI recipes, checked as far as a machine without GitHub, GitLab or Docker allows: every YAML
file parses; workflows, the composite action, the GitLab template and .clusterfuzzlite/ reference
only files, jobs, inputs and steps that exist; and the shell parts of the composite action and of
the GitLab template run here, step by step, the way their CI services would run them (against
mqttspec-broker, in shards, then merged). What only the services can check: the `uses:` steps
(actions/checkout, upload/download-artifact, ClusterFuzzLite's actions), containers and services,
and their expression language beyond ${{ inputs.* }}, ${{ steps.*.outputs.* }} and ${{ matrix.* }}."""
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[3]
BUILD = pathlib.Path(os.environ.get("MQTTSPEC_BUILD", REPO / "build" / "test"))
MQTTSPEC = BUILD / "conformance" / "runner" / "mqttspec"
BROKER = BUILD / "reference" / "broker" / "app" / "mqttspec-broker"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTION = REPO / "action.yml"
GITLAB = REPO / "ci" / "gitlab" / "mqttspec.gitlab-ci.yml"
CFLITE = REPO / ".clusterfuzzlite"
SKIP_DIRS = {".git", "build", "node_modules", "reports", ".cache", "__pycache__"}
SELECTION = "v5.retain.* 3.12 v3.1.1.malformed.reserved-flags-p*"

needs_build = pytest.mark.skipif(not (MQTTSPEC.exists() and BROKER.exists()), reason=f"mqttspec not built in {BUILD}")


def yaml_files():
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for f in files:
            if f.endswith((".yml", ".yaml")):
                yield pathlib.Path(root, f)


def load(path):
    return yaml.safe_load(path.read_text())


def on_of(workflow):
    # YAML 1.1 reads the key `on` as True.
    return workflow.get("on", workflow.get(True))


def referenced_scripts(text):
    """Repository files a shell snippet runs: ci/*.sh, fuzz/*.sh, .clusterfuzzlite/*."""
    return set(re.findall(r"(?<![\w/.-])((?:ci|fuzz|\.clusterfuzzlite)/[\w./-]+\.(?:sh|yml|yaml))", text))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_yaml_file_parses():
    files = list(yaml_files())
    assert {ACTION, GITLAB, CFLITE / "project.yaml", *WORKFLOWS} <= set(files)
    for f in files:
        try:
            list(yaml.safe_load_all(f.read_text()))
        except yaml.YAMLError as e:
            pytest.fail(f"{f.relative_to(REPO)}: {e}")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_github_workflow_is_well_formed(path):
    wf = load(path)
    assert wf.get("name"), "a workflow has a name"
    assert on_of(wf), "a workflow has triggers (on:)"
    jobs = wf["jobs"]
    assert jobs
    for job_id, job in jobs.items():
        where = f"{path.name}: job {job_id}"
        assert "runs-on" in job or "uses" in job, where
        needs = job.get("needs", [])
        for n in [needs] if isinstance(needs, str) else needs:
            assert n in jobs, f"{where} needs unknown job {n}"
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        text = json.dumps(job)
        for name in re.findall(r"\$\{\{\s*matrix\.([\w-]+)", text):
            assert name in matrix, f"{where}: matrix.{name} is not in its matrix"
        for i, step in enumerate(job.get("steps", [])):
            assert ("run" in step) != ("uses" in step), f"{where} step {i}: one of run/uses"
            uses = step.get("uses", "")
            if uses.startswith("./"):
                local = REPO / uses
                assert (local / "action.yml").exists() or (local / "action.yaml").exists(), f"{where}: {uses}"
            elif uses:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[\w.-]+", uses), f"{where}: {uses} is pinned to no version"
            for script in referenced_scripts(step.get("run", "") + " " + json.dumps(step.get("with", {}))):
                assert (REPO / script).exists(), f"{where}: {script} does not exist"


def test_ci_workflow_runs_the_readme_test_command_and_a_fuzz_smoke_run():
    jobs = load(REPO / ".github" / "workflows" / "ci.yml")["jobs"]
    runs = [s.get("run", "") for j in jobs.values() for s in j.get("steps", [])]
    assert any("ci/test.sh" in r for r in runs)
    assert "ci/test.sh" in (REPO / "README.md").read_text()
    assert any("ci/fuzz.sh" in r for r in runs)


def test_clusterfuzzlite_files():
    project = load(CFLITE / "project.yaml")
    assert project["language"] == "c++"
    assert set(project["sanitizers"]) <= {"address", "undefined", "memory"}
    dockerfile = (CFLITE / "Dockerfile").read_text()
    assert re.search(r"^FROM gcr\.io/oss-fuzz-base/base-builder", dockerfile, re.M)
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (REPO / source).exists(), source
    assert "COPY .clusterfuzzlite/build.sh $SRC/" in dockerfile
    build = (CFLITE / "build.sh").read_text()
    assert "fuzz/oss-fuzz-build.sh" in build and (REPO / "fuzz" / "oss-fuzz-build.sh").exists()
    for wf in ("cflite_pr.yml", "cflite_batch.yml"):
        uses = [s["uses"] for j in load(REPO / ".github" / "workflows" / wf)["jobs"].values() for s in j["steps"]]
        assert any("clusterfuzzlite/actions/build_fuzzers" in u for u in uses), wf
        assert any("clusterfuzzlite/actions/run_fuzzers" in u for u in uses), wf


def test_shell_scripts_are_clean():
    scripts = [REPO / "ci" / "mqttspec-ci.sh", CFLITE / "build.sh"]
    for s in scripts:
        done = subprocess.run(["bash", "-n", str(s)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    if shutil.which("shellcheck"):
        done = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout


def test_clusterfuzzlite_build_script_under_the_oss_fuzz_contract(tmp_path):
    """build.sh as OSS-Fuzz's `compile` runs it ($SRC/build.sh, the source in $SRC/mqttspec, flags
    from the environment), with a stand-in compiler that records each call and writes its output:
    every target, dictionary, .options and seed corpus lands in $OUT, objects in $WORK, and every
    compile gets $CXXFLAGS. (A real clang run of it: docs/fuzzing.md.)"""
    src, out, work = tmp_path / "src", tmp_path / "out", tmp_path / "work"
    src.mkdir()
    (src / "mqttspec").symlink_to(REPO)
    shutil.copy(CFLITE / "build.sh", src / "build.sh")
    (src / "nlohmann-json" / "single_include").mkdir(parents=True)
    log = tmp_path / "cxx.log"
    cxx = tmp_path / "fake-clang++"
    cxx.write_text('#!/bin/sh\necho "$@" >>"%s"\nwhile [ $# -gt 0 ]; do [ "$1" = -o ] && : >"$2"; shift; done\n' % log)
    cxx.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQTTSPEC")}
    env.update(CC="false", CXX=str(cxx), CFLAGS="-O1 -fsanitize=address -fsanitize=fuzzer-no-link",
               CXXFLAGS="-O1 -fsanitize=address -fsanitize=fuzzer-no-link -stdlib=libc++",
               LIB_FUZZING_ENGINE="-fsanitize=fuzzer", SRC=str(src), OUT=str(out), WORK=str(work),
               SANITIZER="address", FUZZING_ENGINE="libfuzzer", ARCHITECTURE="x86_64")
    done = subprocess.run(["bash", "-eu", str(src / "build.sh")], cwd=src / "mqttspec", env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = log.read_text().splitlines()
    assert calls and all("-stdlib=libc++" in c and f"-I{src}/nlohmann-json/single_include" in c for c in calls)
    assert list(work.glob("obj/*.o")), "objects go to $WORK"
    targets = [c.split(" -o ")[1].split()[0] for c in calls if "-fsanitize=fuzzer " in c + " "]
    assert len(targets) >= 8
    for t in targets:
        name = pathlib.Path(t).name
        assert pathlib.Path(t).parent == out
        for extra in (".dict", ".options", "_seed_corpus.zip"):
            assert (out / f"{name}{extra}").stat().st_size > 0, name + extra


# --- the composite action, run step by step -------------------------------------------------------


def action_steps(inputs):
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    declared = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, unknown
    values = {k: str(v.get("default", "")) for k, v in declared.items()}
    values.update(inputs)
    return action, values


def expand(text, values, outputs):
    def one(m):
        expr = m.group(1).strip()
        if expr.startswith("inputs."):
            return values[expr[len("inputs."):]]
        match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if match:
            return outputs.get(match.group(1), {}).get(match.group(2), "")
        raise AssertionError(f"expression this test cannot evaluate: {expr}")
    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


def run_action(inputs, tmp_path, env_extra):
    """Runs the composite action's `run` steps as GitHub would (bash -e, GITHUB_* files); `uses`
    steps are recorded, not run. Returns (step outputs, uses steps with their inputs, step summary)."""
    action, values = action_steps(inputs)
    outputs, uses, failed = {}, [], False
    summary = tmp_path / "step-summary.md"
    for i, step in enumerate(action["runs"]["steps"]):
        condition = step.get("if", "success()")
        if not (condition == "always()" or (condition == "success()" and not failed)):
            continue
        if "uses" in step:
            uses.append((step["uses"], {k: expand(v, values, outputs) for k, v in step.get("with", {}).items()}))
            continue
        assert step.get("shell") == "bash", f"step {i} names its shell"
        out_file = tmp_path / f"output-{i}"
        out_file.write_text("")
        env = dict(os.environ)
        env.update(GITHUB_ACTION_PATH=str(REPO), GITHUB_OUTPUT=str(out_file), GITHUB_STEP_SUMMARY=str(summary),
                   **env_extra)
        env.update({k: expand(v, values, outputs) for k, v in step.get("env", {}).items()})
        script = expand(step["run"], values, outputs)
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=600)
        if "id" in step:
            outputs[step["id"]] = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
        if done.returncode != 0:
            failed = True
            outputs.setdefault("_failed", {})[str(i)] = done.stdout + done.stderr
    return outputs, uses, summary.read_text() if summary.exists() else "", failed


def test_action_declares_what_it_uses():
    action = load(ACTION)
    text = json.dumps(action["runs"])
    for name in re.findall(r"\$\{\{\s*inputs\.([\w-]+)", text + json.dumps(action.get("outputs", {}))):
        assert name in action["inputs"], name
    ids = {s.get("id") for s in action["runs"]["steps"]}
    for sid in re.findall(r"\$\{\{\s*steps\.([\w-]+)\.", text + json.dumps(action.get("outputs", {}))):
        assert sid in ids, sid
    for script in referenced_scripts(text):
        assert (REPO / script).exists(), script
    assert {"target", "version", "args", "shard"} <= set(action["inputs"])


@needs_build
def test_action_certifies_a_broker_in_shards_and_merges(tmp_path):
    port = free_port()
    env = {"MQTTSPEC_BIN": str(MQTTSPEC)}  # instead of building mqttspec again
    ids = []
    for k in (1, 2):
        outputs, uses, summary, failed = run_action({
            "target": f"127.0.0.1:{port}", "broker-command": f"{BROKER} --port {port}", "args": SELECTION,
            "shard": f"{k}/2", "report-dir": f"shard{k}"}, tmp_path, env)
        assert not failed, outputs
        assert outputs["mqttspec"] == {"exit-code": "0", "artifact": f"mqttspec-reports-{k}-of-2"}
        upload = dict(uses)["actions/upload-artifact@v4"]
        assert upload["name"] == f"mqttspec-reports-{k}-of-2" and upload["path"] == f"shard{k}"
        assert (tmp_path / f"shard{k}" / "junit.xml").exists()
        assert "### mqttspec: 127.0.0.1:" in summary
        ids += [r["id"] for r in json.loads((tmp_path / f"shard{k}" / "results.json").read_text())["results"]]
    assert len(ids) == len(set(ids))
    outputs, uses, summary, failed = run_action({"mode": "merge", "merge-inputs": "shard*/results.json",
                                                 "report-dir": "merged"}, tmp_path, env)
    assert not failed, outputs
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())["results"]
    assert sorted(r["id"] for r in merged) == sorted(ids)


@needs_build
def test_action_fails_the_job_on_failures_unless_told_otherwise(tmp_path):
    # Nothing listens on the target: exit status 2; `fail-on: never` keeps the job green.
    target = {"target": f"127.0.0.1:{free_port()}", "wait-seconds": "1", "args": "v5.retain.*"}
    env = {"MQTTSPEC_BIN": str(MQTTSPEC)}
    outputs, _, _, failed = run_action(target, tmp_path, env)
    assert failed and outputs["mqttspec"]["exit-code"] == "2"
    outputs, _, _, failed = run_action({**target, "fail-on": "never"}, tmp_path, env)
    assert not failed and outputs["mqttspec"]["exit-code"] == "2"


# --- the GitLab template, run job by job ----------------------------------------------------------


def gitlab_job(template, name):
    """The job with its `extends` chain resolved (GitLab's deep merge of hashes)."""
    job = dict(template[name])
    parent = job.pop("extends", None)
    if parent:
        base = gitlab_job(template, parent)
        merged = {**base, **job}
        merged["variables"] = {**base.get("variables", {}), **job.get("variables", {})}
        return merged
    return job


def test_gitlab_template_is_well_formed():
    template = load(GITLAB)
    for name, job in template.items():
        if not isinstance(job, dict):
            continue
        assert name.startswith("."), f"{name}: a template defines hidden jobs only"
        if "extends" in job:
            assert job["extends"] in template, f"{name} extends unknown {job['extends']}"
        for key in ("script", "before_script"):
            assert all(isinstance(line, str) for line in job.get(key, [])), f"{name}: {key}"
    for name in (".mqttspec", ".mqttspec-merge"):
        job = gitlab_job(template, name)
        assert job["script"] and job["image"]
        text = json.dumps(job)
        for script in re.findall(r"\$MQTTSPEC_SOURCE_DIR/([\w./-]+\.sh)", text):
            assert (REPO / script).exists(), script
    assert gitlab_job(template, ".mqttspec")["artifacts"]["reports"]["junit"]


def run_gitlab_job(template, name, project_dir, variables):
    job = gitlab_job(template, name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQTTSPEC")}
    env.update({k: str(v) for k, v in job.get("variables", {}).items()})
    env.update(CI_PROJECT_DIR=str(project_dir), **variables)
    script = "\n".join(["set -eo pipefail", *job.get("before_script", []), *job["script"]])
    return job, subprocess.run(["bash", "-c", script], cwd=project_dir, env=env, capture_output=True, text=True,
                               timeout=600)


@needs_build
def test_gitlab_template_certifies_in_parallel_jobs_and_merges(tmp_path):
    template = load(GITLAB)
    port = free_port()
    common = {"MQTTSPEC_SOURCE_DIR": str(REPO), "MQTTSPEC_BIN": str(MQTTSPEC), "MQTTSPEC_ARGS": SELECTION,
              "MQTTSPEC_TARGET": f"127.0.0.1:{port}", "MQTTSPEC_BROKER_COMMAND": f"{BROKER} --port {port}"}
    for k in (1, 2):  # `parallel: 2`
        job, done = run_gitlab_job(template, ".mqttspec", tmp_path, {**common, "CI_NODE_INDEX": str(k),
                                                                     "CI_NODE_TOTAL": "2"})
        assert done.returncode == 0, done.stdout + done.stderr
        junit = list(tmp_path.glob(job["artifacts"]["reports"]["junit"]))
        assert len(junit) == k, "each shard's junit.xml is where the artifacts pick it up"
    job, done = run_gitlab_job(template, ".mqttspec-merge", tmp_path, common)
    assert done.returncode == 0, done.stdout + done.stderr
    merged = json.loads((tmp_path / "reports" / "merged" / "results.json").read_text())["results"]
    shards = [json.loads(p.read_text())["results"] for p in tmp_path.glob("reports/mqttspec-*/results.json")]
    assert sorted(r["id"] for r in merged) == sorted(r["id"] for s in shards for r in s)
    assert all((tmp_path / p).exists() for p in job["artifacts"]["paths"])


def test_gitlab_template_says_what_is_missing(tmp_path):
    _, done = run_gitlab_job(load(GITLAB), ".mqttspec", tmp_path, {})
    assert done.returncode == 2
    assert "MQTTSPEC_GIT_URL" in done.stderr
