"""test_simulate — `cadence simulate` and `cadence playbook check`, driven from outside.

A lead is worked through outcomes (voicemail, no answer, a conversation, a "no") and then
revisits the pricing page; the printed outputs are checked line by line. When the output
JSON Schemas exist (schemas/<topic>.json), every printed value is validated against them.
"""
import json
import os
import subprocess
import sys

BIN = os.path.join(os.environ.get("CADENCE_BIN_DIR", "build/test"), "cadence")
SRC = os.environ.get("CADENCE_SOURCE_DIR", ".")
FIXTURE = os.path.join(SRC, "tests", "fixtures", "simulate", "walk.jsonl")


def run(args, stdin=None):
    p = subprocess.run([BIN] + args, input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def validate(lines):
    try:
        import jsonschema
    except ImportError:
        return 0
    checked = 0
    for line in lines:
        path = os.path.join(SRC, "schemas", line["topic"] + ".json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            jsonschema.validate(line["value"], json.load(f))
        checked += 1
    return checked


def main():
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)

    rc, out, err = run(["simulate", FIXTURE])
    check(rc == 0, f"simulate exit {rc}: {err}")
    lines = [json.loads(l) for l in out.splitlines()]
    topics = [l["topic"] for l in lines]
    touches = [l["value"] for l in lines if l["topic"] == "touches-due.v1"]
    statuses = [l["value"] for l in lines if l["topic"] == "lead-status.v1"]
    alerts = [l["value"] for l in lines if l["topic"] == "alerts.v1"]

    check([t["due_at"] for t in touches] == [
        "2026-10-29T09:00:00-04:00",  # day 0 morning
        "2026-10-29T14:00:00-04:00",  # day 0 afternoon
        "2026-10-30T14:00:00-04:00",  # day 1
        "2026-11-02T09:00:00-05:00",  # +3 days, after the DST change
        "2026-11-04T09:00:00-05:00",  # follow-up, 2 days after the conversation
    ], f"due times: {[t['due_at'] for t in touches]}")
    check([t.get("ftc_attempt") for t in touches] == [1, 2, 3, 4, None], "FTC numbering")
    # vm-3 was planned for FTC #4 but the prospect answered: unspent, the follow-up carries it
    check([t.get("message_id") for t in touches] == ["vm-1", None, "vm-2", "vm-3", "vm-3"],
          f"scripts: {[t.get('message_id') for t in touches]}")
    fu = touches[-1]
    check(fu["objective"] == "follow_up", "follow-up objective")
    check(fu.get("opener", "").startswith("Hi Ana – last we spoke, we discussed slow follow-up "
                                          "and lost warm leads, and you were going to talk"),
          f"opener: {fu.get('opener')}")
    check({w["code"] for w in fu["warnings"]} == {"not_decision_maker", "qualification_missing"},
          "follow-up warnings")
    check([(s["from"], s["to"], s["reason"]) for s in statuses] == [
        ("new", "active", "enrolled"), ("active", "follow_up", "connected"),
        ("follow_up", "nurture", "not_interested")], f"statuses: {statuses}")
    # the visit before the no is ignored; the second hot view updates the one alert
    check(len({a["alert_id"] for a in alerts}) == 1, f"one alert: {alerts}")
    check([a.get("revision") for a in alerts] == [1, 2], "an alert and its update")
    if alerts:
        a = alerts[0]
        check(a["reason"] == "former_no_revisit", "alert reason")
        check(a["no"] == {"at": "2026-11-04T15:00:00Z", "reason": "budget frozen"}, "alert no")
        check(a["trigger"]["event_id"] == "e8", "trigger is the visit after the no")
        check(a["rep_id"] == "r1" and a["lead"]["status"] == "nurture", "alert lead summary")
    check(topics.count("touches-due.v1") == 5, "five touches")
    events = [l["value"] for l in lines if l["topic"] == "event"]
    check([e["event"] for e in events][:2] == ["lead", "call_outcome:voicemail_left"] and
          len(events) == 9, f"one event line per input event: {events}")
    cancelled = [l["value"]["task_id"] for l in lines if l["topic"] == "touch-cancelled"]
    check(cancelled == [t["task_id"] for t in touches], f"every task replaced or withdrawn: {cancelled}")
    counters = {l["value"]["event_id"]: l["value"]["deltas"] for l in lines if l["topic"] == "counters"}
    check(counters.get("e1", {}).get("leads:cold") == 1 and
          counters.get("e9", {}).get("alert_updates:former_no_revisit") == 1, f"counters: {counters}")

    rch, outh, _ = run(["simulate", "--help"])
    check(rch == 0 and "Input (FILE or stdin)" in outh and "touch-cancelled" in outh, "--help")
    rcs, outs, errs = run(["simulate", os.path.join(SRC, "examples", "history.jsonl")])
    sample = [json.loads(l) for l in outs.splitlines()]
    check(rcs == 0 and validate(sample) >= 0, f"the sample history runs: {errs}")
    reasons = [l["value"]["reason"] for l in sample if l["topic"] == "alerts.v1"]
    check("former_no_callback" in reasons and "inbound_callback" in reasons, f"sample alerts: {reasons}")
    validated = validate(lines)
    print(f"simulate: {len(lines)} lines, {validated} validated against schemas/")

    # Same input on stdin, same output (deterministic ids included).
    with open(FIXTURE) as f:
        rc2, out2, _ = run(["simulate"], stdin=f.read())
    check(rc2 == 0 and out2 == out, "stdin run differs from the file run")

    # A bad line is reported and the rest still runs.
    rc3, out3, err3 = run(["simulate"], stdin='{"type":"lead"}\n' + open(FIXTURE).readline())
    check(rc3 == 1 and "line 1" in err3 and "touches-due.v1" in out3, "bad line handling")

    rc4, out4, _ = run(["playbook", "check", os.path.join(SRC, "examples", "playbook.json")])
    check(rc4 == 0 and "09:00-11:00 call + voicemail + email" in out4 and "warning" not in out4,
          "playbook check")
    import tempfile
    with open(os.path.join(SRC, "examples", "playbook.json")) as f:
        few = json.load(f)
    few["voicemail_scripts"] = few["voicemail_scripts"][:5]
    few["email_scripts"] = few["email_scripts"][:5]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tf:
        json.dump(few, tf)
    rcw, outw, _ = run(["playbook", "check", tf.name])
    os.unlink(tf.name)
    check(rcw == 0 and "warning: cadence zero_to_ten can leave 13 voicemails" in outw and
          "only 5 voicemail scripts" in outw, f"playbook check warns: {outw[-400:]}")
    rc5, _, err5 = run(["playbook", "check", "/nonexistent.json"])
    check(rc5 == 1 and "playbook:" in err5, "playbook check of a missing file")

    for f in failures:
        print("FAIL:", f)
    print("ok" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
