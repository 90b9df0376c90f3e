"""Hotline messages in the signed log: each message is one entry, signed by its sender (no units).

The entry's ``kind`` is ``"message"`` and its payload is ``Message.to_dict()``; the entry time is
the message time. Only the sender's own key may sign its message, so a party cannot put words in
another's mouth, and a message read back from the log is checked against its id.
"""

from __future__ import annotations

from typing import Final

from deconflict.errors import InputError, PermissionDeniedError
from deconflict.hotline.keys import Signer
from deconflict.hotline.log import LogEntry, append_entry
from deconflict.hotline.messages import Message

MESSAGE_KIND: Final = "message"


def append_message(prev: LogEntry | None, signer: Signer, message: Message) -> LogEntry:
    """The log entry recording ``message``, signed by its sender."""
    if signer.party != message.sender:
        raise PermissionDeniedError(
            f"{signer.party!r} cannot sign a message sent by {message.sender!r}: each party "
            "signs only its own messages"
        )
    return append_entry(
        prev, signer, time_s=message.time_s, kind=MESSAGE_KIND, payload=message.to_dict()
    )


def message_from_entry(entry: LogEntry) -> Message:
    """The message an entry records (checked: kind, author is the sender, id matches content)."""
    if entry.kind != MESSAGE_KIND:
        raise InputError(f"log entry {entry.seq} records a {entry.kind!r}, not a message")
    message = Message.from_dict(entry.payload)
    if message.sender != entry.author:
        raise InputError(
            f"log entry {entry.seq} is signed by {entry.author!r} but the message is from "
            f"{message.sender!r}"
        )
    return message
