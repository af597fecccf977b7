"""How many web-form deliveries a minute does one browser worker fill, and how much memory?

    .venv/bin/python -m bench.webforms [--deliveries 170]

One process, as one Celery pool process of the web-form queue: the engine's batch
(`deliveries_send`) claims, fills and records each delivery through the web_form channel, with
the process's one Chromium, against replicas of the Senate's forms (generated from the
definitions, served on loopback, CONTACT_FORMS_ORIGIN pointed at them; definitions' fixed waits
capped to nothing). The deliveries go round the offices whose forms replicas can fill.

Prints deliveries per minute and the worker's peak memory, sampled every 0.2 s: the Python
process's RSS; the RSS summed over the whole tree (Python, Playwright's driver and every
Chromium process), which counts shared pages once per process; and the tree's PSS, which
shares them out (the fairest single figure).
"""

import argparse
import logging
import os
import threading
import time
from pathlib import Path

from bench import _django


def _pss_mb(pid: int) -> float:
    try:
        rollup = (Path("/proc") / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return 0.0
    line = next((x for x in rollup.splitlines() if x.startswith("Pss:")), "Pss: 0 kB")
    return int(line.split()[1]) / 1024


def _tree_rss_mb(root: int) -> tuple[float, float, float]:
    """(RSS of `root`, RSS summed over `root` and all its descendants, their PSS summed), in
    MB, from /proc. Summed RSS counts the pages Chromium's processes share once per process;
    PSS shares them out, so the tree's PSS is what the worker costs the machine."""
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
        rss[pid] = int(line.split()[1]) / 1024
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return (
        rss.get(root, 0.0),
        sum(rss.get(pid, 0.0) for pid in tree),
        sum(_pss_mb(pid) for pid in tree),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=170)
    args = parser.parse_args()
    logging.getLogger("alerts.delivery.engine").setLevel(logging.WARNING)
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser runs in its own thread
    _django.setup()

    from django.conf import settings

    from alerts.delivery import engine
    from alerts.delivery.webforms import runner, values
    from alerts.models import Action, Delivery
    from legislators import contact_forms
    from legislators.models import ContactForm, Official
    from tests.support.replicas import ReplicaServer

    server = ReplicaServer().start()
    settings.DELIVERY_SANDBOX = False
    settings.CONTACT_FORMS_ORIGIN = server.origin
    settings.WEB_FORM_WAIT_CAP_SECONDS = 0
    settings.WEB_FORM_EVIDENCE_DIR = Path(settings.BASE_DIR) / "var" / "bench-evidence"
    settings.DELIVERY_MAX_ATTEMPTS = 1

    # --- data: the bench's own campaign and officials, one per fillable Senate form --------
    campaign = _django.bench_campaign(
        "bench-webforms", title="Web-form benchmark", topic="Health Care"
    )
    Delivery.objects.filter(action__campaign=campaign).delete()
    Action.objects.filter(campaign=campaign).delete()
    identity = values.test_identity(topic="Health Care")
    officials = []
    for path in sorted((Path(settings.CONTACT_FORMS_DIR) / "senate").glob("*.yaml")):
        try:
            definition = contact_forms.parse_definition(path.read_bytes(), name=path.name)
            plan = values.plan(definition, identity)
        except (contact_forms.DefinitionError, values.Unfillable):
            continue
        if path.stem == "H000273":  # its script is a SyntaxError: it can never succeed
            continue
        key = f"bench-wf-{path.stem}"
        official, _ = Official.objects.update_or_create(
            key=key,
            defaults={
                "kind": "executive",
                "title": "Senator",
                "name": path.stem,
                "last_name": path.stem,
                "channel": "web_form",
                "contact_form_url": "https://www.senate.gov/",
            },
        )
        ContactForm.objects.update_or_create(
            official=official,
            defaults={
                "source": f"senate/{path.name}",
                "definition": definition,
                "content_hash": "0" * 64,
                "status": "working",
                "consecutive_failures": 0,
            },
        )
        server.add(key, definition, plan)
        officials.append(official)
    ids = []
    for n in range(args.deliveries):
        official = officials[n % len(officials)]
        action = Action.objects.create(
            campaign=campaign,
            prefix="Ms.",
            first_name="Bench",
            last_name=f"Constituent{n}",
            email=f"bench{n}@example.org",
            street="100 Main Street",
            city="Piscataway",
            state="NJ",
            zip_code="08854",
            phone="732-555-0143",
            subject="Benchmark message",
            consent_text="ok",
        )
        ids.append(
            Delivery.objects.create(
                action=action,
                official=official,
                channel="web_form",
                status="queued",
                variant="executive",
                subject="Benchmark message",
                organization_statement="Please act.",
                body="Dear Senator,\n\nPlease act on this.\n\nBench",
            ).pk
        )

    # --- run: warm the browser on one delivery, then time the rest ---------------------------
    peak = {"python": 0.0, "tree": 0.0, "pss": 0.0}
    running = threading.Event()
    running.set()

    def sample():
        while running.is_set():
            python, tree, pss = _tree_rss_mb(os.getpid())
            peak["python"] = max(peak["python"], python)
            peak["tree"] = max(peak["tree"], tree)
            peak["pss"] = max(peak["pss"], pss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    engine.deliveries_send(delivery_ids=ids[:1])
    started = time.monotonic()
    results = engine.deliveries_send(delivery_ids=ids[1:])
    elapsed = time.monotonic() - started
    running.clear()
    sampler.join()
    runner.close()
    server.stop()

    sent = Delivery.objects.filter(pk__in=ids, status="sent").count()
    timed = len(results)
    print(f"deliveries: {sent}/{len(ids)} sent, {len(officials)} offices' forms")
    print(f"{timed} timed in {elapsed:.1f} s: {timed / elapsed * 60:.0f} web-form deliveries/min")
    print(
        f"peak RSS: {peak['python']:.0f} MB the worker process, "
        f"{peak['tree']:.0f} MB summed with its browser (driver and every Chromium process), "
        f"{peak['pss']:.0f} MB PSS of that tree"
    )


if __name__ == "__main__":
    main()
