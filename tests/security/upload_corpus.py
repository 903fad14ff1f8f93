"""Attack uploads: each a client file name, its bytes and what must happen — refused (422),
or stored under a safe name and served so that no browser runs it; and hostile images, whose
image style derivatives must be refused (bombs, truncated or foreign bytes) or re-encoded."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass(frozen=True)
class Attack:
    why: str
    name: str
    data: bytes
    refused: bool  # True: a 4xx (400 or 422); False: stored, and served harmlessly


ATTACKS: list[Attack] = [
    # Markup a browser would run, under any name.
    Attack("HTML page", "page.html", b"<html><script>alert(1)</script>", True),
    Attack("HTML called text", "notes.txt", b"<!doctype html><script>alert(1)</script>", True),
    Attack("HTML after a BOM and spaces", "a.txt", b"\xef\xbb\xbf \n<script>alert(1)</script>",
           True),
    Attack("SVG with a script", "logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'>"
           b"<script>alert(1)</script></svg>", True),
    Attack("SVG called PNG", "logo.png", b"<svg onload=alert(1)>", True),
    Attack("XML with a stylesheet", "feed.txt", b"<?xml version='1.0'?><?xml-stylesheet?>",
           True),
    Attack("XHTML extension", "x.xhtml", b"plain", True),
    Attack("JavaScript", "app.js", b"alert(1)", True),
    Attack("PHP", "shell.php", b"<?php system($_GET['c']); ?>", True),
    # Polyglots and lies about the type.
    Attack("GIFAR-style polyglot called PDF", "doc.pdf", GIF + b"<script>alert(1)</script>",
           True),
    Attack("PDF called text", "a.txt", b"%PDF-1.4 <script>", True),
    Attack("binary called text", "a.txt", b"\x00\x01\x02MZ", True),
    # Served as the text it is (an attachment, nosniff): nothing here runs PHP.
    Attack("double extension", "evil.php.txt", b"<?php echo 1; ?>", False),
    # Names that try to leave the files directory or hide what they are.
    Attack("traversal", "../../../../etc/passwd.txt", b"root", False),
    Attack("Windows traversal", "..\\..\\boot.txt", b"x", False),
    Attack("absolute path", "/etc/shadow.txt", b"x", False),
    Attack("NUL in the name", "a.txt\x00.html", b"x", True),  # its extension is html
    Attack("NUL before the extension", "evil\x00.txt", b"x", False),
    Attack("right-to-left override", "\u202etxt.exe", b"x", True),  # really .exe: not allowed
    Attack("header injection", "a\r\nSet-Cookie: x=1.txt", b"x", False),
    Attack("quote breakout", 'a";filename="evil.html.txt', b"x", False),
    Attack("long name", "a" * 1000 + ".txt", b"x", False),
    Attack("very long name (the multipart parser refuses it)", "a" * 5000 + ".txt", b"x", True),
    Attack("only dots", "....", b"x", True),
    Attack("a GIF carrying script text, served as an image", "cat.gif",
           GIF + b"<script>alert(1)</script>", False),
]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png(width: int, height: int, rows: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows, 9)) + _png_chunk(b"IEND", b""))


def _real_png(width: int, height: int) -> bytes:
    return _png(width, height, (b"\x00" + b"\x80" * width) * height)


@dataclass(frozen=True)
class HostileImage:
    """An upload to an image field and what its derivative request must answer: ``422``
    (refused, nothing stored) or ``200`` (re-encoded: nothing but pixels survives)."""

    why: str
    name: str
    data: bytes
    status: int


HOSTILE_IMAGES: list[HostileImage] = [
    # 40,000 x 40,000 pixels (1.6 GB decoded) in a file of a few KB.
    HostileImage("decompression bomb", "bomb.png",
                 _png(40_000, 40_000, zlib.decompress(zlib.compress(b"\x00" * 40_001))), 422),
    HostileImage("a bomb that decodes for real", "wide.png",
                 _png(20_000, 1_000, b"\x00" * (20_001 * 1_000)), 422),  # 20 MP > the limit
    HostileImage("truncated PNG", "cut.png", _real_png(64, 64)[:60], 422),
    HostileImage("the magic number and nothing else", "fake.png", PNG, 422),
    HostileImage("a GIF header carrying script", "cat.gif", GIF + b"<script>alert(1)</script>",
                 422),
    HostileImage("a JPEG start and garbage", "x.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200, 422),
    HostileImage("a PNG with HTML after its end", "poly.png",
                 _real_png(32, 32) + b"<html><script>alert(1)</script></html>", 200),
]
