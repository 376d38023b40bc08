"""ui/plain.py: anything a user or a server wrote shows as literal text, never as markup."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.plain import md_escape

markdown_it = pytest.importorskip("markdown_it")
MD = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
#: HTML that markup would produce; escaped text renders none of it.
MARKUP = re.compile(r"<(a|img|em|strong|code|h[1-6]|ul|ol|li|blockquote|s|del|table|pre|hr|script|html)\b")
DIRECTIVE = re.compile(r"(?<!\\):[A-Za-z]+[\[/:]")   # :red[ :material/x: :smile:
AUTOLINK = re.compile(r"(?<!\\)(https?:|www\.)|(?<!\\)@[\w-]+\.\w")

PLANTED = ["![x](http://127.0.0.1:9/p.png)", ":red[PAY NOW]", "[link](http://127.0.0.1:9/pay)",
           "<img src=http://127.0.0.1:9/i.png>", "<script>alert(1)</script>", "**bold** _em_ `code`",
           "# heading", "> quote", "- item", "1. first", "| a | b |\n|---|---|\n| 1 | 2 |", "~~gone~~",
           ":material/warning: :smile:", "$x^2$", "www.example.com pay@evil.example", "<https://x.example>",
           "line one\n===", "a\\*b"]


def rendered(text: str) -> str:
    return MD.render(md_escape(text))


@pytest.mark.parametrize("text", PLANTED)
def test_planted_markup_renders_as_text(text):
    html = rendered(text)
    assert not MARKUP.search(html), html
    escaped = md_escape(text)
    assert not DIRECTIVE.search(escaped) and not AUTOLINK.search(escaped), escaped


def test_ordinary_messages_stay_readable():
    message = "Fix: set [limits] budget_usd to 2.0 (azure/gpt-image-1.5@2026-12-01)."
    assert md_escape(message) == r"Fix: set \[limits\] budget_usd to 2.0 (azure/gpt-image-1.5@2026-12-01)."
    assert md_escape("x" * 5000, limit=100).endswith("…") and len(md_escape("x" * 5000, limit=100)) == 100


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs", "Cc"]), max_size=80))
def test_no_text_becomes_markup(text):
    html = rendered(text)
    assert not MARKUP.search(html), (text, html)
    assert not DIRECTIVE.search(md_escape(text)), text
