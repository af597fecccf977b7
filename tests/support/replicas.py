# ruff: noqa: E501 (the replica page's script is JavaScript in strings)
"""Replicas of offices' web forms, generated from their definitions, served on loopback.

`ReplicaServer` is a tiny HTTP server; `server.add(key, definition, plan)` builds a replica of
one office's form at the definition's rewritten URLs (`http://127.0.0.1:PORT/HOST/PATH`): a
page with an element for every selector the steps touch (inputs, textareas for the message,
selects with the definition's options, checkboxes and radios, buttons and links, iframes for
`within_frame`, whatever a `javascript` step reaches for — plus a jQuery-like `$` and the two
MooTools element methods some scripts call), built in the browser from a JSON spec. Elements a
definition's own script injects (`innerHTML = '<form ...'`) are not built twice: the spec is
first built in a scratch document, the injecting scripts run there, and what they provide is
left to them.

Whatever submits — the last click, a script's `.click()` or `trigger('submit')`, a native
submit of an injected form — the replica records every named field of the page (as a browser
would post them) and, per selector of the definition's field steps, the value the field held,
then answers with the office's success text and the elements the steps after the submit touch.
The engine, not the replica, is what the tests are about: a replica provides what the steps
touch and nothing more.
"""

import html
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from alerts.delivery.webforms.values import Plan
from legislators import contact_forms

# ------------------------------------------------------------------ selectors → element specs

_COMPOUND = re.compile(
    r"(?P<tag>^[a-zA-Z][\w-]*)|#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)"
    r"|\[\s*(?P<attr>[\w-]+)\s*(?:[~|^$*]?=\s*(?P<q>['\"]?)(?P<val>.*?)(?P=q))?\s*\]"
)


def parse_selector(selector: str) -> list[dict] | None:
    """A descendant chain of compounds [{tag, id, classes, attrs}], or None when the selector
    is more than this simple language (a list, a pseudo-class)."""
    if "," in selector or ":" in selector.replace("::", ""):
        return None
    parts = re.findall(r"(?:[^\s>\[]|\[[^\]]*\])+", selector)
    chain = []
    for part in parts:
        compound = {"tag": "", "id": "", "classes": [], "attrs": {}}
        position = 0
        for match in _COMPOUND.finditer(part):
            if match.start() != position:
                return None
            position = match.end()
            if match.group("tag"):
                compound["tag"] = match.group("tag").lower()
            elif match.group("id"):
                compound["id"] = match.group("id")
            elif match.group("cls"):
                compound["classes"].append(match.group("cls"))
            else:
                compound["attrs"][match.group("attr")] = match.group("val") or ""
        if position != len(part):
            return None
        chain.append(compound)
    return chain or None


_JS_TARGET = re.compile(
    r"(?P<how>querySelector|getElementById|getElementsByClassName)\(\s*(?P<q>['\"])"
    r"(?P<arg>(?:\\.|(?!(?P=q)).)*)(?P=q)\s*\)(?:\[0\])?\??(?P<member>\.\w+)?"
)


def script_targets(code: str) -> list[tuple[str, str]]:
    """(selector, member used on it) for each element a script reaches for by one selector."""
    found = []
    for match in _JS_TARGET.finditer(code):
        argument = match.group("arg").replace('\\"', '"').replace("\\'", "'")
        how = match.group("how")
        selector = (
            f"#{argument}"
            if how == "getElementById"
            else f".{argument}"
            if how == "getElementsByClassName"
            else argument
        )
        found.append((selector, (match.group("member") or "").lstrip(".")))
    return found


def _injects(code: str) -> bool:
    return "innerHTML" in code or "insertAdjacentHTML" in code


@dataclass
class Replica:
    key: str
    form_page: str
    success_page: str


@dataclass
class Submission:
    office: str
    fields: list[tuple[str, str]]
    by_selector: dict = field(default_factory=dict)


def _element(chain, role, **extra) -> dict:
    return {"chain": chain, "role": role, **extra}


def build_spec(definition: dict, plan: Plan) -> tuple[dict, dict]:
    """The form page's spec and the success page's, from the definition and the plan the
    engine will run (for the values a select must offer when the definition lists none)."""
    steps = contact_forms.steps_of(definition)
    submit_at = contact_forms.submit_index(steps)
    planned = {}
    for step in plan.fields():
        planned.setdefault((step.index, step.selector), step.value)
    form = {"elements": [], "scripts": [], "watch": [], "frames": {}}
    success = {"elements": [], "scripts": [], "watch": [], "frames": {}}
    seen = set()
    script_elements = []
    found_elements = []  # built after the fields and clicks, so a field's selector stays a field
    non_submit = []
    for index, step in enumerate(steps):
        ((kind, items),) = step.items()
        spec = success if submit_at is not None and index > submit_at else form
        if kind == "visit" or kind == "wait" or kind == "recaptcha":
            continue
        for item in items:
            frame = str(item.get("within_frame") or "")
            if kind == "javascript":
                code = item["value"]
                if _injects(code):
                    spec["scripts"].append(code)
                for selector, member in script_targets(code):
                    chain = parse_selector(selector)
                    if chain is None:
                        continue
                    if member == "click":
                        role = "submit" if index == submit_at else "button"
                    elif member == "value":
                        role = "text"
                    else:
                        role = "box"
                    script_elements.append((spec, frame, selector, _element(chain, role)))
                continue
            selector = str(item.get("selector") or "")
            chain = parse_selector(selector)
            if chain is None or ((selector, kind, frame) in seen and kind != "choose"):
                continue
            seen.add((selector, kind, frame))
            value = planned.get((index, selector), "")
            name = str(item.get("name") or "")
            target = spec["frames"].setdefault(frame, []) if frame else spec["elements"]
            if kind == "fill_in":
                role = "textarea" if item.get("value") == "$MESSAGE" else "text"
                target.append(_element(chain, role, name=name))
                spec["watch"].append({"selector": selector, "frame": frame, "kind": kind})
            elif kind == "select":
                options = contact_forms.options_of(item)
                if value and value not in {v for _, v in options} | {t for t, _ in options}:
                    options.append((value, value))
                target.append(_element(chain, "select", name=name, options=options))
                spec["watch"].append({"selector": selector, "frame": frame, "kind": kind})
            elif kind in {"check", "uncheck", "choose"}:
                box = "checkbox" if kind != "choose" else "radio"
                box = chain[-1]["attrs"].get("type", box)
                values = (
                    [value]
                    if kind != "choose"
                    else [v for _, v in contact_forms.options_of(item)] or [value]
                )
                for option in values:
                    target.append(_element(chain, box, name=name, value=option, force=True))
                watched = f"{selector}[value={json.dumps(value)}]" if value else selector
                spec["watch"].append({"selector": watched, "frame": frame, "kind": kind})
            elif kind == "click_on":
                role = "submit" if index == submit_at and item is items[-1] else "button"
                if role == "button":
                    non_submit.append(selector)
                target.append(_element(chain, role, value=str(item.get("value") or "")))
            elif kind == "find":
                text = "" if item.get("value") is None else str(item["value"])
                found_elements.append(
                    (spec, frame, selector, _element(chain, "box", text=text or "Found"))
                )
    frames = {f for spec in (form, success) for f in spec["frames"]}
    for spec, frame, selector, element in found_elements + script_elements:
        if selector in frames:
            continue  # the iframe itself is built for the steps within it
        if element["role"] == "button":
            non_submit.append(" ".join(_compound_text(c) for c in element["chain"]))
        (spec["frames"].setdefault(frame, []) if frame else spec["elements"]).append(element)
    # The office's own scripts keep a click that is not the last from submitting (a ZIP check
    # that reveals the rest of the form, a "show the form" button).
    form["non_submit"] = non_submit
    success["non_submit"] = []
    return form, success


def _compound_text(compound: dict) -> str:
    text = compound["tag"] + (f"#{compound['id']}" if compound["id"] else "")
    text += "".join(f".{c}" for c in compound["classes"])
    text += "".join(f'[{k}="{v}"]' for k, v in compound["attrs"].items())
    return text or "*"


# ------------------------------------------------------------------------- the page's script

_SHIMS = r"""
(function () {
  // What the offices' own sites load and some definitions' scripts call: a jQuery-like $ and
  // MooTools' element methods.
  if (!Element.prototype.removeClass) {
    Element.prototype.removeClass = function (c) { this.classList.remove(c); return this; };
    Element.prototype.addClass = function (c) { this.classList.add(c); return this; };
  }
  if (window.jQuery) return;
  function wrap(nodes) {
    const set = Object.create(methods);
    nodes.forEach((n, i) => { set[i] = n; });
    set.length = nodes.length; set.nodes = nodes;
    return set;
  }
  const methods = {
    each(f) { this.nodes.forEach((n, i) => f.call(n, i, n)); return this; },
    val(v) { if (v === undefined) return this.nodes[0] && this.nodes[0].value;
             this.nodes.forEach(n => { n.value = v; }); return this; },
    append(content) { this.nodes.forEach(n => n.insertAdjacentHTML('beforeend', String(content))); return this; },
    html(h) { if (h === undefined) return this.nodes[0] && this.nodes[0].innerHTML;
              this.nodes.forEach(n => { n.innerHTML = h; }); return this; },
    text(t) { if (t === undefined) return this.nodes[0] && this.nodes[0].textContent;
              this.nodes.forEach(n => { n.textContent = t; }); return this; },
    css(k, v) { this.nodes.forEach(n => { n.style[k] = v; }); return this; },
    show() { return this.css('display', 'block'); },
    hide() { return this.css('display', 'none'); },
    remove() { this.nodes.forEach(n => n.remove()); return this; },
    addClass(c) { this.nodes.forEach(n => n.classList.add(c)); return this; },
    removeClass(c) { this.nodes.forEach(n => n.classList.remove(c)); return this; },
    attr(k, v) { if (v === undefined) return this.nodes[0] && this.nodes[0].getAttribute(k);
                 this.nodes.forEach(n => n.setAttribute(k, v)); return this; },
    prop(k, v) { if (v === undefined) return this.nodes[0] && this.nodes[0][k];
                 this.nodes.forEach(n => { n[k] = v; }); return this; },
    find(s) { return wrap(this.nodes.flatMap(n => Array.from(n.querySelectorAll(s)))); },
    on() { return this; },
    ready(f) { f(); return this; },
    click() { this.nodes.forEach(n => n.click()); return this; },
    submit() { window.__replicaSubmit(); return this; },
    trigger(name) {
      if (name === 'submit') { window.__replicaSubmit(); return this; }
      this.nodes.forEach(n => n.dispatchEvent(new Event(name, {bubbles: true}))); return this;
    },
  };
  window.jQuery = window.$ = function (s) {
    if (typeof s === 'function') { s(); return wrap([]); }
    if (s && s.nodeType) return wrap([s]);
    if (s === window || s === document) return wrap([document]);
    return wrap(Array.from(document.querySelectorAll(s)));
  };
})();
"""

_BUILD = r"""
(function (spec, office, doc) {
  function compoundSelector(c) {
    let s = c.tag || '';
    if (c.id) s += '#' + CSS.escape(c.id);
    for (const k of c.classes) s += '.' + CSS.escape(k);
    for (const [k, v] of Object.entries(c.attrs)) s += '[' + k + '="' + v.replace(/"/g, '\\"') + '"]';
    return s || '*';
  }
  function tagFor(last, role) {
    if (last.tag) return last.tag;
    return {textarea: 'textarea', text: 'input', select: 'select', checkbox: 'input',
            radio: 'input', submit: 'button', button: 'button', box: 'div'}[role] || 'div';
  }
  function make(d, c, tag) {
    const el = d.createElement(tag);
    if (c.id) el.id = c.id;
    for (const k of c.classes) el.classList.add(k);
    for (const [k, v] of Object.entries(c.attrs)) el.setAttribute(k, v);
    return el;
  }
  function build(d, root, element) {
    const chain = element.chain;
    let parent = root;
    for (let i = 0; i < chain.length - 1; i++) {
      const sel = compoundSelector(chain[i]);
      let found = i === 0 ? d.querySelector(sel) : parent.querySelector(':scope ' + sel);
      if (!found) { found = make(d, chain[i], chain[i].tag || 'div'); parent.appendChild(found); }
      parent = found;
    }
    const last = chain[chain.length - 1];
    const full = chain.map(compoundSelector).join(' ');
    if (!element.force && d.querySelector(full)) return;  // already there
    const tag = tagFor(last, element.role);
    const el = make(d, last, tag);
    const role = element.role;
    if (element.name && !el.hasAttribute('name') && tag !== 'div') el.setAttribute('name', element.name);
    if (tag === 'input' && !el.hasAttribute('type')) {
      el.setAttribute('type', {checkbox: 'checkbox', radio: 'radio', submit: 'submit', button: 'button'}[role] || 'text');
    }
    if (role === 'select' && tag === 'select') {
      el.appendChild(new Option('--', ''));
      for (const [text, value] of element.options) el.appendChild(new Option(text, value));
    }
    if ((role === 'checkbox' || role === 'radio') && element.value !== undefined && element.value !== '') {
      el.value = element.value;
    }
    if (role === 'submit' || role === 'button') {
      if (tag !== 'button' && tag !== 'input') el.textContent = role === 'submit' ? 'Submit' : 'Next';
      if (tag === 'button') el.textContent = element.value || (role === 'submit' ? 'Submit' : 'Next');
      if (tag === 'input' && element.value) el.value = element.value;
      if (tag === 'input' && !element.value) el.value = role === 'submit' ? 'Submit' : 'Next';
      if (tag === 'button' && !el.hasAttribute('type')) el.setAttribute('type', role === 'submit' ? 'submit' : 'button');
      if (role === 'button') el.addEventListener('click', e => { if (el.type === 'submit') e.preventDefault(); });
      if (role === 'submit' && tag !== 'button' && tag !== 'input') {
        el.textContent = el.textContent || 'Submit';
        el.addEventListener('click', e => { e.preventDefault(); window.__replicaSubmit(); });
        if (tag === 'a') el.setAttribute('href', '#');
      }
    }
    if (role === 'box') {
      if (tag === 'img') { el.width = 20; el.height = 20; }
      else el.textContent = element.text || 'Replica';
    }
    if (tag === 'textarea' || tag === 'input' || tag === 'select') el.style.display = 'block';
    el.style.minHeight = '8px'; el.style.minWidth = '8px';
    parent.appendChild(el);
    if (role === 'checkbox' || role === 'radio') {
      const label = d.createElement('span'); label.textContent = element.value || 'choice';
      parent.appendChild(label);
    }
  }
  function buildAll(d, root, elements) {
    for (const element of elements) build(d, root, element);
  }
  // Elements the definition's own scripts inject are theirs: find out which, in a scratch copy.
  const scratch = document.implementation.createHTMLDocument('scratch');
  const scratchRoot = scratch.createElement('form'); scratch.body.appendChild(scratchRoot);
  buildAll(scratch, scratchRoot, spec.elements);
  for (const code of spec.scripts) {
    try { new Function('document', code)(scratch); } catch (e) { /* not ours to fix */ }
  }
  const theirs = spec.elements.filter(e => {
    const full = e.chain.map(compoundSelector).join(' ');
    return !e.force && scratch.querySelectorAll(full).length > 1;
  });
  const root = doc.getElementById('__replica');
  buildAll(doc, root, spec.elements.filter(e => !theirs.includes(e)));
  for (const [frameSelector, elements] of Object.entries(spec.frames)) {
    const chain = window.__parseSimple(frameSelector);
    const frame = doc.createElement('iframe');
    if (chain.id) frame.id = chain.id;
    for (const k of chain.classes) frame.classList.add(k);
    if (chain.name) frame.name = chain.name;
    frame.style.width = '600px'; frame.style.height = '400px';
    frame.srcdoc = '<!doctype html><body><form id="__replica"></form></body>';
    frame.addEventListener('load', () => {
      frame.contentWindow.__replicaSubmit = window.__replicaSubmit;
      frame.contentDocument.addEventListener('submit', e => { e.preventDefault(); window.__replicaSubmit(); }, true);
      buildAll(frame.contentDocument, frame.contentDocument.getElementById('__replica'), elements);
      window.__framesReady = (window.__framesReady || 0) + 1;
    });
    root.appendChild(frame);
  }
})
"""

_SUBMIT = r"""
(function (spec, office, submitUrl) {
  window.__parseSimple = function (s) {
    return {id: (s.match(/#([\w-]+)/) || [])[1], classes: (s.match(/\.[\w-]+/g) || []).map(c => c.slice(1)),
            name: (s.match(/\[name=['"]?([^'"\]]+)/) || [])[1]};
  };
  function docs() {
    const all = [[document, '']];
    for (const f of document.querySelectorAll('iframe')) {
      try { if (f.contentDocument) all.push([f.contentDocument, f]); } catch (e) { }
    }
    return all;
  }
  function lookup(selector, frame) {
    let d = document;
    if (frame) { const f = document.querySelector(frame); d = f && f.contentDocument; }
    return d ? d.querySelector(selector) : null;
  }
  const originalSubmit = HTMLFormElement.prototype.submit;
  window.__replicaSubmit = function () {
    if (window.__replicaSent) return;
    window.__replicaSent = true;
    const pairs = [];
    for (const [d] of docs()) {
      for (const el of d.querySelectorAll('input[name], select[name], textarea[name]')) {
        if (el.closest('#__replica_post') || el.disabled) continue;
        const type = (el.type || '').toLowerCase();
        if (['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
        if ((type === 'checkbox' || type === 'radio') && !el.checked) continue;
        if (el.tagName === 'SELECT') { for (const o of el.selectedOptions) pairs.push([el.name, o.value]); continue; }
        pairs.push([el.name, el.value]);
      }
    }
    const bySelector = {};
    for (const w of spec.watch) {
      const el = lookup(w.selector, w.frame);
      if (!el) { bySelector[w.selector] = null; continue; }
      bySelector[w.selector] = ['check', 'uncheck', 'choose'].includes(w.kind) ? el.checked : el.value;
    }
    const post = document.createElement('form');
    post.id = '__replica_post'; post.method = 'post'; post.action = submitUrl; post.style.display = 'none';
    for (const [name, value] of [['__replica__', office], ['__fields__', JSON.stringify(pairs)],
                                 ['__by_selector__', JSON.stringify(bySelector)]]) {
      const t = document.createElement('textarea'); t.name = name; t.value = value; post.appendChild(t);
    }
    document.body.appendChild(post);
    originalSubmit.call(post);
  };
  HTMLFormElement.prototype.submit = function () {
    if (this.id === '__replica_post') return originalSubmit.call(this);
    window.__replicaSubmit();
  };
  document.addEventListener('submit', e => {
    if (e.target.id === '__replica_post') return;
    e.preventDefault();
    const by = e.submitter;
    if (by && (spec.non_submit || []).some(s => { try { return by.matches(s); } catch (x) { return false; } })) return;
    window.__replicaSubmit();
  }, true);
})
"""


def _page(title: str, spec: dict, office: str, submit_url: str, body: str = "") -> str:
    data = json.dumps(spec).replace("</", "<\\/")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        f"<script>{_SHIMS}</script>"
        "<style>body{font:14px sans-serif} input,select,textarea{margin:2px}</style>"
        "</head><body>"
        f"{body}<form id='__replica' method='post' action='{submit_url}'></form>"
        "<script>"
        f"const __spec = {data};"
        f"({_SUBMIT})(__spec, {json.dumps(office)}, {json.dumps(submit_url)});"
        f"({_BUILD})(__spec, {json.dumps(office)}, document);"
        "</script></body></html>"
    )


def build_replica(key: str, definition: dict, plan: Plan) -> Replica:
    form_spec, success_spec = build_spec(definition, plan)
    success = (definition["contact_form"].get("success") or {}).get("body") or {}
    text = str(success.get("contains") or "Thank you for your message.")
    return Replica(
        key=key,
        form_page=_page(f"Replica of {key}", form_spec, key, "/__submit__"),
        success_page=_page(
            f"Replica of {key}: sent",
            success_spec,
            key,
            "/__submit__",
            body=f"<p id='__replica_success'>{html.escape(text)}</p>",
        ),
    )


# ------------------------------------------------------------------------------- the server


def _place(url: str) -> str:
    """'host/path' of an office's URL, the key a replica is served under."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}".rstrip("/")


class ReplicaServer:
    """Replicas on a free loopback port; `origin` is what CONTACT_FORMS_ORIGIN gets."""

    def __init__(self):
        self.replicas: dict[str, Replica] = {}  # 'host/path' → replica
        self.by_key: dict[str, Replica] = {}
        self.submissions: list[Submission] = []
        self.visits: list[str] = []
        self.on_visit = None  # callable(office key), called before a form page is answered
        self._lock = threading.Lock()
        self._server = None

    def add(self, key: str, definition: dict, plan: Plan) -> Replica:
        replica = build_replica(key, definition, plan)
        for step in contact_forms.steps_of(definition):
            if "visit" in step:
                self.replicas[_place(step["visit"])] = replica
        self.by_key[key] = replica
        return replica

    def reset(self):
        """Forget what was submitted and visited (replicas stay)."""
        with self._lock:
            self.submissions.clear()
            self.visits.clear()
        self.on_visit = None

    def submitted(self, key: str) -> list[Submission]:
        with self._lock:
            return [s for s in self.submissions if s.office == key]

    def start(self):
        replicas = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body, content_type="text/html; charset=utf-8"):
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the browser went away (a test killed it)

            def do_GET(self):
                path = urlsplit(self.path).path
                if path.endswith(".js"):
                    return self._answer(200, _SHIMS, "text/javascript")
                replica = replicas.replicas.get(path.strip("/"))
                if replica is None:
                    return self._answer(404, "<!doctype html><title>Not here</title>")
                with replicas._lock:
                    replicas.visits.append(replica.key)
                if replicas.on_visit is not None:
                    replicas.on_visit(replica.key)
                return self._answer(200, replica.form_page)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                key = form.get("__replica__", "")
                replica = replicas.by_key.get(key)
                if replica is None:
                    return self._answer(404, "<!doctype html><title>Unknown form</title>")
                submission = Submission(
                    office=key,
                    fields=[tuple(p) for p in json.loads(form.get("__fields__") or "[]")],
                    by_selector=json.loads(form.get("__by_selector__") or "{}"),
                )
                with replicas._lock:
                    replicas.submissions.append(submission)
                return self._answer(200, replica.success_page)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
