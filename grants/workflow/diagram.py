"""Pictures of workflows: Mermaid text, Graphviz DOT, and SVG drawn by Graphviz's `dot`.

Pure Python plus the graphviz binding (no Flask): the current state and the transitions an
actor may fire now can be highlighted. The SVG is drawn one unit to a CSS pixel, its text at
least the size of body text (16 px), and is named by the workflow's label, never by an
internal id: its title and the tooltips of its boxes and arrows read the labels."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from html import escape

import graphviz

from grants.workflow.definition import Workflow

BRAND = "#1f4e8c"
MUTED = "#5a6573"
HIGHLIGHT = "#b35c00"
# Sizes in SVG units, drawn one unit to a pixel: no text smaller than body text (16 px).
TITLE_SIZE, STATE_SIZE, ACTION_SIZE = "20", "17", "16"


def _label(label, locale: str) -> str:
    return label.get(locale)


def _wrapped(text: str, width: int = 24) -> str:
    """A label for DOT, long ones on several lines (a narrower picture at full text size)."""
    return "\\n".join(graphviz.escape(line) for line in textwrap.wrap(text, width) or [""])


def vote_note(locale: str) -> str:
    """What a transition decided by votes adds to its label when none is given."""
    return "by vote" if locale.startswith("en") else "röstning"


def action_text(transition, locale: str = "sv", by_vote: str | None = None) -> str:
    """An arrow's text: the transition's label, and "(by vote)" where votes decide it."""
    text = _label(transition.label, locale)
    if transition.quorum is not None:
        text += f" ({by_vote or vote_note(locale)})"
    return text


def to_dot(workflow: Workflow, locale: str = "sv", *, current: str | None = None,
           available: Iterable[str] = (), by_vote: str | None = None) -> graphviz.Digraph:
    available = set(available)
    graph = graphviz.Digraph(name=workflow.name)
    graph.attr(rankdir="TB", bgcolor="transparent", fontname="DejaVu Sans", nodesep="0.35",
               ranksep="0.5", label=graphviz.escape(_label(workflow.title, locale)),
               labelloc="t", fontsize=TITLE_SIZE)
    graph.attr("node", shape="box", style="rounded,filled", fillcolor="#ffffff", color=MUTED,
               fontname="DejaVu Sans", fontsize=STATE_SIZE, fontcolor="#1b2430", margin="0.15,0.08")
    graph.attr("edge", color="#8a94a1", fontname="DejaVu Sans", fontsize=ACTION_SIZE,
               fontcolor=MUTED, arrowsize="0.7")
    for state in workflow.states.values():
        attrs = {}
        if state.name == workflow.initial:
            attrs["penwidth"] = "2"
        if state.terminal:
            attrs["peripheries"] = "2"
        if state.name == current:
            attrs.update(fillcolor=BRAND, fontcolor="#ffffff", color=BRAND, penwidth="2")
        graph.node(state.name, _wrapped(_label(state.label, locale)),
                   id=f"state__{state.name}",
                   **attrs)
    for transition in workflow.transitions.values():
        for source in transition.sources:
            attrs = {}
            if transition.name in available and source == current:
                attrs.update(color=HIGHLIGHT, fontcolor=HIGHLIGHT, penwidth="2.2")
            text = action_text(transition, locale, by_vote)
            if transition.quorum is not None:  # decided by the steering group's votes
                attrs.setdefault("style", "bold")
            graph.edge(source, transition.target, label=_wrapped(text),
                       id=f"transition__{transition.name}__{source}", **attrs)
    return graph


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


_SIZE = re.compile(r'^<svg width="([\d.]+)pt" height="([\d.]+)pt"')
_TITLE = re.compile(r'(<g id="(graph0|state__\w+|transition__\w+?__\w+)" '
                    r'class="(?:graph|node|edge)"[^>]*>\s*<title>)[^<]*(</title>)')


def to_svg(workflow: Workflow, locale: str = "sv", *, current: str | None = None,
           available: Iterable[str] = (), by_vote: str | None = None,
           name: str | None = None, id_prefix: str = "workflow",
           described_by: str | None = None) -> str:
    """An <svg> element ready to embed in a page (no XML prolog, doctype or comments): an
    image named by `name` (the workflow's label unless given), described by the element
    with the id `described_by` when given (a text alternative listing the same content)."""
    svg = to_dot(workflow, locale, current=current, available=available,
                 by_vote=by_vote).pipe(format="svg", encoding="utf-8")
    svg = _COMMENT.sub("", _PROLOG.sub("", svg, count=1)).strip()
    # The labels, not the internal names Graphviz puts in its titles (read as tooltips).
    titles = {"graph0": _label(workflow.title, locale)}
    titles.update({f"state__{s.name}": _label(s.label, locale) for s in workflow.states.values()})
    for t in workflow.transitions.values():
        for source in t.sources:
            target = workflow.state(t.target)
            to = _label(target.label, locale) if target else t.target
            titles[f"transition__{t.name}__{source}"] = (
                f"{action_text(t, locale, by_vote)}: "
                f"{_label(workflow.states[source].label, locale)} → {to}")
    svg = _TITLE.sub(lambda m: m.group(1) + escape(titles.get(m.group(2), ""), quote=False)
                     + m.group(3), svg)
    # One unit to a CSS pixel (Graphviz gives points): the text is as large as its font size.
    size = _SIZE.search(svg)
    width, height = (round(float(size.group(1))), round(float(size.group(2)))) if size else (0, 0)
    label_id = f"{id_prefix}-picture-name"
    described = f' aria-describedby="{escape(described_by)}"' if described_by else ""
    opening = (f'<svg class="workflow-svg" width="{width}" height="{height}" role="img" '
               f'aria-labelledby="{label_id}"{described}')
    svg = _SIZE.sub(opening, svg, count=1)
    return re.sub(r"(<svg[^>]*>)", lambda m: m.group(1) + f'<title id="{label_id}">'
                  f"{escape(name or _label(workflow.title, locale), quote=False)}</title>",
                  svg, count=1)


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def to_mermaid(workflow: Workflow, locale: str = "sv", *, current: str | None = None) -> str:
    lines = ["stateDiagram-v2", f"    %% {workflow.name} v{workflow.version}"]
    for state in workflow.states.values():
        lines.append(f"    state {_mermaid_text(_label(state.label, locale))} as {state.name}")
    lines.append(f"    [*] --> {workflow.initial}")
    for transition in workflow.transitions.values():
        for source in transition.sources:
            text = _label(transition.label, locale).replace(":", "#58;")
            lines.append(f"    {source} --> {transition.target} : {text}")
    for state in workflow.states.values():
        if state.terminal:
            lines.append(f"    {state.name} --> [*]")
    if current:
        lines.append("    classDef current fill:#1f4e8c,color:#fff")
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"
