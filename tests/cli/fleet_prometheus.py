#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The metrics where a fleet reads them: Debian's prometheus-node-exporter
(textfile collector on a temporary directory) and Debian's prometheus
scraping it, both on 127.0.0.1 at free ports, with a temporary data
directory, started and stopped here.

    python3 tests/cli/fleet_prometheus.py --lib build/libtaskleak.so

Two programs run under the library with metrics_path=<textfile dir>/
taskleak.%p.prom (tests/cli/fixtures/fleet_app.py: every kind, and
tests/demo/leaky_worker.py); then `promtool check metrics` must pass on
each file and on `taskleak metrics` of each report, and Prometheus' HTTP
API must give, for each pid, the leak counts, tasks created and cancel
requests of that process's JSON report.  Every wait has a deadline; both
servers are stopped (SIGTERM, then SIGKILL) whatever happens.  Prints PASS
or FAIL lines; exit status 0 when all passed (or SKIP: a program is missing).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
import common  # noqa: E402

NODE_EXPORTER = "prometheus-node-exporter"
PROMETHEUS = "prometheus"
PROMTOOL = "promtool"
PROGRAMS = (os.path.join(HERE, "fixtures", "fleet_app.py"),
            os.path.join(REPO, "tests", "demo", "leaky_worker.py"))
START_DEADLINE = 30      # seconds for a server to answer
SCRAPE_DEADLINE = 30     # seconds for Prometheus to hold every series
STOP_DEADLINE = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode("utf-8")


def answers(url):
    try:
        http_get(url)
        return True
    except OSError:
        return False


class Server:
    """A server process in a session of its own, its output in a log."""

    def __init__(self, name, argv, log, probe_url):
        self.name, self.argv, self.log_path, self.probe_url = name, argv, log, probe_url
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        up = common.wait_for(lambda: self.proc.poll() is not None or answers(self.probe_url),
                             common.deadline(START_DEADLINE), poll=0.05)
        if not up or self.proc.poll() is not None:
            raise common.Failure("%s did not answer at %s within %d s (exit %s)"
                                 % (self.name, self.probe_url, START_DEADLINE, self.proc.poll()),
                                 notes=self.tail())

    def tail(self):
        try:
            with open(self.log_path, "rb") as stream:
                return stream.read().decode("utf-8", "replace").splitlines()[-15:]
        except OSError:
            return []

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.proc.wait(STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                common.kill_group(self.proc)
                self.proc.wait()
        self.log.close()


def run_programs(lib, work, textfile):
    """Run each program under the library; {pid: its exit report}."""
    reports = {}
    for program in PROGRAMS:
        opts = common.options(report_path=os.path.join(work, "r.%p.json"),
                              metrics_path=os.path.join(textfile, "taskleak.%p.prom"),
                              grace="0.1", interval="0.05")
        done = common.run([sys.executable, program], env=common.env(lib, opts), cwd=work,
                          timeout=60)
        common.check(done.returncode == 0 and not done.timed_out,
                     "%s exited %s under the library: %s" % (
                         os.path.basename(program), done.returncode,
                         done.stderr.decode("utf-8", "replace")[-400:]))
        prom = os.path.join(textfile, "taskleak.%d.prom" % done.pid)
        common.check(os.path.isfile(prom), "%s: no metrics file %s" % (program, prom))
        path = os.path.join(work, "r.%d.json" % done.pid)
        report = common.load_report(path)
        common.check(report["reason"] == "exit", "%s: the last report is %r, not the exit's"
                     % (path, report["reason"]))
        reports[done.pid] = report
    return reports


def promtool_checks(textfile, work, reports):
    for name in sorted(os.listdir(textfile)):
        with open(os.path.join(textfile, name), "rb") as stream:
            checked = subprocess.run([PROMTOOL, "check", "metrics"], input=stream.read(),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        common.check(checked.returncode == 0, "promtool check metrics %s: %s"
                     % (name, checked.stdout.decode("utf-8", "replace")))
    for pid in reports:
        printed = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "taskleak"),
                                  "metrics", os.path.join(work, "r.%d.json" % pid)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        common.check(printed.returncode == 0, "taskleak metrics: %s" % printed.stderr)
        checked = subprocess.run([PROMTOOL, "check", "metrics"], input=printed.stdout,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        common.check(checked.returncode == 0, "promtool check metrics on taskleak metrics: %s"
                     % checked.stdout.decode("utf-8", "replace"))


def query(prometheus_port, expr):
    """[(labels, value)] of an instant query."""
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (
        prometheus_port, urllib.parse.urlencode({"query": expr}))
    doc = json.loads(http_get(url))
    if doc.get("status") != "success":
        raise common.Failure("query %s: %s" % (expr, doc))
    return [(item["metric"], item["value"][1]) for item in doc["data"]["result"]]


def expected(reports):
    """{(metric, pid, kind or ''): value text} from the JSON reports."""
    want = {}
    for pid, report in reports.items():
        stats = report["stats"]
        for kind, n in stats["leaks"].items():
            want[("taskleak_leaks_total", str(pid), kind)] = str(n)
        want[("taskleak_tasks_created_total", str(pid), "")] = str(stats["tasks_created"])
        want[("taskleak_cancel_requests_total", str(pid), "")] = str(stats["cancel_requests"])
    return want


def scraped(prometheus_port):
    got = {}
    for metric in ("taskleak_leaks_total", "taskleak_tasks_created_total",
                   "taskleak_cancel_requests_total"):
        for labels, value in query(prometheus_port, metric):
            got[(metric, labels.get("pid"), labels.get("kind", ""))] = value
    return got


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lib", default=os.path.join(REPO, "build", "libtaskleak.so"))
    args = parser.parse_args()
    missing = [p for p in (NODE_EXPORTER, PROMETHEUS, PROMTOOL) if not shutil.which(p)]
    if missing:
        print("SKIP metrics: %s not installed (scripts/install-deps installs them)"
              % ", ".join(missing))
        return 0
    lib = os.path.abspath(args.lib)
    work = common.mkdtemp("taskleak-fleet-")
    textfile = os.path.join(work, "textfile")
    os.mkdir(textfile)
    servers = []
    started = time.monotonic()
    try:
        reports = run_programs(lib, work, textfile)
        promtool_checks(textfile, work, reports)
        print("PASS metrics: promtool check metrics on %d files and on `taskleak metrics`"
              % len(reports))
        ne_port = free_port()
        servers.append(Server("node_exporter", [
            NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % ne_port,
            "--collector.disable-defaults", "--collector.textfile",
            "--collector.textfile.directory=" + textfile],
            os.path.join(work, "node_exporter.log"), "http://127.0.0.1:%d/metrics" % ne_port))
        servers[-1].start()
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as stream:
            stream.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                         "scrape_configs:\n  - job_name: node\n    static_configs:\n"
                         "      - targets: ['127.0.0.1:%d']\n" % ne_port)
        prom_port = free_port()
        servers.append(Server("prometheus", [
            PROMETHEUS, "--config.file=" + config,
            "--web.listen-address=127.0.0.1:%d" % prom_port,
            "--storage.tsdb.path=" + os.path.join(work, "data")],
            os.path.join(work, "prometheus.log"), "http://127.0.0.1:%d/-/ready" % prom_port))
        servers[-1].start()
        want = expected(reports)
        got = common.wait_for(lambda: (lambda g: g if all(k in g for k in want) else None)(
            scraped(prom_port)), common.deadline(SCRAPE_DEADLINE), poll=0.25)
        if got is None:
            raise common.Failure("Prometheus did not hold every series within %d s: has %s"
                                 % (SCRAPE_DEADLINE, sorted(scraped(prom_port))),
                                 notes=servers[-1].tail())
        wrong = ["%s{pid=%s,kind=%s}: Prometheus %s, the report %s" % (k + (got[k], v))
                 for k, v in sorted(want.items()) if got[k] != v]
        common.check(not wrong, "Prometheus and the JSON reports disagree: " + "; ".join(wrong))
        leaks = sum(int(v) for k, v in want.items() if k[0] == "taskleak_leaks_total")
        print("PASS metrics: Prometheus (node_exporter textfile) has the reports' counts "
              "for %d processes (%d leaks, every kind) in %.1f s"
              % (len(reports), leaks, time.monotonic() - started))
        return 0
    except common.Failure as failure:
        print("FAIL metrics: %s" % failure)
        for note in failure.notes:
            print("    " + note)
        return 1
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
