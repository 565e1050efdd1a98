"""Accessibility fixes for the Panel/Bokeh widgets that the widgets do not expose as options.

Bokeh renders each widget inside its own shadow root, and some of them miss what WCAG 2.2 AA
needs: slider handles and checkboxes have no accessible name, the tab headers are plain
``div``s after the content they control, the focus ring is faint, Tabulator's rows cannot be
reached with the keyboard. :func:`install` registers one small script on the session's
document (Bokeh's ``document_ready`` event) that fixes these in place and keeps fixing them as
views are re-rendered (a ``MutationObserver`` per shadow root). It only adds attributes,
styles and key handlers: it never reads or writes data, and it adds no network request.

Widget-level CSS that Panel can apply directly (``stylesheets=``) lives here too.
"""

from __future__ import annotations

from bokeh.models import CustomJS

#: Focus indicator, applied in every shadow root: a 3 px dark orange ring with a white halo,
#: at least 3:1 against white and against the map colours (WCAG 2.4.7, 2.4.11, 1.4.11).
FOCUS_CSS = """
:focus-visible { outline: 3px solid #b35900 !important; outline-offset: 2px !important; }
.bk-tab:focus-visible, .tabulator-row:focus-visible { outline-offset: -3px !important; }
.tabulator .tabulator-footer .tabulator-page, .tabulator .tabulator-footer .tabulator-page-size {
  min-width: 28px; min-height: 28px; }
.tabulator .tabulator-col .tabulator-header-filter input { min-height: 24px; }
.markdown code, code { color: #1a1a1a !important; background: #eeeeee; }
.markdown a, a { color: #0b4f9c; }
"""

#: The level buttons: white text on the active (filled) button (contrast 7.0:1).
BUTTON_GROUP_CSS = """
.bk-btn-group .bk-btn.bk-active, .bk-btn.bk-btn-primary.bk-active { color: #ffffff !important;
  background-color: #0b4f9c !important; border-color: #0b4f9c !important; }
.bk-btn.bk-btn-primary { color: #0b4f9c; border-color: #0b4f9c; min-height: 28px; }
"""

SHIM_JS = r"""
if (!window.__mappingA11y) {
  window.__mappingA11y = true;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(focusCss);
  const observed = new WeakSet();
  const text = (el) => (el ? el.textContent : "").replace(/\s+/g, " ").trim();
  // text of an element including the shadow roots inside it (a card's title is a pane)
  const deepText = (el) => {
    let out = "";
    (function visit(n) {
      if (n.nodeType === 3) { out += n.textContent; return; }
      if (n.nodeName === "STYLE" || n.nodeName === "SCRIPT") return;
      if (n.shadowRoot) visit(n.shadowRoot);
      n.childNodes.forEach(visit);
    })(el);
    return out.replace(/\s+/g, " ").trim();
  };
  // the "Controls" button of a narrow screen: says whether the controls are shown, and
  // shows or hides them at once (the server keeps the same state in the body's classes)
  function syncControls(root) {
    const host = root.querySelector(".controls-toggle");
    const btn = host && host.shadowRoot && host.shadowRoot.querySelector("button");
    if (!btn) return;
    const open = btn.classList.contains("bk-active");
    btn.setAttribute("aria-expanded", open ? "true" : "false");
    const body = root.querySelector(".controls-body");
    if (body) body.classList.toggle("open", open);
    if (!btn.__a11y) {
      btn.__a11y = true;
      btn.addEventListener("click", () => setTimeout(() => syncControls(root), 0));
    }
  }
  function roots(root, out) {
    out.push(root);
    root.querySelectorAll("*").forEach((e) => { if (e.shadowRoot) roots(e.shadowRoot, out); });
    return out;
  }
  function activate(ev) {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      const target = ev.currentTarget.classList.contains("tabulator-row")
        ? ev.currentTarget.querySelector('.tabulator-cell:not([tabulator-field="_index"])')
        : ev.currentTarget;
      if (target) target.click();
    }
  }
  function fix(root) {
    if (root !== document && !root.adoptedStyleSheets.includes(sheet)) {
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    }
    // slider handles: named after the slider's title (without its value)
    root.querySelectorAll(".noUi-handle[role=slider]:not([aria-label])").forEach((h) => {
      const title = root.querySelector(".bk-slider-title");
      if (title && title.firstChild) {
        h.setAttribute("aria-label", title.firstChild.textContent.replace(/:\s*$/, "").trim());
      }
    });
    // checkboxes: named after the label beside them
    root.querySelectorAll("input[type=checkbox]:not([aria-label])").forEach((box) => {
      const label = box.parentNode && box.parentNode.querySelector(".bk-label");
      if (label) box.setAttribute("aria-label", text(label));
    });
    // card headers are buttons whose title sits in a pane's shadow root: name them, and say
    // whether the card is open
    root.querySelectorAll("button.card-header").forEach((b) => {
      const title = deepText(b);
      if (title && b.getAttribute("aria-label") !== title) b.setAttribute("aria-label", title);
      const open = b.querySelector(".icon-tabler-chevron-down") ? "true" : "false";
      if (b.getAttribute("aria-expanded") !== open) b.setAttribute("aria-expanded", open);
    });
    syncControls(root);
    // the search's matches: one group of radio buttons, named
    if (root.host && root.host.classList && root.host.classList.contains("search-results")) {
      root.querySelectorAll(".bk-input-group:not([role])").forEach((g) => {
        g.setAttribute("role", "radiogroup");
        g.setAttribute("aria-label", "Matches");
      });
    }
    // tabs: ARIA roles and state, keyboard activation, and the tab list before the panels
    root.querySelectorAll(".bk-header").forEach((header) => {
      const tabs = header.querySelectorAll(".bk-tab");
      if (!tabs.length) return;
      header.setAttribute("role", "tablist");
      tabs.forEach((tab) => {
        tab.setAttribute("role", "tab");
        tab.setAttribute("aria-selected", tab.classList.contains("bk-active") ? "true" : "false");
        if (!tab.__a11y) { tab.__a11y = true; tab.addEventListener("keydown", activate); }
      });
      const first = Array.from(root.children).find((c) => c.tagName !== "STYLE" &&
                                                         c.tagName !== "LINK");
      if (header.parentNode === root && first && first !== header) root.insertBefore(header, first);
    });
    // Tabulator: rows reachable and selectable with the keyboard; the scroll area is not a
    // grid child (axe aria-required-children)
    root.querySelectorAll(".tabulator-row").forEach((row) => {
      if (!row.__a11y) {
        row.__a11y = true;
        row.tabIndex = 0;
        row.addEventListener("keydown", activate);
      }
    });
    root.querySelectorAll(".tabulator-header-filter input:not([aria-label])").forEach((el) => {
      const col = el.closest(".tabulator-col");
      const title = col && col.querySelector(".tabulator-col-title");
      el.setAttribute("aria-label", "Filter by " + text(title));
    });
    // the pagination buttons sit inside the grid: give them a row and a cell to sit in
    root.querySelectorAll(".tabulator[role=grid] > .tabulator-footer").forEach((footer) => {
      footer.setAttribute("role", "rowgroup");
      const row = footer.querySelector(".tabulator-footer-contents");
      if (row) row.setAttribute("role", "row");
      const cell = footer.querySelector(".tabulator-paginator");
      if (cell) cell.setAttribute("role", "gridcell");
    });
    root.querySelectorAll(".tabulator-tableholder[tabindex]").forEach((el) => {
      el.removeAttribute("tabindex");
    });
    if (!observed.has(root)) {
      observed.add(root);
      new MutationObserver(schedule).observe(root, {childList: true, subtree: true});
    }
  }
  let pending = null;
  function schedule() {
    if (pending === null) {
      pending = setTimeout(() => { pending = null; roots(document, []).forEach(fix); }, 50);
    }
  }
  window.__mappingA11yScan = () => roots(document, []).forEach(fix);
  schedule();
}
"""


def install(doc) -> None:
    """Run the accessibility script in the browser once ``doc`` (a session's Bokeh document) is
    ready."""
    doc.js_on_event("document_ready", CustomJS(args={"focusCss": FOCUS_CSS}, code=SHIM_JS))

#: The search's matches (a radio list): long names wrap within the sidebar, and each choice
#: is a target of at least 24 px (WCAG 2.5.8).
RESULTS_CSS = """
.bk-input-group { gap: 2px; }
.bk-input-group label { white-space: normal; overflow-wrap: anywhere; align-items: flex-start;
  line-height: 1.3; min-height: 24px; padding: 2px 0; }
.bk-input-group input[type=radio] { flex: none; margin-top: 3px; }
"""
