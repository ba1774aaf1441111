"""Differential test: the C validator (`cadence validate <topic>`) against Python's jsonschema.

For every topic, generates events from the topic's own schema (valid ones, then mutated: wrong
types, out-of-range numbers, bad enums, bad ids, missing required fields, extra properties,
bad date-times, over-long strings, unicode), sends them all through `cadence validate` on stdin
and checks that every verdict (valid / invalid) agrees with jsonschema's Draft7Validator.

The oracle is jsonschema with two adjustments, both to the standard's semantics:
- `format: date-time` is checked by rfc3339() below, because neither rfc3339_validator nor a
  Debian package of it is available here. It implements RFC 3339 §5.6 strictly: real calendar
  days, hour <= 23, minute <= 59, offset <= 23:59, second 60 only at 23:59:60 UTC.
- `pattern` is searched with Python's `re` after translating a final `$` into `\\Z`: in
  ECMA-262 (which JSON Schema patterns follow) `$` matches only at the end, in Python also
  before a final newline.

Deterministic (fixed seed). Prints counts per topic. Run: CADENCE_BIN_DIR=build/test
CADENCE_SOURCE_DIR=. /usr/bin/python3 tests/integration/test_schema_differential.py
"""
import calendar
import concurrent.futures
import copy
import json
import os
import random
import re
import subprocess
import sys

from jsonschema import Draft7Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

EVENTS_PER_TOPIC = 10000
SEED = 20261123
TOPICS = ["leads.v1", "site-visits.v1", "call-outcomes.v1", "alerts.v1", "touches-due.v1",
          "lead-status.v1", "cadence-dlq.v1"]

SOURCE = os.environ.get("CADENCE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("CADENCE_BIN_DIR", os.path.join(SOURCE, "build", "test"))

DT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z",
                re.ASCII)


def rfc3339(s):
    if not isinstance(s, str):
        return True
    m = DT.match(s)
    if not m:
        return False
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    off = m.group(8)
    minutes = 0
    if off not in ("Z", "z"):
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            return False
        minutes = (oh * 60 + om) * (-1 if off[0] == "-" else 1)
    if not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(y, mo)[1]:
        return False
    if h > 23 or mi > 59 or sec > 60:
        return False
    return sec < 60 or (h * 60 + mi - minutes) % 1440 == 23 * 60 + 59


def ecma_pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    py = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    if not re.search(py, instance):
        yield ValidationError("%r does not match %r" % (instance, pattern))


def oracle(schema):
    checker = FormatChecker(formats=())
    checker.checks("date-time")(rfc3339)
    cls = validators.extend(Draft7Validator, {"pattern": ecma_pattern})
    return cls(schema, format_checker=checker)


# ---------------------------------------------------------------- generation from the schema

ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
UNICODE = ["é", "ß", "李", "😀", "\u0301", "Ω", "ğ", "\u00a0", "\u2028", "𝄞", "ي", "\t", "\n", '"', "\\"]


def rand_datetime(r):
    y = r.randint(1970, 2099)
    mo = r.randint(1, 12)
    d = r.randint(1, calendar.monthrange(y, mo)[1])
    s = "%04d-%02d-%02dT%02d:%02d:%02d" % (y, mo, d, r.randint(0, 23), r.randint(0, 59), r.randint(0, 59))
    if r.random() < 0.3:
        s += "." + "".join(r.choice("0123456789") for _ in range(r.randint(1, 9)))
    return s + r.choice(["Z", "z", "+00:00", "-08:00", "+05:30", "+14:00"])


BAD_DATETIMES = ["2026-02-29T10:00:00Z", "2024-02-29T10:00:00Z", "2026-04-31T00:00:00Z",
                 "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z",
                 "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:61Z",
                 "2026-12-31T23:59:60Z", "2026-12-31T15:59:60-08:00", "2026-12-31T23:59:60+01:00",
                 "2026-01-01T12:00:00", "2026-01-01 12:00:00Z", "2026-01-01T12:00:00.Z",
                 "2026-01-01T12:00:00+24:00", "2026-01-01T12:00:00+01:60", "2026-01-01T12:00:00+0100",
                 "26-01-01T12:00:00Z", "2026-1-01T12:00:00Z", "2026-01-01T12:00Z", "",
                 "2026-01-01T12:00:00Z\n", "2026-01-01T12:00:00.123456789012345678901234567890123456789012345678901Z",
                 "٢٠٢٦-01-01T12:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "t", "null"]


# Mostly ASCII, one character in ten from UNICODE.
TEXT = list("abcdefghij KLMNOP/:?=&.-_0123456789") * 4 + UNICODE


def rand_string(r, lo, hi, alphabet=None):
    n = r.choice([lo, hi, r.randint(lo, hi)]) if hi is not None else r.randint(lo, 40)
    return "".join(r.choices(alphabet or TEXT, k=n))


def gen_string(r, s):
    if "enum" in s:
        return r.choice(s["enum"])
    if s.get("format") == "date-time":
        return rand_datetime(r)
    lo, hi = s.get("minLength", 0), s.get("maxLength", 64)
    pat = s.get("pattern", "")
    if pat.startswith("^[A-Za-z0-9._:-]"):
        return rand_string(r, max(lo, 1), min(hi, 64), ID_CHARS)
    if "@" in pat:
        return rand_string(r, 1, 20, ID_CHARS) + "@" + rand_string(r, 1, 20, ID_CHARS)
    if pat.startswith("^\\+?"):
        return r.choice(["+", ""]) + rand_string(r, 3, 20, "0123456789 ().-")
    if pat.startswith("^[A-Za-z_]+"):
        return r.choice(["UTC", "America/New_York", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
    return rand_string(r, lo, min(hi, 3000))


def gen(r, s):
    if "const" in s:
        return s["const"]
    t = s.get("type")
    if isinstance(t, list):
        t = r.choice(t)
    if t == "object":
        out = {}
        for k, sub in s.get("properties", {}).items():
            if k in s.get("required", []) or r.random() < 0.6:
                out[k] = gen(r, sub)
        return out
    if t == "array":
        n = r.randint(s.get("minItems", 0), min(s.get("maxItems", 5), 12))
        return [gen(r, s["items"]) for _ in range(n)]
    if t == "string":
        return gen_string(r, s)
    if t == "integer":
        lo, hi = s.get("minimum", -1000), s.get("maximum", 1000)
        return r.choice([lo, hi, r.randint(lo, min(hi, lo + 10 ** 6))])
    if t == "number":
        lo, hi = s.get("minimum", -1000), s.get("maximum", 1000)
        return r.choice([lo, hi, round(r.uniform(lo, hi), 3), float(r.randint(lo, int(hi)))])
    if t == "boolean":
        return r.random() < 0.5
    if t == "null":
        return None
    return "x"


# ---------------------------------------------------------------- mutation

def nodes(v, path=()):
    """Every (container, key) pair in v, to mutate in place."""
    if isinstance(v, dict):
        for k in list(v):
            yield v, k
            yield from nodes(v[k])
    elif isinstance(v, list):
        for i in range(len(v)):
            yield v, i
            yield from nodes(v[i])


WRONG = [0, 1, -1, 7.5, 5.0, 1e300, -0.0, 2 ** 53, True, False, None, "", "x", [], {}, ["a"], {"a": 1}]
def wrong(r):
    return copy.deepcopy(r.choice(WRONG))


BAD_IDS = ["", " ", "a b", "a/b", "L" * 65, "L" * 64, "é", "a\n", "a\nb", "id#1", "😀", "a\u0000b", "0",
           "A-Z.a_z:0-9"]


def mutate(r, ev):
    targets = list(nodes(ev))
    kind = r.randrange(10)
    if kind == 0 or not targets:  # extra property somewhere
        objs = [ev] + [c[k] for c, k in targets if isinstance(c[k], dict)]
        r.choice(objs)[r.choice(["extra", "debug", "a\nb", "é", "", "lead_id2"])] = wrong(r)
        return
    c, k = r.choice(targets)
    v = c[k]
    if kind == 1:
        c[k] = wrong(r)
    elif kind == 2 and isinstance(c, dict):
        del c[k]
    elif kind == 3 and isinstance(v, str):
        c[k] = r.choice(BAD_IDS)
    elif kind == 4 and isinstance(v, str):
        c[k] = r.choice(BAD_DATETIMES)
    elif kind == 5 and isinstance(v, str):
        c[k] = v + r.choice(UNICODE) * r.choice([1, 5, 64, 200, 301, 501, 1001, 2049])
    elif kind == 6 and isinstance(v, str):
        c[k] = v.upper() if r.random() < 0.5 else v + "_x"
    elif kind == 7 and isinstance(v, (int, float)) and not isinstance(v, bool):
        c[k] = r.choice([v + 1, v - 1, v + 0.5, -v, float(v), v * 1000, 101, -1, 0, 1])
    elif kind == 8 and isinstance(v, list):
        v.extend(copy.deepcopy(v[:1]) * r.choice([1, 10, 21]))
    elif kind == 9:
        c[k] = "".join(r.choice(UNICODE) for _ in range(r.randint(0, 8)))
    else:
        c[k] = wrong(r)


def event_line(r, schema):
    ev = gen(r, schema)
    # the anyOf alternatives of the root: usually satisfy them, so most valid events stay valid
    if "lead_id" not in ev and "email" not in ev and r.random() < 0.8 and "lead_id" in schema["properties"]:
        ev["lead_id"] = gen(r, schema["properties"]["lead_id"])
    if ev.get("reason") == "former_no_revisit" and "no" not in ev and r.random() < 0.8:
        ev["no"] = gen(r, schema["properties"]["no"])
    if r.random() < 0.6:
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            mutate(r, ev)
    if not isinstance(ev, dict) or r.random() < 0.01:
        ev = r.choice([[ev], "x", 1, None])
    return ev, json.dumps(ev, ensure_ascii=r.random() < 0.5)


def run_topic(topic):
    """Generates, validates both ways and compares one topic; returns (report, failures)."""
    r = random.Random("%d:%s" % (SEED, topic))  # per topic, so topics can run in parallel
    with open(os.path.join(SOURCE, "schemas", topic + ".json"), encoding="utf-8") as f:
        schema = json.load(f)
    check = oracle(schema)
    events, lines = [], []
    for _ in range(EVENTS_PER_TOPIC):
        ev, line = event_line(r, schema)
        assert "\n" not in line
        events.append(ev)
        lines.append(line)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    proc = subprocess.run([os.path.join(BIN, "cadence"), "validate", topic], input=data,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    verdicts = proc.stdout.decode("utf-8").split("\n")[:-1]
    assert len(verdicts) == len(lines), "%s: %d verdicts for %d events; stderr: %s" % (
        topic, len(verdicts), len(lines), proc.stderr.decode()[-2000:])
    disagreements, valid = [], 0
    for ev, line, verdict in zip(events, lines, verdicts):
        want = check.is_valid(ev)
        valid += want
        if want != (verdict == "ok"):
            disagreements.append("  python %s, C %r: %s" % ("valid" if want else "invalid", verdict, line[:500]))
    want_rc = 0 if valid == len(lines) else 1
    assert proc.returncode == want_rc, "%s: exit status %d, expected %d; stderr: %s" % (
        topic, proc.returncode, want_rc, proc.stderr.decode()[-2000:])
    report = "%-18s %6d events: %6d valid, %6d invalid, %d disagreements" % (
        topic, len(lines), valid, len(lines) - valid, len(disagreements))
    failures = ["%s: %d disagreements" % (topic, len(disagreements))] if disagreements else []
    if valid < EVENTS_PER_TOPIC // 5 or valid > EVENTS_PER_TOPIC * 4 // 5:
        failures.append("%s: unbalanced, %d valid" % (topic, valid))
    return "\n".join([report] + disagreements[:20]), failures


def main():
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(len(TOPICS), os.cpu_count() or 1)) as pool:
        results = list(pool.map(run_topic, TOPICS))
    failed = []
    for report, failures in results:
        print(report)
        failed += failures
    if failed:
        print("FAILED: " + "; ".join(failed))
        sys.exit(1)
    print("differential: C and jsonschema agree on all %d events of %d topics" % (
        EVENTS_PER_TOPIC * len(TOPICS), len(TOPICS)))


if __name__ == "__main__":
    main()
