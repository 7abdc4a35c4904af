"""Schemathesis hooks for tiergate's fuzz suite (loaded through SCHEMATHESIS_HOOKS=hooks).

- `openai_error_shape`: every 4xx answer is OpenAI's error body plus the request id, and that id is
  the response's x-request-id; on the Anthropic Messages route (`/v1/messages`) it is Anthropic's
  error body (`{"type": "error", "error": {type, message}, "request_id"}`) instead.
- `map_body`: generated requests ask for few tokens, so a bounded run on a CPU model server stays
  bounded (the token caps themselves are fuzzed by the schema's limits on the other fields).
"""

import json

import schemathesis

MAX_FUZZ_TOKENS = 8


@schemathesis.check
def openai_error_shape(ctx, response, case):
    """A 4xx carries {"error": {message, type, code, param, request_id}} with the x-request-id."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"4xx body is not JSON: {response.content[:200]!r}") from error
    # The Messages route answers in Anthropic's shape; a method it does not serve gets OpenAI's.
    if case.path == "/v1/messages" and case.method.upper() == "POST":
        return anthropic_error_shape(body, response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise AssertionError(f"4xx body has no error object: {body!r}")
    for field in ("message", "type", "code", "request_id"):
        if not isinstance(error.get(field), str) or not error[field]:
            raise AssertionError(f"4xx error.{field} missing or empty: {error!r}")
    if "param" not in error or not (error["param"] is None or isinstance(error["param"], str)):
        raise AssertionError(f"4xx error.param must be a string or null: {error!r}")
    if error["request_id"] != response.headers.get("x-request-id", [None])[0]:
        raise AssertionError("4xx error.request_id differs from the x-request-id header")
    return None


def anthropic_error_shape(body, response):
    """Anthropic's error body, with the request id of the x-request-id header."""
    if not isinstance(body, dict) or body.get("type") != "error":
        raise AssertionError(f"4xx body is not Anthropic's error shape: {body!r}")
    error = body.get("error")
    if not isinstance(error, dict):
        raise AssertionError(f"4xx body has no error object: {body!r}")
    for field in ("type", "message"):
        if not isinstance(error.get(field), str) or not error[field]:
            raise AssertionError(f"4xx error.{field} missing or empty: {error!r}")
    if body.get("request_id") != response.headers.get("x-request-id", [None])[0]:
        raise AssertionError("4xx request_id differs from the x-request-id header")
    return None


@schemathesis.hook
def map_body(context, body):
    """Caps the tokens a generated request may ask a model for."""
    if isinstance(body, dict):
        for field in ("max_tokens", "max_completion_tokens"):
            value = body.get(field)
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_FUZZ_TOKENS:
                body[field] = MAX_FUZZ_TOKENS
        if "max_tokens" not in body and "max_completion_tokens" not in body and "messages" in body:
            body["max_tokens"] = MAX_FUZZ_TOKENS
    return body
