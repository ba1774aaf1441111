/*
 * webhook_map — Segment and Mautic payloads mapped to site-visits.v1 events (not yet validated).
 */
#ifndef CADENCE_GATEWAY_WEBHOOK_MAP_H
#define CADENCE_GATEWAY_WEBHOOK_MAP_H

#include <jansson.h>

/* The first non-empty string among the dotted JSON member paths (NULL-terminated list), or
 * NULL; borrowed from `doc`. */
const char *gw_webhook_first_string(json_t *doc, const char *const *paths);

/* A Segment `page` call → a new site_visit object (caller owns it); borrows `call`. Fields the
 * call lacks are left out, so validation names them. */
json_t *gw_webhook_segment_page(json_t *call);

/* A Mautic page-hit item → a new site_visit object (caller owns it), or NULL when the hit names
 * no email to find the lead by. Borrows `item`. */
json_t *gw_webhook_mautic_hit(json_t *item);

#endif
