# SPDX-License-Identifier: MIT
"""A headless Chromium driven through the DevTools protocol over a pipe
(--remote-debugging-pipe: commands on its fd 3, answers and events on its
fd 4, each JSON message ended by a NUL byte).  Standard library only: no
puppeteer, no browser download; Debian's /usr/bin/chromium.

    with Chromium() as browser:
        page = browser.open("file:///tmp/report.html", width=1280, height=900)
        page.evaluate("document.title")
        png = page.screenshot()

Every wait has a deadline (Timeout names what did not come).  A fresh
--user-data-dir per browser, removed at close; the browser's process group
is killed if it does not end in time.
"""

import base64
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-pipe")
DEADLINE = 60            # seconds for any one answer


class Timeout(Exception):
    pass


class BrowserError(Exception):
    pass


class Chromium:

    def __init__(self, path=CHROMIUM, deadline=DEADLINE):
        self.deadline = deadline
        self.profile = tempfile.mkdtemp(prefix="taskleak-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def plumbing():
            # fds 3 and 4 of the browser; first out of the way of each other
            ours = [os.dup(to_browser_r), os.dup(from_browser_w)]
            os.dup2(ours[0], 3)
            os.dup2(ours[1], 4)

        self.log = open(os.path.join(self.profile, "stderr.log"), "wb")
        self.proc = subprocess.Popen(
            [path] + list(FLAGS) + ["--user-data-dir=" + self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            preexec_fn=plumbing, close_fds=False, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    # -- the protocol ------------------------------------------------------------

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.to_browser, data):]
        return self.next_id

    def receive(self, until):
        """The next message; Timeout at UNTIL (time.monotonic())."""
        while b"\0" not in self.buffer:
            left = until - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise Timeout("no message from Chromium in time")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed its pipe (exit %s): %s"
                                   % (self.proc.poll(), self.stderr_tail()))
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(raw.decode("utf-8"))

    def call(self, method, params=None, session=None, deadline=None):
        wanted = self.send(method, params, session)
        until = time.monotonic() + (deadline or self.deadline)
        while True:
            message = self.receive(until)
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError("%s: %s" % (method, message["error"]))
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_event(self, method, session, deadline=None):
        until = time.monotonic() + (deadline or self.deadline)
        while True:
            for n, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self.events[n]
                    return event.get("params", {})
            message = self.receive(until)
            if "method" in message:
                self.events.append(message)

    def stderr_tail(self):
        try:
            with open(os.path.join(self.profile, "stderr.log"), "rb") as stream:
                return stream.read()[-600:].decode("utf-8", "replace")
        except OSError:
            return ""

    # -- pages -------------------------------------------------------------------

    def open(self, url, width=1280, height=900):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.call("Page.enable")
        page.call("Runtime.enable")
        page.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        page.navigate(url)
        return page

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.call("Browser.close", deadline=10)
                except (Timeout, BrowserError, OSError):
                    pass
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(self.proc.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    self.proc.wait()
        finally:
            for fd in (self.to_browser, self.from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:

    def __init__(self, browser, session):
        self.browser = browser
        self.session = session

    def call(self, method, params=None, deadline=None):
        return self.browser.call(method, params, self.session, deadline)

    def navigate(self, url):
        self.browser.events = [e for e in self.browser.events
                               if e.get("method") != "Page.loadEventFired"]
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError("cannot open %s: %s" % (url, result["errorText"]))
        self.browser.wait_event("Page.loadEventFired", self.session)

    def evaluate(self, expression, deadline=None):
        """The value of EXPRESSION (JSON-able; promises awaited)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, deadline)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError("%s: %s" % (expression[:80], details.get("exception", {})
                                           .get("description", details.get("text"))))
        return result.get("result", {}).get("value")

    def wait_for(self, expression, deadline=DEADLINE):
        """EXPRESSION's value once truthy (polled in the page), Timeout else."""
        value = self.evaluate(
            "new Promise(ok => { const end = Date.now() + %d; (function poll() {"
            " let v; try { v = (%s); } catch (e) { v = null; }"
            " if (v || Date.now() > end) ok(v && typeof v === 'object' ? true : v || null);"
            " else setTimeout(poll, 10); })(); })"
            % (deadline * 1000, expression), deadline=deadline + 10)
        if not value:
            raise Timeout("%s did not become true within %d s" % (expression, deadline))
        return value

    def screenshot(self, full_page=False, clip_to=None):
        """A PNG of the viewport (or the whole page), cut below CLIP_TO (a
        selector) when given."""
        params = {"format": "png"}
        if clip_to:
            bottom = self.evaluate("Math.ceil(document.querySelector(%s).getBoundingClientRect()"
                                   ".bottom) + 16" % json.dumps(clip_to))
            width = self.evaluate("innerWidth")
            params["clip"] = {"x": 0, "y": 0, "width": width,
                              "height": min(bottom, self.evaluate("innerHeight")), "scale": 1}
        if full_page:
            size = self.evaluate("[document.documentElement.scrollWidth,"
                                 " document.documentElement.scrollHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
            params["captureBeyondViewport"] = True
        return base64.b64decode(self.call("Page.captureScreenshot", params)["data"])
