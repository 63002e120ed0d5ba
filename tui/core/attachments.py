"""Attachments: ``@path`` in a prompt (or ``--attach FILE``) hands a workspace file to the model.

An image (PNG, JPEG, GIF, WebP, told by its first bytes, not its name) goes as
image input, in each wire format's own shape (``providers.conversation.ImagePart``).
A UTF-8 text file goes into the prompt's text, between lines naming its path,
cut at ``MAX_TEXT_BYTES`` with a note saying so. Anything else (a binary file
that is not one of those images, a directory, a FIFO) is refused with a
message, and so is a file outside the workspace or a protected one (``.git``,
chattui's own files): attachments are confined exactly as the tools are, and
read with the tools' own safe open (no symlinked leaf, no FIFO hang).

``@`` counts only at the start of a word and only when a file by that name
exists (``email@example.com`` or ``@someone`` stay text); a path with spaces
can be written ``@"my shot.png"``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from providers.conversation import ImagePart
from tui.core.tools.files import open_regular
from tui.core.tools.paths import ToolError, Workspace, quoted

MAX_IMAGE_BYTES = 5 * 1024 * 1024
"""The largest image sent (Anthropic's limit per image; the others allow as much or more)."""
MAX_TEXT_BYTES = 100 * 1024
"""Text beyond this is cut (a note in the prompt says so)."""
MAX_ATTACHMENTS = 10
"""Files one prompt may attach."""
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_MENTION = re.compile(r'(?:(?<=\s)|^)@(?:"([^"\n]+)"|(\S+))')
_TRAILING = ".,;:!?)]}'"  # punctuation after a path ends the sentence, not the name


class AttachmentError(Exception):
    """A file cannot be attached; the message says which and why."""


@dataclass(frozen=True)
class Prepared:
    """A prompt with its attachments applied.

    Attributes:
        text: the prompt, with each text file appended after it.
        images: the images, in the order they were named.
        names: workspace-relative paths of everything attached (for display).
    """

    text: str
    images: tuple[ImagePart, ...] = ()
    names: tuple[str, ...] = ()


def may_mention(prompt: str) -> bool:
    """Whether ``prompt`` has an ``@`` mention at all (without looking at the disk)."""
    return _MENTION.search(prompt) is not None


def mentions(prompt: str, workspace: Workspace) -> list[str]:
    """The ``@`` paths in ``prompt`` that name an existing file inside or outside the workspace.

    A name that exists nowhere stays text; one that exists is returned even when it is
    outside the workspace, so ``prepare`` refuses it with a message rather than ignore it.
    """
    found: list[str] = []
    for match in _MENTION.finditer(prompt):
        raw = match.group(1) or match.group(2).rstrip(_TRAILING)
        if raw and os.path.lexists(os.path.join(workspace.root, raw)):
            found.append(raw)
    return found


def from_cwd(path: str, workspace: Workspace) -> str:
    """A command-line path (relative to the current directory) as the workspace names it.

    The result may lead outside the workspace (``../x``); ``prepare`` refuses it then.
    """
    return os.path.relpath(os.path.abspath(path), workspace.root)


def prepare(prompt: str, workspace: Workspace, extra: Iterable[str] = ()) -> Prepared:
    """Apply the ``@`` mentions in ``prompt`` and the ``extra`` paths (``--attach``).

    Raises:
        AttachmentError: a file is outside the workspace, protected, missing, too big,
            binary but not a known image, or there are too many.
    """
    paths = list(dict.fromkeys([*extra, *mentions(prompt, workspace)]))
    if len(paths) > MAX_ATTACHMENTS:
        raise AttachmentError(f"at most {MAX_ATTACHMENTS} files can be attached to one prompt")
    text = prompt
    images: list[ImagePart] = []
    names: list[str] = []
    for raw in paths:
        rel, data = _read(workspace, raw)
        names.append(rel)
        kind = image_type(data)
        if kind is not None:
            if len(data) > MAX_IMAGE_BYTES:
                raise AttachmentError(
                    f"{quoted(rel)} is {len(data):,} bytes; images over "
                    f"{MAX_IMAGE_BYTES:,} bytes are not sent"
                )
            digest = hashlib.sha256(data).hexdigest()
            images.append(ImagePart(kind, data, rel, digest))
        else:
            text += "\n\n" + _text_block(rel, data)
    return Prepared(text, tuple(images), tuple(names))


def check_provider(prepared: Prepared, provider: object) -> None:
    """Refuse images for a provider that cannot take them (the offline demo).

    Raises:
        AttachmentError: ``prepared`` has images and ``provider.accepts_images`` is false.
    """
    if prepared.images and not getattr(provider, "accepts_images", True):
        kind = getattr(provider, "kind", "this provider")
        raise AttachmentError(f"{kind} cannot take images; switch to a provider that can")


def image_type(data: bytes) -> str | None:
    """The image type ``data`` starts like, or None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _read(workspace: Workspace, raw: str) -> tuple[str, bytes]:
    """The confined path and at most one byte over the image cap of the file."""
    try:
        resolved = workspace.resolve_read(raw)
        with open_regular(resolved) as f:
            data = f.read(MAX_IMAGE_BYTES + 1)
    except ToolError as exc:
        raise AttachmentError(f"cannot attach: {exc}") from None
    except OSError as exc:
        raise AttachmentError(f"cannot attach {quoted(raw)}: {exc.strerror}") from None
    return resolved.rel, data


def _text_block(rel: str, data: bytes) -> str:
    cut = data[:MAX_TEXT_BYTES]
    try:
        text = cut.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(cut) - 3 or b"\x00" in cut:  # not just a character split by the cut
            raise AttachmentError(
                f"{quoted(rel)} is a binary file; only text and PNG, JPEG, GIF or WebP "
                "images can be attached"
            ) from None
        text = cut[: exc.start].decode("utf-8")
    if "\x00" in text:
        raise AttachmentError(f"{quoted(rel)} is a binary file; it cannot be attached")
    note = ""
    if len(data) > MAX_TEXT_BYTES:
        note = f"\n[cut: only the first {MAX_TEXT_BYTES:,} bytes of {rel} are included]"
    return f"--- begin {rel} ---\n{text}{note}\n--- end {rel} ---"
