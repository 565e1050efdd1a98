"""The escaping functions every data string goes through on its way into an exported page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.maps.escape import html_attr, html_text, js_template_literal, json_for_script

ATTACKS = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script>", "</SCRIPT >", "<!--",
           "`+alert(1)+`", "\\${alert(1)}", "a\u2028b\u2029c", "'\"&amp;"]


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attrs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


def _parse(markup: str) -> _Text:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return parser


@pytest.mark.parametrize("attack", ATTACKS)
def test_html_text_is_literal_text(attack):
    page = _parse(f"<p>{html_text(attack)}</p>")
    assert page.tags == ["p"]
    assert "".join(page.text) == attack


@pytest.mark.parametrize("attack", ATTACKS)
def test_html_attr_stays_inside_the_attribute(attack):
    page = _parse(f'<span title="{html_attr(attack)}" class=\'{html_attr(attack)}\'></span>')
    assert page.tags == ["span"]
    assert page.attrs == [{"title": attack, "class": attack}]


def test_html_text_of_none_and_numbers():
    assert html_text(None) == ""
    assert html_text(1.5) == "1.5"


def _eval_template_literal(body: str) -> str:
    """What a JavaScript engine makes of ```body```: the escapes this module writes, decoded;
    an unescaped backtick or ``${`` would end the literal or run code, so they fail here."""
    out, i = [], 0
    simple = {"\\": "\\", "`": "`", "$": "$", "r": "\r", "0": "\0", "n": "\n"}
    while i < len(body):
        ch = body[i]
        if ch == "`":
            raise AssertionError(f"unescaped backtick at {i} in {body!r}")
        if ch == "$" and body[i + 1 : i + 2] == "{":
            raise AssertionError(f"unescaped ${{ at {i} in {body!r}")
        if ch == "\\":
            nxt = body[i + 1]
            if nxt == "x":
                out.append(chr(int(body[i + 2 : i + 4], 16)))
                i += 4
                continue
            if nxt == "u":
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(simple[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@pytest.mark.parametrize("attack", ATTACKS)
def test_js_template_literal_round_trips_and_cannot_close_a_script(attack):
    body = js_template_literal(attack)
    assert _eval_template_literal(body) == attack
    assert "<" not in body and ">" not in body
    assert "\u2028" not in body and "\u2029" not in body


@given(st.text())
def test_js_template_literal_property(text):
    body = js_template_literal(text)
    assert _eval_template_literal(body) == text
    assert not re.search(r"</script|<!--", body, re.I)


@pytest.mark.parametrize("attack", ATTACKS)
def test_json_for_script_is_the_same_json(attack):
    text = json_for_script({"name": attack, "list": [attack, 1, None]})
    assert json.loads(text) == {"name": attack, "list": [attack, 1, None]}
    assert not re.search(r"[<>&'\u2028\u2029]", text)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.text(max_size=5), kids, max_size=4), max_leaves=12))
def test_json_for_script_property(obj):
    text = json_for_script(obj)
    assert json.loads(text) == obj
    assert "</" not in text and "<!--" not in text


def test_json_for_script_writes_null_for_non_finite_numbers():
    assert json.loads(json_for_script([float("nan"), float("inf"), 1.5])) == [None, None, 1.5]
