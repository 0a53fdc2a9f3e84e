"""What a file of the wrong kind is, guessed from its first bytes, in a user's words.

One guess for every reader that refuses a file (a CSV that is not UTF-8, an NPZ or a model file
that is something else), so that each names the same file the same way: "it is a PNG image"
says more than a byte offset or a decoder's complaint.
"""

from __future__ import annotations

KNOWN_STARTS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .npz, an .xlsx workbook, a PyTorch .pt or a zipped file)"),
    (b"\x93NUMPY", "a numpy .npy file"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
    (b"version https://git-lfs", "a Git LFS pointer, not the file itself (run 'git lfs pull')"),
    (b"\x89HDF", "an HDF5 file (a Keras .h5?)"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"\xff\xfe", "UTF-16 text (it starts with a byte-order mark)"),
    (b"\xfe\xff", "UTF-16 text (it starts with a byte-order mark)"),
    (b"\xef\xbb\xbf", "a text file (it starts with a byte-order mark)"),
)
"""Leading bytes of files often handed over instead of the one asked for, and what they are."""


def known_kind(start: bytes) -> str | None:
    """What a file starting with ``start`` is, when its first bytes say so; else ``None``."""
    for magic, kind in KNOWN_STARTS:
        if start.startswith(magic):
            return kind
    if start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle (chainrule never unpickles)"
    return None


def text_of(head: bytes) -> str | None:
    """``head`` decoded, when it reads as UTF-8 text (printable characters, tabs and line
    breaks; a character cut off at the end of ``head`` still counts); else ``None``."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start <= len(head) - 4:  # not a character cut at the end: not UTF-8
            return None
        text = head[: exc.start].decode("utf-8")
    if text and all(c.isprintable() or c in "\t\r\n" for c in text):
        return text
    return None


def what_it_is(head: bytes) -> str:
    """A guess at what a file starting with ``head`` (its first hundred bytes or so) holds."""
    if not head:
        return "an empty file"
    kind = known_kind(head)
    if kind is not None:
        return kind
    text = text_of(head)
    if text is None:
        return "binary data of some other format"
    first_line = text.splitlines()[0] if text.strip() else ""
    kind = {"<": "an HTML or XML page", "{": "a JSON file", "[": "a JSON file"}.get(
        text.lstrip()[:1], "a text file (a CSV?)"
    )
    return f"{kind} beginning {first_line[:60]!r}" if first_line else kind
