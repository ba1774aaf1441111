/*
 * messages — GET /v1/messages: the playbook's voicemail scripts and emails (CADENCE_PLAYBOOK,
 * read at start-up), keyed by the `message_id` a touch names, so the console shows the rep
 * what to say and send. Placeholders ({first_name}, {company}, {rep}) are left in: the console
 * fills them from the lead of the touch. For rep and manager tokens.
 * Answer: {"messages": [{"message_id", "kind": "voicemail"|"email", "subject"?, "text"}]}.
 */
#include <event2/http.h>

#include "gateway.h"

static void add(json_t *list, const cadence_playbook *pb, const char *id, const char *kind)
{
    const char *subject = NULL;
    const char *text = id ? cadence_playbook_message_text(pb, id, &subject) : NULL;
    if (!text)
        return;
    json_t *m = json_pack("{s:s,s:s,s:s}", "message_id", id, "kind", kind, "text", text);
    if (subject && *subject)
        json_object_set_new(m, "subject", json_string(subject));
    json_array_append_new(list, m);
}

void gw_messages_list(gateway *g, struct evhttp_request *req, const char *route)
{
    gw_principal who;
    if (gw_require(g, req, route, GW_ROLE_BIT(GW_ROLE_REP) | GW_ROLE_BIT(GW_ROLE_MANAGER), &who) !=
        0)
        return;
    json_t *list = json_array();
    size_t n = cadence_playbook_script_count(g->playbook);
    for (size_t i = 0; i < n; i++) {
        add(list, g->playbook, cadence_playbook_voicemail_id(g->playbook, i), "voicemail");
        add(list, g->playbook, cadence_playbook_email_id(g->playbook, i), "email");
    }
    gw_reply(g, req, route, 200, json_pack("{s:o}", "messages", list));
}
