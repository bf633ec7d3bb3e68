#!/usr/bin/env python3
"""Time from a tap on the phone page to the first byte of audio, for lengths never made before.

Starts `guidecast serve --routines routines/` on 127.0.0.1 with an empty cache, makes a routine
once at its natural length (a listener's first pick: the voice says every sentence that any
length of it says), then asks for other lengths one after another, each followed as the page
follows it (POST /api/variant, then GET again, every 150 ms at first, until it is ready), and
reads the first bytes of its MP3. Between the first pick and the next tap it waits `--settle`
seconds: the server measures what the other lengths say once the first session is ready.
Prints for each length the render time the server reports and the time from the tap to the
first byte. Goal (issue 16): once the routine is warm, any length plays within 1 s of the tap.

    python scripts/bench_tap.py                              # Love Your Spine
    python scripts/bench_tap.py --routine back-stiffness --minutes 20 25 30
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench import with_bytecode

ROOT = Path(__file__).resolve().parent.parent


def poll_s(asked: int) -> float:
    """When the page asks again whether a session is ready (web/index.html)."""
    return 0.15 if asked < 4 else 0.4


def call(url: str, method: str) -> dict[str, object]:
    """The server's answer about a variant (its refusal as `error`)."""
    request = urllib.request.Request(url, method=method, headers={"Origin": url.split("/api")[0]})
    try:
        with urllib.request.urlopen(request, timeout=600) as reply:
            answer: dict[str, object] = json.loads(reply.read())
            return answer
    except urllib.error.HTTPError as e:
        return {"error": f"{e.code} {e.read().decode().strip()}"}


def tap(base: str, query: str) -> tuple[float, float, str]:
    """Ask for a variant as the page does: (seconds to the first audio byte, render seconds
    the server reports, final state)."""
    started = time.perf_counter()
    body = call(f"{base}/api/variant?{query}", "POST")
    asked = 0
    while body.get("state") in ("queued", "rendering"):
        time.sleep(poll_s(asked))
        asked += 1
        body = call(f"{base}/api/variant?{query}", "GET")
    if body.get("state") != "ready":
        return time.perf_counter() - started, 0.0, str(body.get("error") or body)
    session = body["session"]
    assert isinstance(session, dict)
    with urllib.request.urlopen(f"{base}/{session['mp3']}", timeout=60) as reply:
        reply.read(4096)
    return time.perf_counter() - started, float(str(body.get("seconds", 0))), "ready"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routine", default="love-your-spine")
    parser.add_argument("--minutes", type=int, nargs="+", default=[43, 44, 46, 48, 50, 53, 56, 59])
    parser.add_argument(
        "--settle",
        type=float,
        default=15.0,
        help="seconds between the first pick and the next tap, while the server measures "
        "what the other lengths say (a listener is playing the first session then)",
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory(prefix="guidecast-tap-") as tmp:
        work = Path(tmp)
        with_bytecode(work)
        server = subprocess.Popen(
            [sys.executable, "-m", "guidecast", "serve", str(work / "site"), "--routines",
             str(ROOT / "routines"), "--host", "127.0.0.1", "--port", "0",
             "--cache-dir", str(work / "cache")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            base = ""
            for line in server.stdout:
                found = re.search(r"http://127\.0\.0\.1:\d+", line)
                if found:
                    base = found.group(0)
                    break
            if not base:
                sys.exit("the server did not start")
            first = f"routine={args.routine}"
            seconds, rendered, state = tap(base, first)
            print(f"first pick (natural length, cold): {seconds:.2f} s ({state})")
            time.sleep(args.settle)
            for minutes in args.minutes:
                seconds, rendered, state = tap(base, f"{first}&length={minutes}")
                if state != "ready":
                    print(f"{minutes:>3} min: {state}")
                    continue
                print(f"{minutes:>3} min: first audio byte {seconds:.2f} s after the tap "
                      f"(render {rendered:.2f} s)")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
