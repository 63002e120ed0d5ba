"""The OpenAI Responses adapter (kind "openai-responses").

Every recorded fixture under ``tests/fixtures/openai-responses`` is folded and
compared with a result written by reading it (the multistep file holds four
responses of one agent loop and is split on ``response.created``); the bodies
are re-cut at every size from 1 to 64 bytes and at seeded random points.
Quirks with no recording (two interleaved calls, ``response.incomplete``, the
flat error shape, ...) are small synthetic streams. One test runs over a real
loopback socket; the golden test pins the request body, reasoning echo included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from providers import create_provider
from providers.accumulate import Accumulator
from providers.conversation import AssistantMessage, ChatRequest, ReasoningPart, UserMessage
from providers.errors import IncompleteResponse, ProviderError, StreamError
from tests.support import wire
from tests.support.golden import check_golden, golden_request
from tests.support.loopback import LoopbackServer, Reply, split_every
from tests.support.replay import (
    FIXTURES,
    body_from_fixture,
    fold,
    pieces_of,
    random_pieces,
    replay,
    settings_for,
    summarize,
    transport_for,
    until_error,
)

KIND = "openai-responses"
REQUEST = ChatRequest(messages=(UserMessage("hi"),))
MULTISTEP = "openai-responses/reasoning-summary-then-function-calls-multistep.chunks.txt"
ERROR_FIXTURE = "openai-responses/error-event-then-response-failed.chunks.txt"

# -- expected results, read from the fixtures -----------------------------------------------

# encrypted_content of the reasoning items' output_item.done events (the .added
# events carry an older, shorter value).
COMMENTARY_ENCRYPTED = (
    "gAAAAABqaR3-pGgSyJcPT3y2_26v61vCZmE9M2P6q5LyFcAkcT7vldTwqVUWc757s4uFB6"
    "vneHEoMEnkg-fXJlIWoxAM9ZP5ZehA4u0By_HQz7X5TqeAu4UNdryzz-x3Ks0uWUqT710m"
    "c2sH145ky0kHIJgDlX-aYjSV5tkfRqhNcoQgYz8lUIvkYQ0CJDAFEFWnriCziPD9SvN_jx"
    "GnrCGE5GDqY_m1AQOd1lVfCiIq1MLWyhCXy9eK81a8ZdKAJxOZEgdCfX-oCQXR_FXuNkW4"
    "_O0hdlEzNRhBZwc2ysJn30E7Vr8u-KJcULRUmtKriMiiu2K9FjZyQ8_xXUlcCUWPGsr-Kh"
    "pW_BHO9nL8X_aj3M6wUvDDNpQWUgiKMT2gOYgtVLQfM8f1nWlIfFdWEhZCMThp7oW3FZcc"
    "A3tHOBE9_TR4UcmrQwHTR3zBA4KHx3QXiPI7zuExP1UAkQClqZsS-h7uAPHqegpyOe6oL0"
    "DpoMbl6Mps1xiwewe8jKH_Aus4XvWBsOdpuFPkEOVY9Pe1C-OEVeT5Qmzcm3KuZok_saku"
    "bBCc9FRiKaNPAej8xQg-YXJX1j9ZYK2vHJG-pu4ZLd2gIcI87X11xdUyMUmD1T66pe8JZw"
    "UskoLxLtkFefILyn8DoMJQkZ9IO2gdsHMsrFzJNfpst0u9KC5Wp3Y687Rh4vN4AlWFsCDY"
    "hhats5XcJU3TlpvTuVqacE2_FE_n6zUpr6mtB6sG_qHaeLwQJdaBs_09SzHmTcTPQ_DLrQ"
    "vKu2UNebLgI7WWOTBjOD7UcZKj5Sd_F6LvAEvh8a_LwCz-oX_Nd87MfVRFmuKklzWMYMEK"
    "o1ocgsAoJOaawHdBMultF0o_01shTly4iYVBoBkki4uxmP_ORd0LQsV4o6A_Eiwqk8qEnI"
    "4_7D2tzIRsrfDxlEaP17-_IRHTdHw4Ax2FwKYbMyM3KZdtYnZ0eeDaT0z24RfqwL2WX8gH"
    "3bRMVr8KDNeapLG8EF3z9oK9sjeOTIo-3fXyY_ZEMBEvq5dzsZfosl_9EyRon0TlCVC7IU"
    "PEPgeI-QScqnYrFieJls_UcqGK8PU="
)
MULTISTEP_ENCRYPTED = (
    "gAAAAABpPDIVOKrsHNZ0GwsoEKA_IGfuJ5f8Ma_6-EojH4yZFL50qlfUzM7FREdQlpkqln"
    "IHLRx2YJxZfzvbnc0E3J_yvIuoeoGQp2hYUfiV5XWs5d0XfqJps9ZgtUBRR1dqB43ooABe"
    "haMjM6BjaSGz-3PeUHZfedawAcRKhdJuLF1Q2YPL0OI4i97zy3O1u_2ypHd9JTE1pWoJMw"
    "Pqx3myOs1_eeg5_yzgiQ0WsRHLvginFvEUyt-N7uxubO6bHfSN_TVTyXiDhCI6lf1v1r8E"
    "lDAkFfpbEKvIhUs4SGhykBWkYauqsB9B79Nfr6gwmaUnRGAct8ZsX394UVAqqokBqLIB8E"
    "zDjckb5EkUh0F33Ye_9-Nyjo7zLN_gTGxf3JI5DxsbFsZAylpEsEAX6_UbH0o3-2dfy_p9"
    "_rgNUNfQmg4nty8z0ZIKdEC7hihyD-4gj7lRYEKcDhQmDVKJW-6asLIpFVoX65yJRo-xOB"
    "Pf3lLzXczlXWvvYiooHFAF5h1YFFzfjS8pnXkpnq-cFS4Ot8i63pAKgTcRMQEgOB1AxjXO"
    "X-QRnX_ncyJmYDVAl-Q7zJwc2cynXXCiaoYfaFxN0P26An7bV18Dwrz3ed-hd-mKUQM_nS"
    "9z59kyvCb8Ug7KxD10Me8jyzOFXgtmb76vTRxa7zjMdQhoGE2wRO348n28yM4flAKqUS7b"
    "0TsUljeSSnoBXMJSqpuqKXrpmLWjt8_Ws9dEgP3ql8QcQwnQ5QAePNXoleQGBjiF_C5WI8"
    "Qoyd6yxFcYM939msh9gfA94QAQiMB7-KUpmo_8ViQOVAggnt1QlXXHrrHuEDDgL2l42_aA"
    "IVL3GlHCuSlIChiET8y2iRZmxhDoEg61zQAuknapDM8-5POFTRcbniqN6eHJjxKOJpD45J"
    "kH1HYAOHAX3llk6M1MNx_YkYc7mOXmcPIHUYvHOjTv7dAhntZhxn4iHXHRvFRd22b4pUNx"
    "SPHDJQ8_UgJ0OgCZIoy1axBR84rbicty4RCaGkbotBee75SdYcE__rOXQxSo_8XMnObfNxat0wz4uQ=="
)
MULTISTEP_SUMMARY = (
    "**Calculating step-by-step using calculator**\n\n"
    "I'll compute 12 plus 7, then multiply the result by 3, and finally multiply that "
    "by 10, reporting the final product."
)
COMMENTARY_ITEM = {
    "id": "rs_0fabc13af1ee0049006a691dfe60b081a1baa444d3cf19afba",
    "type": "reasoning",
    "content": [],
    "encrypted_content": COMMENTARY_ENCRYPTED,
    "summary": [],
}
MULTISTEP_ITEM = {
    "id": "rs_01830d662ab3856501693c321405c88190be3ab04d5782d5f9",
    "type": "reasoning",
    "encrypted_content": MULTISTEP_ENCRYPTED,
    "summary": [{"type": "summary_text", "text": MULTISTEP_SUMMARY}],
}


def call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """One expected call as ``summarize`` shows it (the id is the ``call_id``)."""
    return {"id": call_id, "name": name, "arguments": arguments, "error": None}


def result(
    *,
    text: str = "",
    reasoning: str = "",
    echo: tuple[dict[str, Any], ...] = (),
    calls: tuple[dict[str, Any], ...] = (),
    finish: str | None,
    usage: tuple[int | None, ...] | None,
) -> dict[str, Any]:
    """An expected ``summarize`` result."""
    return {
        "text": text,
        "reasoning": reasoning,
        "echo": list(echo),
        "calls": list(calls),
        "finish": finish,
        "usage": usage,
    }


# usage tuples: (input, output, reasoning, cached), all from the terminal event.
EXPECTED: dict[str, dict[str, Any]] = {
    "openai-responses/text.sse": result(text="pong", finish="stop", usage=(11, 5, 0, 0)),
    # output_item.added holds call_id and name; 11 deltas addressed by item_id.
    "openai-responses/function-call-multichunk-args.sse": result(
        calls=(call("call_sVidsfFJ6zlzRpelrPkTPlpd", "multiply", {"a": 1231, "b": 2331}),),
        finish="tool_calls",
        usage=(58, 23, 0, 0),
    ),
    # March 2025: no sequence_number, no obfuscation.
    "openai-responses/function-call-legacy-no-sequence-number.sse": result(
        calls=(call("call_kL0PCQV7M2WMoVX8V8OtYSAL", "get_capital", {"country": "France"}),),
        finish="tool_calls",
        usage=(255, 16, 0, 0),
    ),
    # A reasoning item with no summary text (echo only), commentary text, a call.
    "openai-responses/reasoning-commentary-text-then-function-call.sse": result(
        text="I’ll check the capital lookup tool for “PotatoLand.”",
        echo=({"item": COMMENTARY_ITEM},),
        calls=(call("call_LabG58Uhrq9kZvR52BYKjToD", "get_capital", {"country": "PotatoLand"}),),
        finish="tool_calls",
        usage=(63, 69, 26, 0),
    ),
    f"{MULTISTEP}#1": result(
        reasoning=MULTISTEP_SUMMARY,
        echo=({"item": MULTISTEP_ITEM},),
        calls=(
            call("call_AB6AaRZ1FYZB2RwS6A5vbdqn", "calculator", {"a": 12, "b": 7, "op": "add"}),
        ),
        finish="tool_calls",
        usage=(134, 28, 0, 0),
    ),
    f"{MULTISTEP}#2": result(
        calls=(
            call(
                "call_Q6pW65MUgW9vF59BmItYGos3", "calculator", {"a": 19, "b": 3, "op": "multiply"}
            ),
        ),
        finish="tool_calls",
        usage=(221, 26, 0, 0),
    ),
    f"{MULTISTEP}#3": result(
        calls=(
            call(
                "call_Zl5vIMnD7dVAjgU6FkhmiCZh", "calculator", {"a": 57, "b": 10, "op": "multiply"}
            ),
        ),
        finish="tool_calls",
        usage=(260, 26, 0, 0),
    ),
    f"{MULTISTEP}#4": result(
        text="The final result is **570**.", finish="stop", usage=(299, 12, 0, 0)
    ),
}
# The nested error event (insufficient_quota) comes before any output.
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors. (insufficient_quota)"
)


def multistep_bodies() -> list[bytes]:
    """The four responses of the multistep file, each as its own SSE body."""
    text = (FIXTURES / MULTISTEP).read_text(encoding="utf-8")
    bodies: list[list[str]] = []
    for line in filter(str.strip, text.splitlines()):
        if json.loads(line)["type"] == "response.created":
            bodies.append([])
        bodies[-1].append(f"data: {line}\n\n")
    return ["".join(events).encode() for events in bodies]


def case_body(case: str) -> bytes:
    """The body for a fixture name, or ``<multistep>#n`` for one of its responses."""
    if "#" in case:
        return multistep_bodies()[int(case.split("#")[1]) - 1]
    return body_from_fixture(case)


def test_every_fixture_has_an_expected_result() -> None:
    on_disk = {f"openai-responses/{p.name}" for p in (FIXTURES / "openai-responses").iterdir()}
    covered = {case.split("#")[0] for case in EXPECTED} | {ERROR_FIXTURE}
    assert on_disk == covered
    assert len(multistep_bodies()) == 4


# -- helpers -------------------------------------------------------------------------------


async def fold_until_error(
    pieces: list[bytes], **settings: Any
) -> tuple[dict[str, Any], ProviderError | None]:
    """Fold events as they arrive; return the partial message and the error, if any."""
    events, err = await until_error(KIND, pieces, REQUEST, **settings)
    return summarize(fold(KIND, events)), err


def sse(*payloads: dict[str, Any]) -> bytes:
    """A Responses body: ``event: <type>`` plus ``data:`` for each payload."""
    return wire.sse(*payloads, named=True)


def cuttings(body: bytes) -> list[tuple[str, list[bytes]]]:
    """Every piece size from 1 to 64 bytes, then three seeded random cuttings."""
    out = [(f"{size}-byte pieces", pieces_of(body, size)) for size in range(1, 65)]
    out += [(f"random cuts, seed {seed}", random_pieces(body, seed, 20)) for seed in (1, 2, 3)]
    return out


# -- recorded streams ----------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(EXPECTED))
async def test_recorded_stream(case: str) -> None:
    folded, error = await fold_until_error([case_body(case)])
    assert error is None
    assert folded == EXPECTED[case]


async def test_stream_ends_at_the_terminal_event() -> None:
    # Served whole, the multistep file reads as its first response only.
    assert summarize(await replay(KIND, MULTISTEP)) == EXPECTED[f"{MULTISTEP}#1"]


async def test_recorded_error_event_then_response_failed() -> None:
    folded, error = await fold_until_error([body_from_fixture(ERROR_FIXTURE)])
    assert isinstance(error, StreamError) and not isinstance(error, IncompleteResponse)
    assert str(error) == QUOTA_MESSAGE
    assert not error.retryable
    assert folded == result(finish=None, usage=None)


@pytest.mark.parametrize("case", [*sorted(EXPECTED), ERROR_FIXTURE])
async def test_any_cutting_gives_the_same_result(case: str) -> None:
    if case == ERROR_FIXTURE:
        expected: tuple[dict[str, Any], str | None] = (
            result(finish=None, usage=None),
            QUOTA_MESSAGE,
        )
    else:
        expected = (EXPECTED[case], None)
    for label, pieces in cuttings(case_body(case)):
        folded, error = await fold_until_error(pieces)
        assert (folded, error and str(error)) == expected, label


# -- quirks with no recording --------------------------------------------------------------

CREATED = {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}}
USAGE = {
    "input_tokens": 40,
    "input_tokens_details": {"cached_tokens": 8},
    "output_tokens": 30,
    "output_tokens_details": {"reasoning_tokens": 12},
    "total_tokens": 70,
}


def completed(**response: Any) -> dict[str, Any]:
    return {"type": "response.completed", "response": {"status": "completed", **response}}


def fc_added(item_id: str, call_id: str, name: str, output_index: int) -> dict[str, Any]:
    item = {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": name,
        "arguments": "",
        "status": "in_progress",
    }
    return {"type": "response.output_item.added", "output_index": output_index, "item": item}


def fc_done(item_id: str, call_id: str, name: str, output_index: int, args: str) -> dict[str, Any]:
    item = {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": name,
        "arguments": args,
        "status": "completed",
    }
    return {"type": "response.output_item.done", "output_index": output_index, "item": item}


def args_delta(delta: str, item_id: str | None, output_index: int) -> dict[str, Any]:
    event = {
        "type": "response.function_call_arguments.delta",
        "output_index": output_index,
        "delta": delta,
    }
    return event | ({"item_id": item_id} if item_id else {})


def text_delta(delta: str) -> dict[str, Any]:
    return {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": delta,
    }


async def test_two_calls_interleaved_by_output_index() -> None:
    body = sse(
        CREATED,
        fc_added("fc_1", "call_1", "read_file", 0),
        fc_added("fc_2", "call_2", "read_file", 1),
        args_delta('{"path":', "fc_1", 0),
        args_delta('{"path":', "fc_2", 1),
        args_delta('"a.py"}', None, 0),  # addressed by output_index alone
        args_delta('"b.py"}', "fc_2", 1),
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_2",
            "output_index": 1,
            "arguments": '{"path":"b.py"}',
        },
        fc_done("fc_2", "call_2", "read_file", 1, '{"path":"b.py"}'),
        fc_done("fc_1", "call_1", "read_file", 0, '{"path":"a.py"}'),
        completed(usage=USAGE),
    )
    folded, error = await fold_until_error([body])
    assert error is None
    assert folded == result(
        calls=(
            call("call_1", "read_file", {"path": "a.py"}),
            call("call_2", "read_file", {"path": "b.py"}),
        ),
        finish="tool_calls",
        usage=(40, 30, 12, 8),
    )


async def test_arguments_only_in_done_events_are_sent_once() -> None:
    body = sse(
        fc_added("fc_1", "call_1", "lookup", 0),
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "output_index": 0,
            "arguments": '{"q": 1}',
        },
        fc_done("fc_1", "call_1", "lookup", 0, '{"q": 1}'),
        completed(),
    )
    provider = create_provider(settings_for(KIND), transport=transport_for([body]))
    events = [event async for event in provider.stream(REQUEST)]
    await provider.aclose()
    assert [e.kind for e in events] == [
        "tool_call_start",
        "tool_call_delta",
        "tool_call_end",
        "finish",
    ]
    folded, _ = await fold_until_error([body])
    assert folded["calls"] == [call("call_1", "lookup", {"q": 1})]


async def test_call_seen_only_in_output_item_done_arrives_whole() -> None:
    body = sse(fc_done("fc_9", "call_9", "lookup", 0, '{"q": 2}'), completed())
    folded, _ = await fold_until_error([body])
    assert folded == result(
        calls=(call("call_9", "lookup", {"q": 2}),), finish="tool_calls", usage=None
    )


@pytest.mark.parametrize(
    ("reason", "finish"),
    [("max_output_tokens", "length"), ("content_filter", "content_filter"), ("other", "other")],
)
async def test_incomplete_response_keeps_text_and_maps_the_reason(reason: str, finish: str) -> None:
    body = sse(
        CREATED,
        text_delta("The answer"),
        text_delta(" is"),
        fc_added("fc_1", "call_1", "save_file", 1),
        args_delta('{"path": "no', "fc_1", 1),
        {
            "type": "response.incomplete",
            "response": {
                "status": "incomplete",
                "incomplete_details": {"reason": reason},
                "usage": USAGE,
            },
        },
    )
    folded, error = await fold_until_error([body])
    assert error is None
    assert folded["text"] == "The answer is"
    assert (folded["finish"], folded["usage"]) == (finish, (40, 30, 12, 8))
    # the cut-off call stays open, so it is never executed
    assert folded["calls"][0]["error"].startswith("incomplete")


async def test_flat_error_shape_after_text() -> None:
    body = sse(
        CREATED,
        text_delta("Partial"),
        {
            "type": "error",
            "code": "server_error",
            "param": None,
            "message": "The server had an error while processing your request.",
        },
    )
    folded, error = await fold_until_error([body])
    assert isinstance(error, StreamError) and not isinstance(error, IncompleteResponse)
    assert str(error) == "The server had an error while processing your request. (server_error)"
    assert folded == result(text="Partial", finish=None, usage=None)


async def test_response_failed_alone_is_a_stream_error() -> None:
    body = sse(
        text_delta("Hal"),
        {
            "type": "response.failed",
            "response": {"status": "failed", "error": {"code": "server_error", "message": "boom"}},
        },
    )
    folded, error = await fold_until_error([body])
    assert isinstance(error, StreamError) and str(error) == "boom (server_error)"
    assert folded["text"] == "Hal"


async def test_no_terminal_event_is_incomplete() -> None:
    folded, error = await fold_until_error([sse(CREATED, text_delta("Once upon"))])
    assert isinstance(error, IncompleteResponse)
    assert folded == result(text="Once upon", finish=None, usage=None)


async def test_malformed_event_is_a_stream_error() -> None:
    body = sse(text_delta("Hi")) + b'event: response.output_text.delta\ndata: {"type": "resp\n\n'
    folded, error = await fold_until_error([body])
    assert isinstance(error, StreamError) and str(error).startswith("malformed chunk")
    assert folded["text"] == "Hi"


async def test_raw_reasoning_text_and_summary_parts() -> None:
    # DeepSeek/OpenRouter /responses stream reasoning_text; OpenAI may send several
    # summary parts, kept apart by a blank line.
    item = {"type": "reasoning", "id": "rs_7", "summary": [], "encrypted_content": "gAAA"}
    body = sse(
        {
            "type": "response.reasoning_text.delta",
            "item_id": "rs_7",
            "output_index": 0,
            "content_index": 0,
            "delta": "Raw ",
        },
        {
            "type": "response.reasoning_summary_part.added",
            "item_id": "rs_7",
            "output_index": 0,
            "summary_index": 0,
            "part": {"type": "summary_text", "text": ""},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_7",
            "output_index": 0,
            "summary_index": 0,
            "delta": "one",
        },
        {
            "type": "response.reasoning_summary_part.added",
            "item_id": "rs_7",
            "output_index": 0,
            "summary_index": 1,
            "part": {"type": "summary_text", "text": ""},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_7",
            "output_index": 0,
            "summary_index": 1,
            "delta": "two",
        },
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        text_delta("Done."),
        completed(),
    )
    folded, _ = await fold_until_error([body])
    assert folded == result(
        text="Done.", reasoning="Raw one\n\ntwo", echo=({"item": item},), finish="stop", usage=None
    )


async def test_refusal_is_text_with_finish_refusal() -> None:
    body = sse(
        {
            "type": "response.refusal.delta",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "I can't help with that.",
        },
        completed(),
    )
    folded, _ = await fold_until_error([body])
    assert folded == result(text="I can't help with that.", finish="refusal", usage=None)


# -- over a real socket --------------------------------------------------------------------


async def test_loopback_chunked_stream_and_request(server: LoopbackServer) -> None:
    fixture = "openai-responses/function-call-legacy-no-sequence-number.sse"
    server.script(
        "/v1/responses", Reply(chunks=split_every(body_from_fixture(fixture), 7), pace=0.0005)
    )
    provider = create_provider(settings_for(KIND, base_url=f"{server.base_url}/v1"))
    acc = Accumulator(KIND)
    try:
        async for event in provider.stream(REQUEST):
            acc.add(event)
    finally:
        await provider.aclose()
    assert summarize(acc.message()) == EXPECTED[fixture]
    (sent,) = server.requests
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert (sent.method, sent.path) == ("POST", "/v1/responses")
    assert headers["authorization"] == "Bearer sk-test-0123456789"
    assert sent.json() == {
        "model": "test-model",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        "stream": True,
        "store": False,
        "include": ["reasoning.encrypted_content"],
    }


# -- the request body ----------------------------------------------------------------------

GOLDEN_ITEM = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAA..."}


def body_for(request: ChatRequest) -> dict[str, Any]:
    return create_provider(settings_for(KIND)).build_body(request)


def test_golden_request_body() -> None:
    body = body_for(golden_request(KIND, echo={"item": GOLDEN_ITEM}))
    check_golden(body, FIXTURES / "golden" / "openai-responses.json")


def test_reasoning_from_another_provider_is_not_echoed() -> None:
    own = body_for(golden_request(KIND, echo={"item": GOLDEN_ITEM}))
    other = body_for(golden_request("anthropic", echo={"item": GOLDEN_ITEM}))
    assert GOLDEN_ITEM in own["input"]
    assert [i for i in other["input"] if i.get("type") == "reasoning"] == []
    assert [i for i in own["input"] if i != GOLDEN_ITEM] == other["input"]


def test_recorded_reasoning_round_trips_into_the_next_request() -> None:
    # What the adapter folded from a stream is what the next request sends back.
    assistant = AssistantMessage(
        parts=(ReasoningPart(MULTISTEP_SUMMARY, {"item": MULTISTEP_ITEM}),), provider=KIND
    )
    body = body_for(ChatRequest(messages=(UserMessage("hi"), assistant, UserMessage("more"))))
    assert body["input"][1] == MULTISTEP_ITEM
