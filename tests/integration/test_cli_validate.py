"""`cadence validate`: verdicts per line, exit statuses, FILE argument, and document mode for a
playbook (pretty-printed over many lines) with the schema taken from CADENCE_SCHEMAS_DIR."""
import glob
import json
import os
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("CADENCE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(os.environ.get("CADENCE_BIN_DIR", os.path.join(SOURCE, "build", "test")), "cadence")
checks = 0


def run(args, stdin=b"", env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([BIN, "validate"] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=e, check=False)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def expect(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)


def compact(path):
    with open(path, encoding="utf-8") as f:
        return json.dumps(json.load(f), ensure_ascii=False)


valid = [compact(p) for p in sorted(glob.glob(os.path.join(SOURCE, "tests/fixtures/valid/call-outcomes.v1/*.json")))]
expect(len(valid) >= 2, "valid call-outcome fixtures exist")
rc, out, _ = run(["call-outcomes.v1"], ("\n".join(valid) + "\n").encode())
expect(rc == 0 and out == "ok\n" * len(valid), "all valid: exit 0, one ok per line (got %d %r)" % (rc, out))

bad = compact(os.path.join(SOURCE, "tests/fixtures/invalid/call-outcomes.v1/bad_role.json"))
rc, out, _ = run(["call-outcomes.v1"], (valid[0] + "\n" + bad + "\n{\n" + valid[1]).encode())
expect(rc == 1, "an invalid line: exit 1 (got %d)" % rc)
expect(out.split("\n") == ["ok", "/conversation/role: not one of decision_maker, influencer, info_gatherer, end_user",
                           "not JSON: string or '}' expected near end of file (at byte 1)", "ok", ""],
       "one verdict per line, in order: %r" % out)

with tempfile.TemporaryDirectory() as tmp:
    events = os.path.join(tmp, "events.jsonl")
    with open(events, "w", encoding="utf-8") as f:
        f.write(valid[0] + "\n")
    rc, out, _ = run(["call-outcomes.v1", events])
    expect(rc == 0 and out == "ok\n", "FILE argument is read instead of stdin")
    rc, _, err = run(["call-outcomes.v1", os.path.join(tmp, "missing.jsonl")])
    expect(rc == 2 and "cannot open" in err, "a missing FILE is a usage error: %r" % err)

    # Document mode: a playbook schema of our own in a schemas dir of our own.
    with open(os.path.join(tmp, "playbook.json"), "w") as f:
        json.dump({"type": "object", "required": ["name", "cadences"], "additionalProperties": False,
                   "properties": {"name": {"type": "string", "maxLength": 20},
                                  "cadences": {"type": "array", "minItems": 1,
                                               "items": {"type": "object", "required": ["gap_days"],
                                                         "properties": {"gap_days": {"type": "integer", "minimum": 0}}}}}}, f)
    doc = os.path.join(tmp, "pb.json")
    with open(doc, "w") as f:
        json.dump({"name": "zero-to-ten", "cadences": [{"gap_days": 0}, {"gap_days": 1}]}, f, indent=2)
    env = {"CADENCE_SCHEMAS_DIR": tmp}
    rc, out, err = run(["playbook", doc], env=env)
    expect(rc == 0 and out == "ok\n", "a pretty-printed playbook is one document: %d %r %r" % (rc, out, err))
    with open(doc, "w") as f:
        json.dump({"name": "zero-to-ten", "cadences": [{"gap_days": 0}, {"gap_days": -3}]}, f, indent=2)
    rc, out, _ = run(["playbook", doc], env=env)
    expect(rc == 1 and out == "/cadences/1/gap_days: -3 is less than the minimum 0\n", "bad playbook: %r" % out)
    with open(os.path.join(tmp, "playbook.json"), "w") as f:
        json.dump({"type": "object", "not": {}}, f)
    rc, _, err = run(["playbook", doc], env=env)
    expect(rc == 2 and 'unsupported keyword "not"' in err, "a schema with an unknown keyword is refused: %r" % err)

rc, _, err = run(["leads.v2"])
expect(rc == 2 and 'unknown topic "leads.v2"' in err, "unknown topic: exit 2 naming it (%d %r)" % (rc, err))
rc, _, _ = run([])
expect(rc == 2, "no topic: usage error")
rc, out, _ = run(["--help"])
expect(rc == 0 and "cadence-dlq.v1" in out, "--help lists the topics")
print("cli validate: %d checks passed" % checks)
