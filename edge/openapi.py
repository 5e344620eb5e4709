"""The edge API as an OpenAPI 3.1 document, served at wire.API_OPENAPI.

Kept by hand beside edge/api.py; tests/test_api_openapi.py fails when a route is added to the app
without being documented here.
"""

from __future__ import annotations

from kiosk import wire
from kiosk.openapi import JSON, error_response, json_response, ref

_KEY = {"name": wire.IDEMPOTENCY_HEADER, "in": "header", "required": True,
        "description": "One key per resident action (e.g. a UUID), reused unchanged on every retry.",
        "schema": {"type": "string", "pattern": f"^{wire.IDEMPOTENCY_KEY_PATTERN}$"}}
_INM = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
        "description": "The ETag from an earlier answer; 304 if unchanged."}
_CACHED = {"200": {"description": "OK (ETag = sha256 of the body; Cache-Control: no-cache)",
                   "headers": {"ETag": {"schema": {"type": "string"}}},
                   "content": {JSON: {"schema": {"type": "object"}}}},
           "304": {"description": "Not modified"},
           "503": error_response("No content pack is active yet (no_content) or it cannot be loaded (content_invalid)")}


_RATE_LIMITED = {"description": f"Too many lookups from this kiosk ({wire.ERR_RATE_LIMITED}); "
                                 "edge.lookup_rate_per_min per kiosk, loopback callers count as one",
                  "headers": {"Retry-After": {"description": "seconds until a lookup is allowed again",
                                              "schema": {"type": "integer"}}},
                  "content": {JSON: {"schema": ref("Error")}}}
_AUTH_DOC = (f"A kiosk on the hall LAN sends `{wire.AUTH_HEADER}: {wire.AUTH_SCHEME} <token>`; the edge "
             "accepts it when the token's SHA-256 is one of `[[edge.kiosks]]` and then knows the kiosk's id. A "
             "caller on loopback (the one-box hall) may send no token. Anything else, and any unknown token "
             f"(loopback too), is 401 `{wire.ERR_UNAUTHORIZED}`. The peer address is the socket's; "
             "X-Forwarded-For is ignored.")


_HOLDER = {"required": True, "content": {JSON: {"schema": {"oneOf": [
    {"type": "object", "required": ["id_number"], "properties": {"id_number": {"type": "string"}}},
    {"type": "object", "required": ["tracking_number"], "properties": {"tracking_number": {"type": "string"}}}]}}}}


def _path_param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


_SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string", "description": "stable, machine-readable"},
                       "message": {"type": "string"},
                       "details": {"type": "object", "properties": {"fields": {
                           "type": "array", "items": ref("FieldProblem")}}}}}}},
    "FieldProblem": {"type": "object", "required": ["field", "code", "message"],
                     "properties": {"field": {"type": "string"}, "code": {"type": "string"},
                                    "message": {"type": "string"}}},
    "Submission": {"type": "object", "required": ["schema", "service_id", "applicant"], "properties": {
        "schema": {"const": wire.SUBMISSION_SCHEMA},
        "service_id": {"type": "string"},
        "fields": {"type": "object", "description": "field id -> value, checked against the service's form"},
        "applicant": {"type": "object", "required": ["id_number", "name"],
                      "description": "card fields; only name, gender, nation, birth_date, address, id_number "
                                     "are kept",
                      "properties": {"id_number": {"type": "string"}, "name": {"type": "string"}}},
        "photo_jpeg_b64": {"type": "string", "description": "optional base64 JPEG, at most 2 MB decoded"},
        "lang": {"enum": ["bo", "zh", "en"]}}},
    "Accepted": {"type": "object", "required": ["tracking_number", "status", "created", "forwarded"],
                 "properties": {"tracking_number": {"type": "string"}, "status": {"const": wire.STATUS_QUEUED},
                                "created": {"type": "string", "format": "date-time"},
                                "forwarded": {"type": "boolean"},
                                wire.SUBMISSION_ACCEPTED_AT: {
                                    "type": ["string", "null"], "format": "date-time",
                                    "description": "when the edge accepted it, by its trusted clock; null when "
                                                   "the clock is not trusted (the receipt then prints no time)"}}},
    "Application": {"type": "object", "properties": {
        "tracking_number": {"type": "string"}, "service_id": {"type": ["string", "null"]},
        "status": {"enum": list(wire.STATUSES)},
        "history": {"type": "array", "items": {"type": "object", "properties": {
            "status": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}}},
        "as_of": {"type": "string", "format": "date-time", "description": "when this status was last confirmed"}}},
    "Progress": {"type": "object", "required": ["source", "as_of", "applications"], "properties": {
        "source": {"enum": ["platform", "edge_cache"]},
        "as_of": {"type": "string", "format": "date-time"},
        "applications": {"type": "array", "items": ref("Application")}}},
    "Payment": {"type": "object", "required": ["year", "month", "kind", "amount", "paid_at", "payer_status"],
                "properties": {
                    "year": {"type": "integer"}, "month": {"type": "integer", "minimum": 1, "maximum": 12},
                    "kind": {"enum": list(wire.PAYMENT_KINDS)},
                    "amount": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$",
                               "description": "yuan, exact, e.g. \"150.00\""},
                    "paid_at": {"type": ["string", "null"], "format": "date", "description": "null when unpaid"},
                    "payer_status": {"enum": list(wire.PAYER_STATUSES),
                                     "description": "paid by the resident, by the government on their behalf, "
                                                    "or due and not paid"}}},
    "Payments": {"type": "object", "required": ["source", "as_of", "payments"], "properties": {
        "source": {"enum": ["platform", "edge_cache"]},
        "as_of": {"type": "string", "format": "date-time",
                  "description": "when the platform gave these records (now, or the cached answer's time)"},
        "payments": {"type": "array", "items": ref("Payment"),
                     "description": f"latest first, at most {wire.PAYMENTS_MAX_MONTHS} months"}}},
    "Documents": {"type": "object", "required": ["source", "as_of", "documents"], "properties": {
        "source": {"enum": ["platform"]}, "as_of": {"type": "string", "format": "date-time"},
        "documents": {"type": "array", "items": {
            "type": "object", "required": ["serial", "kind", "tracking_number", "issued_on", "title", "needs_card"],
            "properties": {"serial": {"type": "string"}, "kind": {"type": "string"},
                           "tracking_number": {"type": "string"}, "service_id": {"type": "string"},
                           "issued_on": {"type": "string", "format": "date"},
                           "title": {"type": "object", "properties": {"bo": {"type": "string"}, "zh": {"type": "string"},
                                                                      "en": {"type": "string"}}},
                           "needs_card": {"type": "boolean",
                                          "description": "names its holder: printed only for the card"},
                           "holder_id_masked": {"type": "string"}}}}}},
    "Feedback": {"type": "object", "required": ["rating"], "properties": {
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "reasons": {"type": "array", "maxItems": 10, "items": {"type": "string", "pattern": "^[a-z0-9_]{1,40}$"}},
        "service_id": {"type": "string"}, "lang": {"enum": ["bo", "zh", "en"]}}},
    "Health": {"type": "object", "required": ["kiosk_id", "components"], "properties": {
        "kiosk_id": {"type": "string"},
        "components": {"type": "object", "additionalProperties": {"type": "object", "required": ["level", "code"],
                       "properties": {"level": {"enum": ["ok", "degraded", "fault"]}, "code": {"type": "string"},
                                      "zh": {"type": "string"}, "bo": {"type": "string"},
                                      "en": {"type": "string"}, "since": {"type": "string"}}}},
        "voice": {"type": "object", "description": "per language: prompts heard from a clip, a stand-in clip, "
                  "a synthetic voice, or not at all (kiosk.fleet_wire.VoiceCoverage)",
                  "additionalProperties": {"type": "object", "properties": {
                      k: {"type": "integer", "minimum": 0} for k in ("clip", "stand_in", "synthetic", "silent")}}}}},
    "Unconfirmed": {"type": "object", "required": ["tracking_number", "service_id", "created", "status"],
                    "properties": {"tracking_number": {"type": "string"},
                                   "service_id": {"type": ["string", "null"]},
                                   "created": {"type": "string", "format": "date-time"},
                                   "status": {"enum": list(wire.STATUSES)}}},
    "Status": {"type": "object", "properties": {
        "kiosk_id": {"type": "string"},
        "wan": {"type": "object", "properties": {"wan": {"enum": ["unknown", "up", "down"]},
                                                 "since": {"type": "string"}, "last_error": {"type": ["string", "null"]}}},
        "content": {"type": "object", "properties": {"active_version": {"type": ["integer", "null"]},
                                                     "allow_unsigned": {"type": "boolean"},
                                                     "sync": {"type": ["object", "null"], "properties": {
                                                         "refused": {"type": ["object", "null"],
                                                                     "description": "the last pack this edge "
                                                                     "refused, while the previous one serves",
                                                                     "properties": {
                                                                         "version": {"type": ["integer", "null"]},
                                                                         "code": {"type": "string"},
                                                                         "reason": {"type": "string"},
                                                                         "at": {"type": "string"}}}}}}},
        "outbox": {"type": "object", "properties": {"depth": {"type": "integer"},
                                                    "oldest_age_s": {"type": ["number", "null"]},
                                                    "dead_letters": {"type": "integer"},
                                                    "dead_oldest_age_s": {"type": ["number", "null"]},
                                                    "unconfirmed": {"type": "integer", "description":
                                                                    "applications whose receipt was never shown"}}},
        "kiosks": {"type": "object", "description": "last health report per kiosk"}}},
}


_SCHEMAS["KioskRequest"] = {"type": "object", "required": ["id", "kind", "args", "timeout_s"], "properties": {
    "id": {"type": "string"}, "kind": {"enum": ["self_test", "screenshot"]}, "args": {"type": "object"},
    "timeout_s": {"type": "number", "description": "seconds left before the agent stops waiting"}}}
_SCHEMAS["KioskAnswer"] = {"type": "object", "required": ["result"], "properties": {
    "result": {"enum": ["done", "failed", "rejected"]}, "message": {"type": "string", "maxLength": 500},
    "data": {"type": "object", "description": "self_test: {checks: {name: status}}; screenshot: "
                                              "{jpeg_b64, width, height}"}}}


def document() -> dict:
    submit_responses = {
        "201": json_response(ref("Accepted"), "Stored durably; forwarded to the platform when it is reachable"),
        "200": json_response(ref("Accepted"), "A replay of the same key: the first answer again"),
        "400": error_response("No/invalid Idempotency-Key, malformed JSON or wrong schema"),
        "409": error_response("The key was used for a different request (idempotency_conflict)"),
        "413": error_response("Body too large"),
        "422": error_response("Fields that need attention, every one listed in details.fields"),
        "507": error_response("The edge's disk is (nearly) full (storage_full): nothing was stored"),
    }
    paths = {
        wire.API_STATUS: {"get": {"summary": "Edge status: WAN, content version, outbox, kiosk health",
                                  "responses": {"200": json_response(ref("Status"), "OK")}}},
        wire.API_OPENAPI: {"get": {"summary": "This document", "responses": {"200": {"description": "OK"}}}},
        wire.API_MANIFEST: {"get": {"summary": "The active content manifest", "parameters": [_INM],
                                    "responses": _CACHED}},
        wire.API_FILE: {"get": {"summary": "One file of the active pack (ETag = its sha256)",
                                "parameters": [_path_param("path", "path inside the pack"), _INM],
                                "responses": {**_CACHED, "404": error_response("Not in the active pack"),
                                              "503": error_response("No pack is active (no_content), or the version "
                                                          "was switched mid-request (content_switching: "
                                                          "ask again)")}}},
        wire.API_SERVICES: {"get": {"summary": "Service summaries (id, category, title, summary, icon)",
                                    "parameters": [_INM], "responses": _CACHED}},
        wire.API_SERVICE: {"get": {"summary": "One full service definition (kiosk.content.Service.to_dict)",
                                   "parameters": [_path_param("service_id", "service id"), _INM],
                                   "responses": {**_CACHED, "404": error_response("Unknown service")}}},
        wire.API_PROMPTS: {"get": {"summary": "Prompts of the active pack", "parameters": [_INM],
                                   "responses": _CACHED}},
        wire.API_GUIDE: {"get": {"summary": "One guide (markdown per language)",
                                 "parameters": [_path_param("guide_id", "guide id"), _INM],
                                 "responses": {**_CACHED, "404": error_response("Unknown guide")}}},
        wire.API_FORM: {"get": {"summary": "One printable blank form",
                                "parameters": [_path_param("form_id", "form id"), _INM],
                                "responses": {**_CACHED, "404": error_response("Unknown form")}}},
        wire.API_SUBMISSIONS: {"post": {
            "summary": "Hand in an application; answered as soon as it is on disk, whatever the WAN does",
            "parameters": [_KEY], "requestBody": {"required": True, "content": {JSON: {"schema": ref("Submission")}}},
            "responses": {**submit_responses, "404": error_response("Unknown service"),
                          "503": error_response("No content pack is active")}}},
        wire.API_UNCONFIRMED: {"get": {
            "summary": "Applications accepted here whose receipt the resident has not been shown (e.g. the "
                       "kiosk restarted between the answer and the receipt screen)",
            "responses": {"200": json_response({"type": "object", "required": ["applications"], "properties": {
                "applications": {"type": "array", "items": ref("Unconfirmed")}}}, "OK")}}},
        wire.API_SUBMISSION_SHOWN: {"post": {
            "summary": "The resident has seen this receipt: it leaves the unconfirmed list (repeating is harmless)",
            "parameters": [_path_param("tracking_number", f"as printed on the receipt ({wire.TRACKING_PATTERN})")],
            "responses": {"200": json_response({"type": "object", "required": ["tracking_number", "shown"], "properties": {
                "tracking_number": {"type": "string"}, "shown": {"const": True}}}, "Marked as shown"),
                "400": error_response("Not a tracking number (bad_tracking_number)"),
                "404": error_response("Unknown on this edge (not_found)")}}},
        wire.API_SUBMISSION: {"get": {
            "summary": "The edge's record of one submission",
            "parameters": [_path_param("tracking_number", "as printed on the receipt")],
            "responses": {"200": json_response(ref("Application"), "OK"), "404": error_response("Unknown on this edge")}}},
        wire.API_PROGRESS: {"post": {
            "summary": "Progress of applications: from the platform, or the edge's record when it is unreachable",
            "requestBody": {"required": True, "content": {JSON: {"schema": {"oneOf": [
                {"type": "object", "required": ["id_number"], "properties": {"id_number": {"type": "string"}}},
                {"type": "object", "required": ["tracking_number"],
                 "properties": {"tracking_number": {"type": "string"}}}]}}}},
            "responses": {"200": json_response(ref("Progress"), "OK"), "400": error_response("Neither or both given"),
                          "404": error_response("Unknown tracking number"), "422": error_response("Malformed ID or tracking number"),
                          "429": _RATE_LIMITED}}},
        wire.API_PAYMENTS: {"post": {
            "summary": "A resident's social-insurance payments: from the platform, or the edge's last copy of "
                       "them when it is unreachable",
            "requestBody": {"required": True, "content": {JSON: {"schema": {
                "type": "object", "required": ["id_number"], "properties": {"id_number": {"type": "string"}}}}}},
            "responses": {"200": json_response(ref("Payments"), "OK"), "422": error_response("Malformed ID number"),
                          "429": _RATE_LIMITED,
                          "503": error_response("The platform is unreachable and this edge has no copy "
                                      "(payments_unreachable)")}}},
        wire.API_DOCUMENTS: {"post": {
            "summary": "Documents issued to a resident (ID card) or for an application (receipt), from the platform",
            "requestBody": _HOLDER,
            "responses": {"200": json_response(ref("Documents"), "OK"), "400": error_response("Neither or both given"),
                          "422": error_response("Malformed ID or tracking number"), "429": _RATE_LIMITED,
                          "503": error_response(f"The platform is unreachable ({wire.ERR_DOCUMENTS_UNREACHABLE})")}}},
        wire.API_DOCUMENT_PDF: {"post": {
            "summary": "One issued document as an A4 PDF, rendered by the platform (never stored at the edge)",
            "parameters": [_path_param("serial", "the document's serial number")], "requestBody": _HOLDER,
            "responses": {"200": {"description": "The PDF", "content": {"application/pdf": {}}},
                          "403": error_response(f"Names its holder: read the ID card ({wire.ERR_CARD_REQUIRED})"),
                          "404": error_response("Not this resident's document"), "429": _RATE_LIMITED,
                          "503": error_response(f"The platform is unreachable ({wire.ERR_DOCUMENTS_UNREACHABLE})")}}},
        wire.API_FEEDBACK: {"post": {
            "summary": "A resident's rating, queued through the outbox",
            "parameters": [_KEY], "requestBody": {"required": True, "content": {JSON: {"schema": ref("Feedback")}}},
            "responses": submit_responses}},
        wire.API_HEALTH: {"post": {
            "summary": "Component statuses from a kiosk (kept in memory, shown in the status)",
            "requestBody": {"required": True, "content": {JSON: {"schema": ref("Health")}}},
            "responses": {"200": {"description": "Stored"}, "422": error_response("Malformed report"),
                          "403": error_response(f"The token is another kiosk's ({wire.ERR_FORBIDDEN})"),
                          "429": error_response("Too many kiosks")}}},
        wire.API_KIOSK_COMMANDS: {"get": {
            "summary": "The kiosk UI's long poll for the fleet agent's next request (self_test, screenshot); "
                       "a LAN kiosk gets only its own",
            "parameters": [{"name": "wait", "in": "query", "required": False,
                            "schema": {"type": "number", "minimum": 0, "maximum": 55},
                            "description": "seconds to wait for a request (default 0)"}],
            "responses": {"200": json_response(ref("KioskRequest"), "A request, now the caller's to answer"),
                          "204": {"description": "Nothing within the wait"},
                          "400": error_response("wait is not a number of seconds 0-55 (bad_wait)")}}},
        wire.API_KIOSK_COMMAND_RESULT: {"post": {
            "summary": "The kiosk UI's answer to a request it took",
            "parameters": [_path_param("request_id", "the request's id")],
            "requestBody": {"required": True, "content": {JSON: {"schema": ref("KioskAnswer")}}},
            "responses": {"200": {"description": "Handed to the fleet agent"},
                          "403": error_response(f"The request is another kiosk's ({wire.ERR_FORBIDDEN})"),
                          "404": error_response("No such pending request: answered already or timed out"),
                          "422": error_response("Malformed answer (invalid_result)")}}},
    }
    unauthorized = error_response(f"No token from beyond loopback, or an unknown token ({wire.ERR_UNAUTHORIZED})")
    for ops in paths.values():
        for op in ops.values():
            op["responses"] = {**op["responses"], "401": unauthorized}  # a copy: some are shared
    return {"openapi": "3.1.0",
            "info": {"title": "Township Kiosk edge API", "version": "1",
                     "description": "The local API a hall's kiosks use. JSON everywhere; errors are "
                                    "{\"error\": {\"code\", \"message\", \"details\"?}} with a stable code."},
            "paths": paths, "security": [{"kioskToken": []}, {}],  # {}: loopback needs no token
            "components": {"schemas": _SCHEMAS, "securitySchemes": {"kioskToken": {
                "type": "http", "scheme": "bearer", "description": _AUTH_DOC}}}}
