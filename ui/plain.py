"""Plain text for anything a user or a server wrote: prompts, run names, error messages.

Streamlit renders markdown in ``st.markdown``, ``st.error``/``warning``/``info``/``success``,
``st.caption``, ``st.subheader`` and widget labels: a planted ``![x](http://…)`` makes the browser
fetch a remote image, ``[link](…)`` becomes a link and ``:red[PAY NOW]`` turns red. ``md_escape``
backslash-escapes every character markdown (and Streamlit's directives, HTML, LaTeX and autolinks)
gives a meaning to, so the text shows literally; use it for every such string we did not write.
"""

from __future__ import annotations

import re

# Characters that start markup anywhere: emphasis, code, links/images, HTML, LaTeX, strike, tables.
_ALWAYS = re.compile(r"([\\`*\[\]<>!$~|{}])")
# An e-mail autolink ("pay@evil.example"); "model@2026-12-01" stays as it is.
_EMAIL_AT = re.compile(r"@(?=[A-Za-z0-9_\-]+\.[A-Za-z0-9])")
# ":red[", ":material/x:", ":smile:" and "http://": a colon right before a letter or a slash.
_COLON = re.compile(r":(?=[A-Za-z/])")
# "_x_" emphasises, "snake_case" does not: escape an underscore unless it sits inside a word.
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_WWW = re.compile(r"(?i)\bwww\.")
# Block markup at the start of a line: headings, quotes, lists, rules, setext underlines.
_LINE_START = re.compile(r"^(\s*)([#>+\-=_])")
_ORDERED = re.compile(r"^(\s*\d+)([.)])")


def md_escape(text: object, limit: int | None = 2000) -> str:
    """``text`` as literal text inside markdown (never a link, an image, a colour, HTML or a heading).

    Escapes only what could turn into markup, so ordinary sentences stay as they are ("Fix: set
    budget_usd"). Newlines stay as line breaks; text longer than ``limit`` characters is cut.
    """
    value = "" if text is None else str(text)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    out = []
    for line in value.splitlines() or [""]:
        line = line.lstrip(" \t")  # 4 leading spaces would make a code block
        line = _ALWAYS.sub(r"\\\1", line)
        line = _COLON.sub(r"\\:", line)
        line = _EMAIL_AT.sub(r"\\@", line)
        line = _UNDERSCORE.sub(r"\\_", line)
        line = _WWW.sub(lambda m: m.group(0)[:-1] + "\\.", line)
        line = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)
        line = _ORDERED.sub(r"\1\\\2", line)
        out.append(line)
    return "  \n".join(out)
