"""cadence-scheduler against a real redis-server and the devbroker.

- A lead is worked from leads.v1 through outcomes until its re_evaluate task, with the worker
  and the scheduler running: every touch is overdue (the lead lies in the past), so each goes
  out at once; each is answered with the call_outcome it asks for.
- Two schedulers side by side over thousands of due touches publish each exactly once.
- A scheduler killed with SIGKILL between claim and publish: its task is published again, with
  the same task_id, by another scheduler once the lease expired, and the metric counts it.
- A task cancelled while a dead scheduler held it is not published.
- Rep capacity: with rep_daily_capacity N, N+k touches of one rep due the same day → the N of
  highest priority are published (callbacks, warm first-time calls, cold first-time calls,
  follow-ups) and k are moved to the next business day with `moved` reason rep_capacity.

Due entries are written in the exact format the worker uses (services/worker/apply_script.c):
ZADD cad:{s<N>}:due <due ms> <task_id> and HSET cad:{s<N>}:tasks <task_id> <touch_due JSON>.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

from confluent_kafka import Consumer, Producer

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_DIR, Stack, binary, free_port, wait_for  # noqa: E402
import stored as stored_values  # noqa: E402

TOPIC = "touches-due.v1"
SHARDS = 16
SCHEMAS = os.path.join(SOURCE_DIR, "schemas")
PLAYBOOK = os.path.join(SOURCE_DIR, "examples", "playbook.json")


def shard_of(lead_id, shards=SHARDS):
    """common/store/keys.c: FNV-1a 32 of the lead id modulo the shard count."""
    h = 2166136261
    for b in lead_id.encode():
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return h % shards


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + "Z"


def touch(task_id, lead_id, rep_id, due_ms):
    return {"event_id": task_id, "type": "touch_due", "occurred_at": iso(due_ms - 3600_000),
            "task_id": task_id, "lead_id": lead_id, "rep_id": rep_id, "due_at": iso(due_ms),
            "channel": "call", "voicemail": False, "email": False,
            "objective": "first_time_call", "ftc_attempt": 1, "cadence": "zero_to_ten", "step": 0,
            "warnings": [], "moved": [], "lead": {"first_name": "Pat"}}


def playbook_file(directory, **patch):
    """The shipped playbook with top-level keys replaced, written to `directory`."""
    with open(PLAYBOOK) as f:
        pb = json.load(f)
    pb.update(patch)
    path = os.path.join(directory, "playbook-%s.json" % "-".join(f"{k}{v}" for k, v in patch.items()))
    with open(path, "w") as f:
        json.dump(pb, f)
    return path


def seed_due(st, tasks):
    """Writes (task dict, due ms) pairs as the worker does, in one redis-cli --pipe: every task
    before any due entry, so a running scheduler never claims an entry whose task is not yet
    written (the worker writes both in one script)."""
    tasks_cmds, due_cmds = [], []
    for t, due_ms in tasks:
        s = shard_of(t["lead_id"])
        tasks_cmds.append(("HSET", f"cad:{{s{s}}}:tasks", t["task_id"], json.dumps(t, separators=(",", ":"))))
        due_cmds.append(("ZADD", f"cad:{{s{s}}}:due", due_ms, t["task_id"]))
    st.redis_pipe(tasks_cmds + due_cmds)


def redis_int(st, *args):
    return int(st.redis_cli(*args).strip() or 0)


def total(st, kind):
    return sum(redis_int(st, "ZCARD", f"cad:{{s{s}}}:{kind}") for s in range(SHARDS))


def metrics(addr):
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=5) as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, v = line.rpartition(" ")
            values[name] = float(v)
    return values


def healthz(addr):
    try:
        with urllib.request.urlopen(f"http://{addr}/healthz", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def validate(values):
    """Runs `cadence validate touches-due.v1` over JSON lines; returns the failures."""
    out = subprocess.run([binary("cadence"), "validate", TOPIC], input="\n".join(values) + "\n",
                         capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, CADENCE_SCHEMAS_DIR=SCHEMAS))
    verdicts = out.stdout.splitlines()
    assert len(verdicts) == len(values), out.stdout + out.stderr
    return [(v, line) for v, line in zip(verdicts, values) if v != "ok"]


def start_worker(st):
    """A worker on the stack with the scheduler's shards and playbook; (process, its env)."""
    wenv = st.env(CADENCE_SHARDS=SHARDS, CADENCE_SCHEMAS_DIR=SCHEMAS, CADENCE_PLAYBOOK=PLAYBOOK)
    return st.spawn("worker", [binary("cadence-worker")], env=wenv), wenv


class SchedulerTest(unittest.TestCase):
    def start_scheduler(self, st, name="scheduler", **env):
        e = st.env(**{**dict(CADENCE_SHARDS=SHARDS, CADENCE_TICK_MS=50, CADENCE_SCHEMAS_DIR=SCHEMAS,
                             CADENCE_PLAYBOOK=PLAYBOOK), **env})
        p = st.spawn(name, [binary("cadence-scheduler")], env=e)
        addr = e["CADENCE_HTTP_ADDR"]
        wait_for(lambda: healthz(addr) is not None or p.poll() is not None, what=f"{name} HTTP")
        self.assertIsNone(p.poll(), st.log_of(p))
        return p, addr

    def test_two_schedulers_publish_each_of_3000_due_touches_exactly_once(self):
        with Stack("scheduler-two") as st:
            st.start_redis()
            st.start_devbroker(partitions=8)
            now = int(time.time() * 1000)
            due = [(touch(f"task-{i:05d}", f"lead-{i:05d}", f"rep.{i % 20}", now - 1000 * (i % 900)),
                    now - 1000 * (i % 900)) for i in range(3000)]
            future = [(touch(f"later-{i}", f"lead-later-{i}", "rep.0", now + 3600_000),
                       now + 3600_000) for i in range(10)]
            # 150 touches per rep: no rep capacity here (the next test covers it)
            unlimited = playbook_file(st.dir, rep_daily_capacity=0)
            a, addr_a = self.start_scheduler(st, "scheduler-a", CADENCE_PLAYBOOK=unlimited)
            b, addr_b = self.start_scheduler(st, "scheduler-b", CADENCE_PLAYBOOK=unlimited)
            wait_for(lambda: healthz(addr_a) == 200 and healthz(addr_b) == 200, timeout=30,
                     what="both schedulers healthy (Redis and Kafka reachable)")
            # the touches fall due once both run (seeded before, the first scheduler up could
            # drain all 3000 before the second one's first tick, as it did on a loaded machine)
            seed_due(st, due + future)

            def all_acked():
                pub = sum(metrics(x)["cadence_scheduler_published_total"] for x in (addr_a, addr_b))
                inflight = sum(metrics(x)["cadence_scheduler_tasks_in_flight"] for x in (addr_a, addr_b))
                return pub >= 3000 and inflight == 0 and total(st, "inflight") == 0
            wait_for(all_acked, timeout=120, interval=0.2, what="3000 tasks published and acknowledged")
            msgs = wait_for(lambda: (lambda m: m if len(m) >= 3000 else None)(st.kcat_consume_all(TOPIC)),
                            timeout=60, what="3000 messages in touches-due.v1")
            ids = [json.loads(m["value"])["task_id"] for m in msgs]
            self.assertEqual(len(ids), len(set(ids)), "a task was published twice")
            self.assertEqual(set(ids), {t["task_id"] for t, _ in due}, "tasks missing or extra")
            for m in msgs:
                self.assertEqual(m["key"], json.loads(m["value"])["lead_id"], "key must be lead_id")
            stored = {t["task_id"]: json.dumps(t, separators=(",", ":")) for t, _ in due}
            for m in msgs:
                v = json.loads(m["value"])
                self.assertEqual(m["value"], stored[v["task_id"]], "published as stored")
            self.assertEqual(validate([m["value"] for m in msgs]), [])
            ma, mb = metrics(addr_a), metrics(addr_b)
            self.assertGreater(ma["cadence_scheduler_published_total"], 0, "scheduler a did no work")
            self.assertGreater(mb["cadence_scheduler_published_total"], 0, "scheduler b did no work")
            self.assertEqual(ma["cadence_scheduler_published_total"] + mb["cadence_scheduler_published_total"], 3000)
            self.assertEqual(ma["cadence_scheduler_republished_total"] + mb["cadence_scheduler_republished_total"], 0)
            self.assertGreaterEqual(ma["cadence_scheduler_lag_seconds_count"] + mb["cadence_scheduler_lag_seconds_count"], 3000)
            # The future touches wait in the due set; nothing else does.
            self.assertEqual(total(st, "due"), 10)
            # Each rep's queue holds its open tasks by due time, their JSON readable by id.
            queued = 0
            for r in range(20):
                q = st.redis_cli("ZRANGE", f"cad:{{r:rep.{r}}}:queue", "0", "-1").split()
                queued += len(q)
                self.assertEqual(len(q), 150)
                self.assertEqual(st.redis_cli("HGET", f"cad:{{r:rep.{r}}}:tasks", q[0]).strip(), stored[q[0]])
            self.assertEqual(queued, 3000)
            self.assertEqual(st.stop(a), 0)
            self.assertEqual(st.stop(b), 0)
            st.check_sanitizers()

    def test_a_full_reps_day_moves_the_lowest_priority_touches_to_the_next_business_day(self):
        import datetime
        import zoneinfo
        N, K = 5, 3
        with Stack("scheduler-capacity") as st:
            st.start_redis()
            st.start_devbroker(partitions=2)
            now = int(time.time() * 1000)

            def t(task_id, minutes_ago, objective="first_time_call", lead_type=None, callback=False):
                due = now - minutes_ago * 60_000
                v = touch(task_id, "lead-" + task_id, "rep.cap", due)
                v["objective"] = objective
                v["lead"]["timezone"] = "America/New_York"
                if lead_type:
                    v["lead_type"] = lead_type
                if callback:
                    v["callback"] = True
                if objective != "first_time_call":
                    del v["ftc_attempt"], v["step"]
                return v, due
            # N + K touches of one rep, all due today; the oldest are the lowest priority
            tasks = [t("fu-1", 50, "follow_up"), t("fu-2", 40, "follow_up"),
                     t("cold-1", 30, lead_type="cold"), t("cold-2", 25, lead_type="cold"),
                     t("warm-1", 20, lead_type="warm"), t("warm-2", 10, lead_type="warm"),
                     t("cb-1", 5, "follow_up", callback=True), t("cb-2", 1, "follow_up", callback=True)]
            keep = {"cb-1", "cb-2", "warm-1", "warm-2", "cold-1"}
            seed_due(st, tasks)
            sched, addr = self.start_scheduler(
                st, CADENCE_PLAYBOOK=playbook_file(st.dir, rep_daily_capacity=N))
            wait_for(lambda: metrics(addr)["cadence_scheduler_published_total"] == N and
                     metrics(addr).get('cadence_scheduler_moved_total{reason="rep_capacity"}') == K and
                     total(st, "inflight") == 0, timeout=60, what=f"{N} published, {K} moved")
            msgs = wait_for(lambda: (lambda m: m if len(m) >= N else None)(st.kcat_consume_all(TOPIC)),
                            timeout=30, what=f"{N} messages")
            self.assertEqual({json.loads(m["value"])["task_id"] for m in msgs}, keep,
                             "callbacks, then warm, then the earliest cold first-time call")
            self.assertEqual(validate([m["value"] for m in msgs]), [])
            # the moved ones wait in the due set for the next business day, 08:00 local
            ny = zoneinfo.ZoneInfo("America/New_York")
            today = datetime.datetime.now(ny).date()
            moved = []
            for v, due in tasks:
                if v["task_id"] in keep:
                    continue
                s = shard_of(v["lead_id"])
                # the deferral writes the task as a zstd frame (common/store/codec.h)
                value = st.redis_value("HGET", f"cad:{{s{s}}}:tasks", v["task_id"])
                self.assertTrue(value.startswith(stored_values.MAGIC), "stored as a frame")
                stored = stored_values.decode(value)
                moved.append(stored)
                m = json.loads(stored)
                self.assertEqual(m["moved"][-1], {"reason": "rep_capacity", "from": v["due_at"]})
                new_due = datetime.datetime.fromisoformat(m["due_at"]).astimezone(ny)
                self.assertGreater(new_due.date(), today)
                self.assertLess(new_due.date(), today + datetime.timedelta(days=7))
                self.assertEqual(new_due.weekday() < 5 and (new_due.hour, new_due.minute), (8, 0))
                score = int(float(st.redis_cli("ZSCORE", f"cad:{{s{s}}}:due", v["task_id"]).strip()))
                self.assertEqual(score, int(new_due.timestamp() * 1000))
            self.assertEqual(validate(moved), [])
            self.assertEqual(total(st, "due"), K, "only the moved touches are left")
            # the rep's day (the lead's local date) holds the N places given
            self.assertEqual(st.redis_cli("SCARD", f"cad:{{r:rep.cap}}:cap:{today.isoformat()}").strip(), str(N))
            self.assertEqual(st.stop(sched), 0)
            st.check_sanitizers()

    def test_a_task_held_by_a_killed_scheduler_is_published_again_after_its_lease(self):
        with Stack("scheduler-kill") as st:
            st.start_redis()
            st.start_devbroker(partitions=2)
            now = int(time.time() * 1000)
            t = touch("task-kill-1", "lead-kill-1", "rep.kim", now - 60_000)
            seed_due(st, [(t, now - 60_000)])
            # Kafka unreachable: it claims the task but can never publish it.
            dead, _ = self.start_scheduler(st, "scheduler-dead", CADENCE_KAFKA_BROKERS=f"127.0.0.1:{free_port()}",
                                           CADENCE_LEASE_MS=2000)
            s = shard_of("lead-kill-1")
            wait_for(lambda: redis_int(st, "ZCARD", f"cad:{{s{s}}}:inflight") == 1, what="the claim")
            self.assertEqual(redis_int(st, "ZCARD", f"cad:{{s{s}}}:due"), 0)
            os.killpg(dead.pid, signal.SIGKILL)
            dead.wait()
            self.assertEqual(st.kcat_consume_all(TOPIC), [])
            killed_at = time.monotonic()
            good, addr = self.start_scheduler(st, "scheduler-good", CADENCE_LEASE_MS=2000)
            msgs = wait_for(lambda: st.kcat_consume_all(TOPIC), timeout=30, interval=0.1,
                            what="the task published again")
            waited = time.monotonic() - killed_at
            self.assertEqual(len(msgs), 1)
            self.assertEqual(json.loads(msgs[0]["value"])["task_id"], "task-kill-1")
            self.assertEqual(msgs[0]["key"], "lead-kill-1")
            wait_for(lambda: metrics(addr)["cadence_scheduler_republished_total"] == 1, what="republish metric")
            wait_for(lambda: redis_int(st, "ZCARD", f"cad:{{s{s}}}:inflight") == 0, what="the ack")
            self.assertEqual(st.redis_cli("ZRANGE", "cad:{r:rep.kim}:queue", "0", "-1").split(), ["task-kill-1"])
            self.assertEqual(validate([msgs[0]["value"]]), [])
            print(f"re-published {waited:.2f}s after the kill (lease 2 s)")
            self.assertEqual(st.stop(good), 0)
            st.check_sanitizers()

    def test_a_scheduler_that_cannot_reach_kafka_stops_claiming(self):
        with Stack("scheduler-stall") as st:
            st.start_redis()
            st.start_devbroker(partitions=2)
            now = int(time.time() * 1000)
            seed_due(st, [(touch("task-stall-1", "lead-stall-1", "rep.kim", now - 60_000), now - 60_000)])
            stuck, stuck_addr = self.start_scheduler(st, "scheduler-stuck",
                                                     CADENCE_KAFKA_BROKERS=f"127.0.0.1:{free_port()}",
                                                     CADENCE_LEASE_MS=2000)
            wait_for(lambda: "deliveries stalled; claiming paused" in st.log_of(stuck), timeout=30,
                     what="the stuck scheduler to pause claiming")
            self.assertEqual(healthz(stuck_addr), 503)
            self.assertEqual(metrics(stuck_addr)["cadence_scheduler_claimed_total"], 1)
            seed_due(st, [(touch("task-stall-2", "lead-stall-2", "rep.kim", now - 1000), now - 1000)])
            good, addr = self.start_scheduler(st, "scheduler-good", CADENCE_LEASE_MS=2000)
            msgs = wait_for(lambda: (lambda m: m if len(m) >= 2 else None)(st.kcat_consume_all(TOPIC)),
                            timeout=30, what="both tasks published by the healthy scheduler")
            self.assertEqual(sorted(json.loads(m["value"])["task_id"] for m in msgs),
                             ["task-stall-1", "task-stall-2"])
            m = metrics(addr)
            self.assertEqual(m["cadence_scheduler_republished_total"], 1, "only the held task waited for its lease")
            self.assertEqual(metrics(stuck_addr)["cadence_scheduler_claimed_total"], 1,
                             "the stuck scheduler took nothing more")
            os.killpg(stuck.pid, signal.SIGKILL)
            stuck.wait()
            self.assertEqual(st.stop(good), 0)
            st.check_sanitizers()

    def test_a_task_cancelled_while_its_scheduler_was_dead_is_not_published(self):
        with Stack("scheduler-cancel") as st:
            st.start_redis()
            st.start_devbroker(partitions=2)
            now = int(time.time() * 1000)
            t = touch("task-cancel-1", "lead-cancel-1", "rep.kim", now - 60_000)
            seed_due(st, [(t, now - 60_000)])
            dead, _ = self.start_scheduler(st, "scheduler-dead", CADENCE_KAFKA_BROKERS=f"127.0.0.1:{free_port()}",
                                           CADENCE_LEASE_MS=1000)
            s = shard_of("lead-cancel-1")
            wait_for(lambda: redis_int(st, "ZCARD", f"cad:{{s{s}}}:inflight") == 1, what="the claim")
            os.killpg(dead.pid, signal.SIGKILL)
            dead.wait()
            # What the worker's apply script does when an outcome replaces the task.
            st.redis_cli("HDEL", f"cad:{{s{s}}}:tasks", "task-cancel-1")
            good, addr = self.start_scheduler(st, "scheduler-good", CADENCE_LEASE_MS=1000)
            wait_for(lambda: redis_int(st, "ZCARD", f"cad:{{s{s}}}:inflight") == 0, timeout=30,
                     what="the expired lease dropped")
            self.assertEqual(st.kcat_consume_all(TOPIC), [])
            self.assertEqual(metrics(addr)["cadence_scheduler_published_total"], 0)
            self.assertEqual(st.stop(good), 0)
            st.check_sanitizers()

    def test_a_lead_is_worked_through_its_cadence_until_re_evaluate(self):
        with Stack("scheduler-lead") as st:
            st.start_redis()
            st.start_devbroker(partitions=2)
            worker, wenv = start_worker(st)
            sched, addr = self.start_scheduler(st)
            lead = {"event_id": "lead-ev-1", "type": "lead", "occurred_at": "2026-08-03T14:00:00Z",
                    "lead_id": "L-sched-1", "rep_id": "rep.ana", "lead_type": "cold", "potential": 60,
                    "first_name": "Ann", "last_name": "Lee", "company": "Acme",
                    "email": "ann@example.com", "phone": "+1 555 0100", "timezone": "America/New_York"}
            producer = Producer({"bootstrap.servers": st.bootstrap, "enable.idempotence": True})
            producer.produce("leads.v1", key=lead["lead_id"], value=json.dumps(lead))
            producer.flush(10)
            consumer = Consumer({"bootstrap.servers": st.bootstrap, "group.id": "test-scheduler-lead",
                                 "auto.offset.reset": "earliest", "enable.auto.commit": False})
            consumer.subscribe([TOPIC])
            tasks = []
            try:
                while len(tasks) < 40:
                    deadline = time.monotonic() + 45
                    msg = None
                    while msg is None:
                        self.assertLess(time.monotonic(), deadline,
                                        f"no touch_due after task #{len(tasks)}: {tasks[-1:]}")
                        m = consumer.poll(0.2)
                        if m is not None and not m.error():
                            msg = m
                    task = json.loads(msg.value())
                    self.assertEqual(msg.key().decode(), "L-sched-1")
                    self.assertNotIn(task["task_id"], [t["task_id"] for t in tasks], "published twice")
                    task["_raw"] = msg.value().decode()
                    tasks.append(task)
                    if task["objective"] == "re_evaluate":
                        break
                    if task["channel"] == "call":
                        disposition = "voicemail_left" if task["voicemail"] else "no_answer"
                    else:
                        disposition = "sent"
                    outcome = {"event_id": f"out-{len(tasks)}", "type": "call_outcome",
                               "occurred_at": task["due_at"], "lead_id": task["lead_id"],
                               "rep_id": task["rep_id"], "channel": task["channel"],
                               "disposition": disposition, "task_id": task["task_id"]}
                    if "message_id" in task:
                        outcome["message_id"] = task["message_id"]
                    producer.produce("call-outcomes.v1", key=task["lead_id"], value=json.dumps(outcome))
                    producer.flush(10)
            finally:
                consumer.close()
            self.assertEqual(tasks[-1]["objective"], "re_evaluate", [t["objective"] for t in tasks])
            ftc = [t["ftc_attempt"] for t in tasks if t["objective"] == "first_time_call"]
            self.assertGreaterEqual(len(ftc), 3)
            self.assertEqual(ftc, list(range(1, len(ftc) + 1)), "FTC numbering")
            vms = [t["message_id"] for t in tasks if t.get("voicemail")]
            self.assertTrue(vms, "no voicemail in the cadence")
            self.assertEqual(len(vms), len(set(vms)), f"a voicemail script repeated: {vms}")
            self.assertEqual(validate([t["_raw"] for t in tasks]), [])
            # Answered tasks left the rep's queue; the open re_evaluate task is in it.
            final = tasks[-1]["task_id"]
            wait_for(lambda: st.redis_cli("ZRANGE", "cad:{r:rep.ana}:queue", "0", "-1").split() == [final],
                     what="only the open task in the rep's queue")
            self.assertEqual(json.loads(st.redis_cli("HGET", "cad:{r:rep.ana}:tasks", final))["objective"],
                             "re_evaluate")
            print(f"{len(tasks)} tasks: " + ", ".join(
                f"{t['objective']}#{t.get('ftc_attempt', '')}{'+vm' if t.get('voicemail') else ''}" for t in tasks))
            self.assertEqual(metrics(addr)["cadence_scheduler_published_total"], len(tasks))
            self.assertEqual(st.stop(sched), 0)
            self.assertEqual(st.stop(worker), 0)
            st.check_sanitizers()

    def test_a_redelivered_no_takes_its_dropped_task_out_of_the_queue_again(self):
        """A "no" cancels the lead's published first-time call, and the worker takes it out of the
        rep's queue — a write outside the lead's slot, after the apply. Should that removal be
        lost (Redis restarting between the two, or the worker dying), the event comes again
        (a redelivery, or the worker's own retry) and is found applied: the worker then removes
        the task the lead's state says it last dropped, so the rep is never left with a call to
        someone who said no."""
        with Stack("scheduler-redeliver") as st:
            st.start_redis()
            st.start_devbroker(partitions=2)
            worker, wenv = start_worker(st)
            sched, _ = self.start_scheduler(st)
            queue = "cad:{r:rep.joe}:queue"
            lead = {"event_id": "lead-redeliver-1", "type": "lead", "occurred_at": "2026-08-03T14:00:00Z",
                    "lead_id": "L-redeliver-1", "rep_id": "rep.joe", "lead_type": "cold", "potential": 60,
                    "first_name": "Joe", "company": "Acme", "timezone": "America/New_York"}
            no = {"event_id": "no-redeliver-1", "type": "call_outcome", "occurred_at": "2026-08-03T15:00:00Z",
                  "lead_id": "L-redeliver-1", "rep_id": "rep.joe", "channel": "call",
                  "disposition": "not_interested", "no_reason": "no budget"}
            producer = Producer({"bootstrap.servers": st.bootstrap, "enable.idempotence": True})

            def send(ev, topic):
                producer.produce(topic, key=ev["lead_id"], value=json.dumps(ev))
                producer.flush(10)

            def queued():
                return st.redis_cli("ZRANGE", queue, "0", "-1").split()

            send(lead, "leads.v1")
            wait_for(lambda: len(queued()) == 1, timeout=30, what="the first-time call in the rep's queue")
            task = queued()[0]
            send(no, "call-outcomes.v1")
            wait_for(lambda: queued() == [], timeout=30, what="the cancelled call out of the queue")
            # The removal lost: the task back in the queue, as if the worker's write never landed.
            st.redis_cli("ZADD", queue, "1", task)
            self.assertEqual(queued(), [task])
            send(no, "call-outcomes.v1")  # the same event again
            wait_for(lambda: queued() == [], timeout=30, what="the replay to take the task out again")
            addr = wenv["CADENCE_HTTP_ADDR"]
            wait_for(lambda: metrics(addr).get(
                'cadence_worker_events_total{topic="call-outcomes.v1",result="duplicate"}', 0) >= 1,
                     what="the second delivery counted as a duplicate")
            self.assertEqual(st.stop(sched), 0)
            self.assertEqual(st.stop(worker), 0)
            st.check_sanitizers()

    def test_bad_configuration_exits_2_naming_the_variable(self):
        out = subprocess.run([binary("cadence-scheduler")], capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, CADENCE_TICK_MS="5"))
        self.assertEqual(out.returncode, 2)
        self.assertIn("CADENCE_TICK_MS", out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
