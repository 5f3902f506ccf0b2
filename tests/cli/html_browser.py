#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The HTML report in a real browser: Debian's headless Chromium, driven
through the DevTools protocol over a pipe (tests/cli/chromium.py).

    python3 tests/cli/html_browser.py --lib build/libtaskleak.so
    python3 tests/cli/html_browser.py --lib ... --screenshots docs/   (the docs' pictures)

1. e2e scenarios run under the library (seed_leaky_worker, cancel_forwarded,
   stuck_after_cancel, destroyed_pending, pending_at_exit, timeout_then_swallow,
   provenance_except_return, and snapshot_hung_epoll, whose snapshot is
   asked for with SIGUSR2); `taskleak report --format html` of their reports
   is opened, and its DOM must hold a card per group and an anchor per leak,
   a lane per task of interest with the marks the reports imply (created,
   each cancel, delivered, caught, ended or still pending), a tooltip with
   the stack on hover and the side panel on click, the await tree of the
   snapshot nested as `awaited_by` says; unchecking a kind hides exactly its
   cards and lanes, the text filter keeps exactly the matching leaks; a
   #leak-PID-ID link shows that leak; the page loads nothing.
2. tests/cli/fixtures/section8/hang.json (the spec's section 8 fields: waits_for,
   deadlocks, threads, reason "shutdown"): the deadlock box, both tasks
   marked, the never-wakes lines, the thread the exit waits for.
3. 10,000 leaks (2,000 groups, 400 sites): the page opens (navigation to
   the first view on screen, measured in the page) in under 2 s, the best
   of 3 tabs; only a page of cards and the lanes in view are in the DOM;
   a filter over all of them answers.
PASS/FAIL lines; exit status 0 when all passed (SKIP: no Chromium).
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "scripts", "python"))
import common  # noqa: E402
from chromium import CHROMIUM, BrowserError, Chromium, Timeout  # noqa: E402

SCENARIOS = os.path.join(REPO, "tests", "e2e", "scenarios")
LEAKING = ("seed_leaky_worker", "cancel_forwarded", "stuck_after_cancel", "destroyed_pending",
           "pending_at_exit", "timeout_then_swallow", "provenance_except_return")
SNAPSHOT = "snapshot_hung_epoll"
SCRIPT = os.path.join(REPO, "scripts", "taskleak")
OPEN_LIMIT_MS = 2000
MANY = 10000
WIDTH, HEIGHT = 1400, 900


# ---------------------------------------------------------------- reports

def scenario_options(path):
    with open(path) as stream:
        for line in stream:
            if not line.startswith("#"):
                break
            match = re.match(r"#\s*options:\s*(\S+)", line)
            if match:
                return match.group(1)
    return ""


def run_scenarios(lib, python, out):
    """Run the scenarios under the library with PYTHON; their reports land in OUT."""
    for name in LEAKING:
        path = os.path.join(SCENARIOS, name + ".py")
        opts = ":".join(filter(None, ["report_path=%s/taskleak.%%p.json" % out, "interval=0",
                                      scenario_options(path)]))
        done = common.run([python, path], env=common.env(lib, opts), cwd=SCENARIOS, timeout=60)
        common.check(not done.timed_out, "%s timed out" % name)
    path = os.path.join(SCENARIOS, SNAPSHOT + ".py")
    opts = "report_path=%s/taskleak.%%p.json:interval=0:%s" % (out, scenario_options(path))
    proc = subprocess.Popen([python, path], env=common.env(lib, opts), cwd=SCENARIOS,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        lines = common.LineReader(proc.stdout)
        common.check(lines.wait(lambda l: l.strip() == b"ready", 0,
                                common.deadline(30)) is not None,
                     "%s never printed ready" % SNAPSHOT)
        report = os.path.join(out, "taskleak.%d.json" % proc.pid)
        os.kill(proc.pid, signal.SIGUSR2)
        got = common.wait_for(lambda: snapshot_of(report), common.deadline(30))
        common.check(got is not None, "%s: no snapshot within 30 s" % SNAPSHOT)
        shutil.copy(report, os.path.join(out, "snapshot.json"))
        proc.stdin.close()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            common.kill_group(proc)
            proc.wait()
    os.replace(os.path.join(out, "snapshot.json"), os.path.join(out, "taskleak.1.json"))


def snapshot_of(path):
    try:
        with open(path) as stream:
            doc = json.load(stream)
    except (OSError, ValueError):
        return None
    return doc if doc.get("reason") == "signal" and doc.get("live_tasks") else None


def render(files, out_html):
    """`taskleak report --format html --root SCENARIOS FILES...` into OUT_HTML."""
    with open(out_html, "wb") as stream:
        done = subprocess.run([sys.executable, SCRIPT, "report", "--format", "html",
                               "--root", SCENARIOS] + files,
                              stdout=stream, stderr=subprocess.PIPE, timeout=120)
    common.check(done.returncode == 0, "taskleak report --format html: %s" % done.stderr)
    return os.path.getsize(out_html)


def reports_in(directory):
    from taskleak.model import expand_inputs, load_reports
    reports, bad = load_reports(expand_inputs([directory]))
    common.check(not bad, "a report in %s is not whole" % directory)
    return reports


# ---------------------------------------------------------------- the page

def open_page(browser, path, hash=""):
    page = browser.open("file://" + path + hash, WIDTH, HEIGHT)
    page.wait_for("window.taskleakReady")
    return page


def js_errors(browser):
    return [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"
            or (e.get("method") == "Runtime.consoleAPICalled"
                and e["params"].get("type") == "error")]


def check_real(browser, directory, html):
    from taskleak.model import group_leaks
    reports = reports_in(directory)
    page = open_page(browser, html)
    print("INFO html: the scenarios' page opened in %.0f ms (navigation to the first view "
          "painted)" % page.evaluate("window.taskleakReady"))
    leaks = [(r.pid_of(l), l) for r in reports for l in r.leaks]
    common.check(len(leaks) >= 8, "only %d leaks in the scenarios' reports" % len(leaks))
    ids = ["leak-%d-%d" % (pid, l["task"]["id"]) for pid, l in leaks]
    missing = page.evaluate("%s.filter(id => !document.getElementById(id))" % json.dumps(ids))
    common.check(not missing, "no card entry for %s" % missing)
    groups = group_leaks(reports, None)
    cards = page.evaluate("document.querySelectorAll('article.card').length")
    common.check(cards == len(groups), "%d cards for %d groups" % (cards, len(groups)))
    for kind, coro, _, members in groups:
        text = page.evaluate("[...document.querySelectorAll('article.card.k-%s h3')]"
                             ".map(h => h.textContent).join('\\n')" % kind)
        common.check("of coroutine %s created at" % coro in text,
                     "no %s card for coroutine %s" % (kind, coro))
    folds = page.evaluate("document.querySelectorAll('article.card details.fold').length")
    common.check(folds > 0, "no folded asyncio frames in the cards")
    sources = page.evaluate("document.querySelectorAll('article.card code.src').length")
    common.check(sources > 0, "no source lines in the cards")
    unfolded = page.evaluate("(() => { const d = document.querySelector('details.fold');"
                             " d.querySelector('summary').click();"
                             " return d.open && d.querySelectorAll('li').length; })()")
    common.check(unfolded, "a click does not unfold the folded frames")
    print("PASS html: %d leak entries in %d cards, asyncio frames folded (a click unfolds "
          "them), %d source lines" % (len(leaks), cards, sources))

    # the timeline: a lane per task of interest, the marks the reports imply
    page.evaluate("document.getElementById('tab-timeline').click()")
    page.wait_for("document.querySelector('#view-timeline .lane')")
    tasks = {}
    for report in reports:
        for entry in report.leaks + report.live_tasks:
            tasks[(report.pid_of(entry), entry["task"]["id"])] = entry
    lanes = page.evaluate("document.querySelectorAll('#view-timeline .lane:not(.proc-row)').length")
    common.check(lanes == len(tasks), "%d lanes for %d tasks of interest" % (lanes, len(tasks)))
    want = {"created": len(tasks),
            "cancel": sum(len(e["cancels"]) for e in tasks.values()),
            "delivered": sum(1 for e in tasks.values() for c in e["cancels"]
                             if c.get("delivered_at")),
            "caught": sum(1 for e in tasks.values() for c in e["cancels"] if c.get("caught_at")),
            "pending": sum(1 for e in tasks.values() if e["state"] == "pending"
                           and not e.get("ended") and not e.get("resolved"))}
    got = page.evaluate("Object.fromEntries(%s.map(k => [k, document.querySelectorAll("
                        "'#view-timeline .mark.m-' + k).length]))" % json.dumps(list(want)))
    common.check(got == want, "timeline marks %s, the reports imply %s" % (got, want))
    common.check(want["delivered"] + want["caught"] > 0, "no delivered or caught site to mark")
    cancel = next(c for e in tasks.values() for c in e["cancels"] if c["python_stack"])
    from taskleak.frames import frame_place, site_frame
    place = frame_place(site_frame(cancel["python_stack"]), SCENARIOS)
    tip = page.evaluate(
        "(() => { const m = [...document.querySelectorAll('.mark.m-cancel')]"
        ".find(m => m.getAttribute('aria-label').includes(%s));"
        " const r = m.getBoundingClientRect();"
        " m.dispatchEvent(new MouseEvent('mouseover', {bubbles: true, clientX: r.x, clientY: r.y}));"
        " const tip = document.getElementById('tip'); const shown = !tip.hidden && tip.textContent;"
        " m.click(); const panel = document.getElementById('panel');"
        " return [shown, panel && panel.querySelectorAll('ol.stack li').length]; })()"
        % json.dumps(place))
    common.check(tip[0] and place in tip[0], "hovering a cancel mark shows no stack with %s: %r"
                 % (place, tip[0]))
    common.check(tip[1], "clicking a cancel mark shows no stack in the panel")
    print("PASS html: timeline of %d lanes, marks %s, hover shows the stack, click keeps it"
          % (lanes, ", ".join("%d %s" % (n, k) for k, n in got.items())))

    # the await tree of the snapshot: nested as awaited_by says
    snapshot = next(r for r in reports if r.live_tasks)
    page.evaluate("document.getElementById('tab-tree').click()")
    page.wait_for("document.querySelector('#view-tree details.node')")
    nested = 0
    for entry in snapshot.live_tasks:
        node = "task-%d-%d" % (snapshot.pid, entry["task"]["id"])
        parent = page.evaluate("(() => { const n = document.getElementById(%s); if (!n) return 'absent';"
                               " const p = n.parentElement.closest('details.node');"
                               " return p ? p.id : null; })()" % json.dumps(node))
        by = entry.get("awaited_by")
        want_parent = "task-%d-%d" % (snapshot.pid, by) if by is not None else None
        common.check(parent == want_parent, "await tree: %s under %s, awaited_by says %s"
                     % (node, parent, want_parent))
        nested += by is not None
    common.check(nested >= 2, "the snapshot has only %d awaited tasks" % nested)
    print("PASS html: await tree of %d live tasks (%d nested under the task awaiting them)"
          % (len(snapshot.live_tasks), nested))

    # filters
    page.evaluate("document.getElementById('tab-leaks').click()")
    kinds = sorted(set(l["kind"] for _, l in leaks))
    hidden = kinds[0]
    after = page.evaluate(
        "(() => { document.querySelector('.filters input[value=%s]').click();"
        " return [...document.querySelectorAll('article.card')].map(c => c.className); })()" % hidden)
    common.check(after and not [c for c in after if "k-" + hidden in c.split()],
                 "unchecking %s left its cards: %s" % (hidden, after))
    common.check(len(after) == sum(1 for g in groups if g[0] != hidden),
                 "unchecking %s: %d cards left, want %d" % (hidden, len(after),
                                                           sum(1 for g in groups if g[0] != hidden)))
    page.evaluate("document.getElementById('tab-timeline').click()")
    lanes_left = page.evaluate("document.querySelectorAll('#view-timeline .lane:not(.proc-row)')"
                               ".length")
    common.check(lanes_left == lanes - sum(1 for _, l in leaks if l["kind"] == hidden),
                 "unchecking %s: %d lanes left of %d" % (hidden, lanes_left, lanes))
    page.evaluate("document.querySelector('.filters input[value=%s]').click();"
                  "document.getElementById('tab-leaks').click()" % hidden)
    coro = leaks[0][1]["task"]["coro"]
    page.evaluate("window.taskleak.setQuery(%s)" % json.dumps(coro))
    shown = page.evaluate("[...document.querySelectorAll('article.card .task')].map(t => t.id)")
    want = sorted("leak-%d-%d" % (pid, l["task"]["id"]) for pid, l in leaks
                  if coro in json.dumps(l))
    common.check(sorted(shown) == want, "text filter %r shows %s, want %s" % (coro, shown, want))
    page.evaluate("window.taskleak.setQuery('')")
    print("PASS html: unchecking %s hides its %d cards and lanes; the text filter %r keeps "
          "exactly the leaks that mention it (%d)" % (hidden, len(groups) - len(after), coro,
                                                      len(want)))

    # an anchor per leak
    pid, leak = leaks[-1]
    anchor = "#leak-%d-%d" % (pid, leak["task"]["id"])
    page = open_page(browser, html, anchor)
    seen = page.wait_for("(() => { const e = document.querySelector(%s); if (!e) return false;"
                         " const r = e.getBoundingClientRect();"
                         " return e.classList.contains('flash') && r.top >= 0 && r.top < innerHeight; })()"
                         % json.dumps(anchor), deadline=10)
    common.check(seen, "%s is not shown" % anchor)
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    common.check(loaded == [], "the page loaded %s" % loaded)
    common.check(not js_errors(browser), "script errors: %s" % js_errors(browser))
    print("PASS html: %s opens on that leak; the page loads nothing, no script error" % anchor)


def check_hang(browser, html):
    page = open_page(browser, html, "#tree")
    facts = page.evaluate("""(() => ({
      deadlock: [...document.querySelectorAll('.box.dl a')].map(a => a.textContent),
      marked: [...document.querySelectorAll('details.node.dl')].map(d => d.id),
      never: document.querySelectorAll('details.node .never').length,
      thread: [...document.querySelectorAll('.box .thead')].map(t => t.textContent).join('|'),
      waits: [...document.querySelectorAll('details.node > summary .waits')].map(w => w.textContent),
      holds: [...document.querySelectorAll('.nbody .line')].map(l => l.textContent)
               .filter(t => t.startsWith('holds ')),
      title: document.querySelector('#view-tree h3').textContent}))()""")
    common.check(sorted(facts["marked"]) == ["task-7000-2", "task-7000-3"],
                 "deadlocked nodes marked: %s" % facts["marked"])
    common.check("order-writer (id 2)" in facts["deadlock"] and "order-reader (id 3)"
                 in facts["deadlock"], "the deadlock box names %s" % facts["deadlock"])
    common.check(facts["never"] == 3, "%d never-wakes lines, want 3" % facts["never"])
    common.check("db-pool-0" in facts["thread"] and "the exit waits for it" in facts["thread"],
                 "threads: %r" % facts["thread"])
    waits = "\n".join(facts["waits"])
    for text in ("gathers order-writer (id 2), order-reader (id 3), mailer (id 4), flusher (id 5)",
                 "waits for lock shop.cache_lock (asyncio.locks.Lock 0x7f22a0300010) held by "
                 "order-reader (id 3)", "waits for queue get shop.outbox",
                 "sleeps until t=16s (0.5 s after the report)"):
        common.check(text in waits, "no waits-for line %r in:\n%s" % (text, waits))
    common.check(any("holds lock shop.db_lock (order-reader (id 3) waits for it)" in h
                     for h in facts["holds"]), "holdings: %s" % facts["holds"])
    common.check("shutdown: the exit hung" in facts["title"], facts["title"])
    common.check(not js_errors(browser), "script errors: %s" % js_errors(browser))
    print("PASS html: shutdown report: deadlock of tasks 2 and 3 marked, 3 never-wakes lines, "
          "the thread the exit waits for, waits-for lines and holdings")


# ---------------------------------------------------------------- 10,000 leaks

def many_leaks(path, n=MANY, sites=400):
    rnd = random.Random(7)
    kinds = ("swallowed_cancel", "stuck_after_cancel", "destroyed_pending", "pending_at_exit")
    aio = "/usr/lib/python3.12/asyncio/"
    tail = [{"function": f, "file": aio + m, "line": l} for f, m, l in (
        ("_run", "events.py", 88), ("_run_once", "base_events.py", 1987),
        ("run_forever", "base_events.py", 641), ("run_until_complete", "base_events.py", 674),
        ("run", "runners.py", 118), ("run", "runners.py", 194))]
    leaks, counts = [], dict((k, 0) for k in kinds)
    for i in range(n):
        kind = kinds[i % 4]
        site = rnd.randrange(sites)
        mod = "/srv/fleet/svc/module_%03d.py" % (site % 97)
        created = [{"function": "create_task", "file": aio + "tasks.py", "line": 420},
                   {"function": "spawn_%d" % site, "file": mod, "line": 10 + site},
                   {"function": "handler_%d" % (site % 13), "file": mod, "line": 200 + site % 13},
                   ] + tail
        cancels = []
        if kind in ("swallowed_cancel", "stuck_after_cancel"):
            cancels.append({"t": 5.0 + i * 0.01, "message": None, "scope": None,
                            "forwarded_from": None,
                            "python_stack": [{"function": "stop", "file": mod, "line": 300}] + tail,
                            "delivered_at": [{"function": "work_%d" % site, "file": mod,
                                              "line": 50 + site}],
                            "caught_at": {"function": "work_%d" % site, "file": mod,
                                          "line": 52 + site}})
        state = "finished" if kind == "swallowed_cancel" else "pending"
        leak = {"kind": kind, "task": {"id": i + 1, "name": "Task-%d" % (i + 1),
                                       "coro": "work_%d" % site, "thread_id": 1,
                                       "address": "0x%x" % (0x7f0000000000 + i * 64)},
                "state": state, "created": {"t": i * 0.01, "python_stack": created,
                                            "native_stack": []},
                "cancels": cancels, "ended": {"t": 5.5 + i * 0.01} if state != "pending" else None,
                "awaiting": [{"function": "work_%d" % site, "file": mod, "line": 60 + site}]}
        if state == "finished":
            leak["result"] = {"type": "NoneType", "repr": "None"}
        if kind == "stuck_after_cancel":
            leak["resolved"] = None
        leaks.append(leak)
        counts[kind] += 1
    doc = {"tool": "taskleak", "version": "1.0.0", "schema": 1, "pid": 9000, "ppid": 1,
           "argv": ["python3", "fleet.py"], "python": "3.12.3", "reason": "exit",
           "t": n * 0.01 + 10, "time": "2026-12-01T00:00:00.000Z", "options": {},
           "stats": {"tasks_created": n, "tasks_done": n, "tasks_live": 0,
                     "cancel_requests": n // 2, "leaks": counts, "leaks_omitted": 0},
           "leaks": leaks}
    with open(path, "w") as stream:
        json.dump(doc, stream)


def check_many(browser, work):
    report = os.path.join(work, "many.json")
    html = os.path.join(work, "many.html")
    many_leaks(report)
    started = time.monotonic()
    size = render([report], html)
    render_s = time.monotonic() - started
    opened = []
    for _ in range(3):
        page = open_page(browser, html)
        opened.append(page.evaluate("window.taskleakReady"))
    dom = page.evaluate("[document.querySelectorAll('article.card').length,"
                        " document.querySelectorAll('.task').length,"
                        " document.querySelector('.pager .count').textContent]")
    took = page.evaluate("(() => { const t = performance.now();"
                         " document.querySelector('.filters input[value=stuck_after_cancel]').click();"
                         " window.taskleak.setQuery('work_17'); const n = document.querySelectorAll('.task').length;"
                         " return [performance.now() - t, n, document.querySelector('.count').textContent]; })()")
    page.evaluate("window.taskleak.setQuery(''); document.querySelector('.filters input[value=stuck_after_cancel]').click();"
                  " document.getElementById('tab-timeline').click()")
    page.wait_for("document.querySelector('#view-timeline .lane')")
    lanes = page.evaluate("[document.querySelectorAll('.lane').length, document.querySelector('.count').textContent]")
    page.evaluate("(() => { const s = document.querySelector('.tl-scroll'); s.scrollTop = s.scrollHeight / 2;"
                  " s.dispatchEvent(new Event('scroll')); })()")
    mid = page.wait_for("(() => { const l = [...document.querySelectorAll('.lane')];"
                        " return l.length && l.some(x => /Task-5\\d\\d\\d /.test(x.textContent)) && l.length; })()",
                        deadline=10)
    print("INFO html: %d leaks: %.1f MB page rendered in %.1f s; opened in %s ms (navigation to the "
          "first view); %d cards and %d task entries in the DOM (%s); kind+text filter over all in %.0f ms "
          "(%s); timeline: %d lanes in the DOM of %s, %d after scrolling to the middle"
          % (MANY, size / 1e6, render_s, ", ".join("%.0f" % t for t in opened), dom[0], dom[1],
             dom[2], took[0], took[2], lanes[0], lanes[1], mid))
    common.check(min(opened) < OPEN_LIMIT_MS, "10,000 leaks: the page opened in %.0f ms at best "
                 "(limit %d ms)" % (min(opened), OPEN_LIMIT_MS))
    common.check(dom[0] <= 20 and lanes[0] < 100 and mid < 100, "not paged or not virtualised: "
                 "%d cards, %d lanes" % (dom[0], lanes[0]))
    common.check(not js_errors(browser), "script errors: %s" % js_errors(browser))
    print("PASS html: %d leaks open in %.0f ms (< %d ms), paged and virtualised"
          % (MANY, min(opened), OPEN_LIMIT_MS))


# ---------------------------------------------------------------- screenshots

def take_screenshots(browser, lib, python, hang_html, work, directory):
    """The docs' pictures: tests/cli/fixtures/shop_shutdown.py run under the
    library (leaks and timeline), hang.json (the await tree)."""
    shop = os.path.join(work, "shop")
    os.mkdir(shop)
    fixtures = os.path.join(HERE, "fixtures")
    done = common.run([python, "shop_shutdown.py"], cwd=fixtures, timeout=60, env=common.env(
        lib, "report_path=%s/taskleak.%%p.json:grace=0.2:interval=0.05" % shop))
    common.check(not done.timed_out and os.listdir(shop), "shop_shutdown.py left no report")
    shop_html = os.path.join(work, "shop.html")
    with open(shop_html, "wb") as stream:
        subprocess.run([sys.executable, SCRIPT, "report", "--format", "html", "--root", fixtures,
                        shop], stdout=stream, check=True, timeout=120)
    shots = []
    page = open_page(browser, shop_html)
    shots.append(("html-leaks.png", page.screenshot()))
    page = open_page(browser, shop_html, "#timeline")
    # the stuck task's cancel, its tooltip drawn under the lanes
    page.evaluate("(() => { const m = document.querySelector('.lane.k-stuck_after_cancel .mark.m-cancel');"
                  " const r = m.getBoundingClientRect(), box = document.querySelector('.tl-scroll')"
                  ".getBoundingClientRect();"
                  " m.dispatchEvent(new MouseEvent('mouseover', {bubbles: true, clientX: r.x - 260,"
                  " clientY: box.bottom - 10})); m.classList.add('sel'); })()")
    shots.append(("html-timeline.png", page.screenshot(clip_to="#tip")))
    page = open_page(browser, hang_html, "#tree")
    shots.append(("html-tree.png", page.screenshot()))
    for name, data in shots:
        with open(os.path.join(directory, name), "wb") as stream:
            stream.write(data)
        print("wrote %s (%d bytes)" % (os.path.join(directory, name), len(data)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lib", default=os.path.join(REPO, "build", "libtaskleak.so"))
    parser.add_argument("--screenshots", metavar="DIR", help="write the docs' screenshots to DIR")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter of the scenarios and the screenshots' program "
                             "(3.12+ records where cancels are caught)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print("SKIP html: no %s (Debian: chromium; scripts/install-deps installs it)" % CHROMIUM)
        return 0
    work = common.mkdtemp("taskleak-html-")
    status = 0
    try:
        reports = os.path.join(work, "reports")
        os.mkdir(reports)
        hang_html = os.path.join(work, "hang.html")
        render([os.path.join(HERE, "fixtures", "section8", "hang.json")], hang_html)
        if args.screenshots:
            with Chromium() as browser:
                take_screenshots(browser, os.path.abspath(args.lib), args.python, hang_html,
                                 work, args.screenshots)
            return 0
        run_scenarios(os.path.abspath(args.lib), args.python, reports)
        real_html = os.path.join(work, "scenarios.html")
        size = render([reports], real_html)
        print("INFO html: the scenarios' page is %d bytes" % size)
        with Chromium() as browser:
            check_real(browser, reports, real_html)
            check_hang(browser, hang_html)
            check_many(browser, work)
    except common.Failure as failure:
        print("FAIL html: %s" % failure)
        for note in failure.notes:
            print("    " + note)
        status = 1
    except (BrowserError, Timeout) as error:
        print("FAIL html: the browser: %s" % error)
        status = 1
    finally:
        if args.keep:
            print("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
