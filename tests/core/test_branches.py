"""Branches: edit a prompt, regenerate an answer, switch back; the file keeps every version.

A scripted provider and a real transcript file: what is promised is what the
file holds after each step, what is sent next, and what resume and export see.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from providers.conversation import AssistantMessage, UserMessage
from tests.support.scripted import ScriptedProvider, text_turn
from tui.core import branches
from tui.core.session import Session
from tui.core.tools.registry import ToolRegistry
from tui.core.transcript import TranscriptWriter, load, to_json, to_markdown


def make(tmp_path: Path, provider: ScriptedProvider) -> tuple[Session, TranscriptWriter]:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    writer = TranscriptWriter.create(
        tmp_path / "data", provider="scripted", model="m", workspace=str(workspace)
    )
    session = Session(provider=provider, tools=ToolRegistry(workspace), transcript=writer)
    return session, writer


async def send(session: Session, prompt: str) -> None:
    async for _ in session.send(prompt):
        pass


def texts(entries: list) -> list[str]:  # type: ignore[type-arg]
    return [e.message.text for e in entries]


async def five_prompts(tmp_path: Path) -> tuple[Session, TranscriptWriter, ScriptedProvider]:
    provider = ScriptedProvider(*(text_turn(f"answer {n}") for n in range(1, 8)))
    session, writer = make(tmp_path, provider)
    for n in range(1, 6):
        await send(session, f"prompt {n}")
    return session, writer, provider


async def test_edit_the_second_of_five_prompts_then_switch_back(tmp_path: Path) -> None:
    session, writer, provider = await five_prompts(tmp_path)
    second = branches.prompts(writer)[1]
    assert (second.number, second.text) == (2, "prompt 2")

    view, old = branches.edit(writer, session, second.node)
    assert old == "prompt 2"
    assert texts(view.entries) == ["prompt 1", "answer 1"]
    await send(session, "prompt 2, edited")
    # The request carried only the branch so far plus the new version.
    sent = provider.requests[-1].messages
    assert [m.text for m in sent] == ["prompt 1", "answer 1", "prompt 2, edited"]

    saved = load(writer.path)
    assert texts(saved.entries) == ["prompt 1", "answer 1", "prompt 2, edited", "answer 6"]
    assert len(saved.tree.nodes) == 12  # nothing was lost
    fork = saved.tree.forks()[-1]
    assert (fork.index, fork.count) == (2, 2)

    back = branches.step(writer, session, -1)
    assert texts(back.entries)[-2:] == ["prompt 5", "answer 5"]
    assert len(back.entries) == 10
    assert [m.text for m in session.history][-1] == "answer 5"
    # The switch is in the file: loading (or resuming) lands on the old branch.
    reloaded = load(writer.path)
    assert texts(reloaded.entries) == texts(back.entries)
    assert "prompt 5" in to_markdown(reloaded) and "edited" not in to_markdown(reloaded)
    assert "version 1 of 2" in to_markdown(reloaded)

    forward = branches.step(writer, session, +1)
    assert texts(forward.entries)[-1] == "answer 6"
    assert "prompt 2, edited" in to_markdown(load(writer.path))
    with pytest.raises(branches.BranchError, match="version 2 of 2"):
        branches.step(writer, session, +1)


async def test_json_export_holds_the_whole_tree_and_names_the_current_branch(
    tmp_path: Path,
) -> None:
    session, writer, _ = await five_prompts(tmp_path)
    branches.edit(writer, session, branches.prompts(writer)[1].node)
    await send(session, "again")
    doc = json.loads(to_json(load(writer.path)))
    assert len(doc["messages"]) == 12
    by_id = {m["id"]: m for m in doc["messages"]}
    saved = load(writer.path)
    assert doc["current"] == [e.id for e in saved.entries]
    assert texts(saved.entries) == ["prompt 1", "answer 1", "again", "answer 6"]
    assert by_id[doc["current"][2]]["message"] == {"role": "user", "text": "again"}
    assert by_id[doc["current"][2]]["parent"] == doc["current"][1]
    assert doc["messages"][0]["parent"] is None


async def test_regenerate_adds_a_sibling_answer_and_keeps_the_old(tmp_path: Path) -> None:
    provider = ScriptedProvider(text_turn("first"), text_turn("second"))
    session, writer = make(tmp_path, provider)
    await send(session, "hi")
    view = branches.regenerate(writer, session)
    assert texts(view.entries) == ["hi"]
    async for _ in session.retry():
        pass
    assert [m.text for m in provider.requests[-1].messages] == ["hi"]
    saved = load(writer.path)
    assert texts(saved.entries) == ["hi", "second"]
    answers = saved.tree.siblings(saved.entries[-1].id)
    assert [saved.tree.nodes[a].message.text for a in answers] == ["first", "second"]
    previous = branches.step(writer, session, -1)
    assert texts(previous.entries) == ["hi", "first"]


async def test_resume_continues_the_current_branch(tmp_path: Path) -> None:
    session, writer, _ = await five_prompts(tmp_path)
    branches.edit(writer, session, branches.prompts(writer)[1].node)
    await send(session, "edited")
    branches.step(writer, session, -1)
    writer.close()
    resumed = TranscriptWriter.reopen(writer.path)
    provider = ScriptedProvider(text_turn("after resume"))
    session2 = Session(provider=provider, tools=session.tools, transcript=resumed)
    session2.history[:] = list(branches.request_history(load(writer.path).entries))
    await send(session2, "prompt 6")
    assert [m.text for m in provider.requests[0].messages][-3:] == [
        "prompt 5",
        "answer 5",
        "prompt 6",
    ]
    assert texts(load(writer.path).entries)[-2:] == ["prompt 6", "after resume"]


def test_an_old_file_without_ids_reads_as_one_branch_and_can_branch(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    lines = [
        {"v": 1, "type": "meta", "id": "old", "title": "t"},
        {"v": 1, "type": "message", "turn": 1, "message": {"role": "user", "text": "a"}},
        {"v": 1, "type": "event", "turn": 1, "kind": "error", "text": "boom"},
        {"v": 1, "type": "partial", "turn": 1, "stream_id": "s", "message": _answer("b")},
        {"v": 1, "type": "message", "turn": 1, "stream_id": "s", "message": _answer("b!")},
        {"v": 1, "type": "message", "turn": 2, "message": {"role": "user", "text": "c"}},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    old = load(path)
    assert texts(old.entries) == ["a", "b!", "c"]
    assert [e.id for e in old.entries] == ["#0", "#1", "#2"]
    assert [n.position for n in old.notes] == [1]
    assert load(path).tree.nodes.keys() == old.tree.nodes.keys()  # stable ids

    writer = TranscriptWriter.reopen(path)
    session = Session(provider=ScriptedProvider(), tools=ToolRegistry(tmp_path), transcript=writer)
    view, text = branches.edit(writer, session, "#2")
    assert text == "c" and texts(view.entries) == ["a", "b!"]
    writer.append_user(UserMessage("c2"))
    writer.close()
    assert texts(load(path).entries) == ["a", "b!", "c2"]
    assert len(load(path).tree.nodes) == 4


def test_a_torn_last_line_mid_branch_loses_only_that_line(tmp_path: Path) -> None:
    writer = TranscriptWriter.create(tmp_path, provider="p", model="m", workspace="w")
    writer.append_user(UserMessage("one"))
    writer.append(AssistantMessage(()))
    first = writer.head
    writer.append_user(UserMessage("two"))
    writer.rewind(first)
    writer.append_user(UserMessage("two, again"))
    writer.close()
    with open(writer.path, "ab") as f:
        f.write(b'{"v": 1, "type": "message", "id": "x", "par')
    saved = load(writer.path)
    assert saved.skipped_lines == 1
    assert texts(saved.entries) == ["one", "", "two, again"]
    assert len(saved.tree.leaves()) == 2


def _answer(text: str) -> dict[str, object]:
    return {"role": "assistant", "parts": [{"type": "text", "text": text}]}
