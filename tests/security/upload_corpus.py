"""Attack uploads: each a client file name, its bytes and what must happen — refused (422),
or stored under a safe name and served so that no browser runs it."""

from __future__ import annotations

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
