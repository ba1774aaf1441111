"""A known history for the managers' numbers: three leads of two reps in New York over
2026-11-02 .. 2026-11-09, fed through Kafka (leads first, then each lead's outcomes in order),
and every figure GET /v1/stats must answer for it. Shared by test_stats.py and the browser
test (test_stats_browser.py).

Local days are the lead's (America/New_York, UTC-5 in November): the no_answer at
2026-11-05T03:30Z is 22:30 on 2026-11-04 and counts on the 4th.

  day (local)  events                                                   dials conn vm mtg
  2026-11-02   L1 lead; L1 voicemail (ana); L1 no_answer (ana);
               L2 lead (warm); L2 gatekeeper (bob)                        3    0   1   0
  2026-11-03   L1 connected (ana, step 2: first contact after 2);
               L2 not_interested (bob, step 1: a "no" is a connect)       2    2   0   0
  2026-11-04   L3 lead; L3 voicemail (ana); L3 callback (ana);
               L3 no_answer at 22:30 local (ana)                          2    0   1   0
  2026-11-05   L1 no_answer (ana, follow-up)                              1    0   0   0
  2026-11-06   L1 meeting_booked on a call (ana, follow-up)               1    1   0   1
  2026-11-09   L1 closed_won on a call (ana; 1 follow-up; step 2's win)   1    1   0   0
"""

TZ = "America/New_York"


def lead(lead_id, rep, lead_type, at, first_name):
    return (lead_id, {"event_id": f"st-lead-{lead_id}", "type": "lead", "occurred_at": at,
                      "lead_id": lead_id, "rep_id": rep, "lead_type": lead_type, "potential": 60,
                      "first_name": first_name, "company": f"{first_name} Co", "timezone": TZ})


def outcome(lead_id, n, rep, at, disposition, **extra):
    v = {"event_id": f"st-{lead_id}-{n}", "type": "call_outcome", "occurred_at": at,
         "lead_id": lead_id, "rep_id": rep, "channel": "call", "disposition": disposition}
    v.update(extra)
    return (lead_id, v)


LEADS = [
    lead("L-st-1", "rep.ana", "cold", "2026-11-02T14:00:00Z", "Avery"),
    lead("L-st-2", "rep.bob", "warm", "2026-11-02T14:00:00Z", "Blair"),
    lead("L-st-3", "rep.ana", "cold", "2026-11-04T14:00:00Z", "Casey"),
]

OUTCOMES = [
    outcome("L-st-1", 1, "rep.ana", "2026-11-02T15:00:00Z", "voicemail_left"),
    outcome("L-st-1", 2, "rep.ana", "2026-11-02T19:00:00Z", "no_answer"),
    outcome("L-st-1", 3, "rep.ana", "2026-11-03T15:00:00Z", "connected",
            conversation={"problems": ["slow follow-up"], "next_steps": "a demo",
                          "role": "decision_maker"}),
    outcome("L-st-1", 4, "rep.ana", "2026-11-05T15:00:00Z", "no_answer"),
    outcome("L-st-1", 5, "rep.ana", "2026-11-06T15:00:00Z", "meeting_booked"),
    outcome("L-st-1", 6, "rep.ana", "2026-11-09T15:00:00Z", "closed_won"),
    outcome("L-st-2", 1, "rep.bob", "2026-11-02T15:00:00Z", "gatekeeper"),
    outcome("L-st-2", 2, "rep.bob", "2026-11-03T15:00:00Z", "not_interested",
            no_reason="no budget"),
    outcome("L-st-3", 1, "rep.ana", "2026-11-04T15:00:00Z", "voicemail_left"),
    outcome("L-st-3", 2, "rep.ana", "2026-11-04T18:00:00Z", "callback_received"),
    outcome("L-st-3", 3, "rep.ana", "2026-11-05T03:30:00Z", "no_answer"),
]

FROM, TO = "2026-11-02", "2026-11-09"

# (dials, connects, voicemails, meetings) per local day of FROM..TO
BY_DAY = {
    "2026-11-02": (3, 0, 1, 0), "2026-11-03": (2, 2, 0, 0), "2026-11-04": (2, 0, 1, 0),
    "2026-11-05": (1, 0, 0, 0), "2026-11-06": (1, 1, 0, 1), "2026-11-07": (0, 0, 0, 0),
    "2026-11-08": (0, 0, 0, 0), "2026-11-09": (1, 1, 0, 0),
}

# The whole range, the team.
MEASURES = {
    "dials": 10, "connects": 4, "connect_rate": 0.4, "voicemails_left": 2,
    "callbacks_received": 1, "callbacks_per_voicemail": 0.5, "meetings": 1,
    "first_contacts": 2, "attempts_before_first_contact": 1.5, "won_deals": 1,
    "follow_ups_per_won_deal": 1.0,
}

BY_REP = {
    "rep.ana": {"dials": 8, "connects": 3, "connect_rate": 3 / 8, "voicemails_left": 2,
                "callbacks_received": 1, "callbacks_per_voicemail": 0.5, "meetings": 1,
                "first_contacts": 1, "attempts_before_first_contact": 2.0, "won_deals": 1,
                "follow_ups_per_won_deal": 1.0},
    "rep.bob": {"dials": 2, "connects": 1, "connect_rate": 0.5, "voicemails_left": 0,
                "callbacks_received": 0, "callbacks_per_voicemail": None, "meetings": 0,
                "first_contacts": 1, "attempts_before_first_contact": 1.0, "won_deals": 0,
                "follow_ups_per_won_deal": None},
}

# (cadence, step, lead_type) -> (attempts, connects, wins)
BY_STEP = {
    ("zero_to_ten", "0", "cold"): (2, 0, 0),
    ("zero_to_ten", "1", "cold"): (2, 0, 0),
    ("zero_to_ten", "2", "cold"): (1, 1, 1),
    ("zero_to_ten", "follow_up", "cold"): (3, 2, 0),
    ("zero_to_ten_warm", "0", "warm"): (1, 0, 0),
    ("zero_to_ten_warm", "1", "warm"): (1, 1, 0),
}

BY_LEAD_TYPE = {"cold": {"leads": 2, "attempts": 8, "connects": 3, "wins": 1},
                "warm": {"leads": 1, "attempts": 2, "connects": 1, "wins": 0}}

# 2026-11-03 .. 2026-11-05 (excludes the 2nd and the win on the 9th)
MIDDLE = ("2026-11-03", "2026-11-05")
MIDDLE_MEASURES = {"dials": 5, "connects": 2, "connect_rate": 0.4, "voicemails_left": 1,
                   "callbacks_received": 1, "callbacks_per_voicemail": 1.0, "meetings": 0,
                   "first_contacts": 2, "attempts_before_first_contact": 1.5, "won_deals": 0,
                   "follow_ups_per_won_deal": None}


def feed(st, token):
    """Produces the history through Kafka: the leads, then (once the worker has them) each
    lead's outcomes in order, and waits until the stats show all of it."""
    from harness import wait_for
    st.kcat_produce("leads.v1", LEADS)

    def leads_in():
        return all(st.request("GET", f"/v1/leads/{k}", token=token)[0] == 200 for k, _ in LEADS)
    wait_for(leads_in, timeout=30, what="the three leads applied")
    st.kcat_produce("call-outcomes.v1", OUTCOMES)

    def all_in():
        status, body, _ = st.request("GET", f"/v1/stats?from={FROM}&to={TO}", token=token)
        return status == 200 and body["measures"]["dials"] == 10 and body["measures"]["won_deals"] == 1
    wait_for(all_in, timeout=30, what="every outcome in the stats")
