"""Pictures of workflows: Mermaid text, Graphviz DOT, and SVG drawn by Graphviz's `dot`.

Pure Python plus the graphviz binding (no Flask): the current state and the transitions an
actor may fire now can be highlighted."""

from __future__ import annotations

import re
from collections.abc import Iterable

import graphviz

from grants.workflow.definition import Workflow

BRAND = "#1f4e8c"
MUTED = "#5a6573"
HIGHLIGHT = "#b35c00"


def _label(label, locale: str) -> str:
    return label.get(locale)


def to_dot(workflow: Workflow, locale: str = "sv", *, current: str | None = None,
           available: Iterable[str] = ()) -> graphviz.Digraph:
    available = set(available)
    graph = graphviz.Digraph(name=workflow.name)
    graph.attr(rankdir="TB", bgcolor="transparent", fontname="DejaVu Sans", nodesep="0.35",
               ranksep="0.5", label=graphviz.escape(_label(workflow.title, locale)),
               labelloc="t", fontsize="14")
    graph.attr("node", shape="box", style="rounded,filled", fillcolor="#ffffff", color=MUTED,
               fontname="DejaVu Sans", fontsize="13", fontcolor="#1b2430", margin="0.15,0.08")
    graph.attr("edge", color="#8a94a1", fontname="DejaVu Sans", fontsize="11",
               fontcolor=MUTED, arrowsize="0.7")
    for state in workflow.states.values():
        attrs = {}
        if state.name == workflow.initial:
            attrs["penwidth"] = "2"
        if state.terminal:
            attrs["peripheries"] = "2"
        if state.name == current:
            attrs.update(fillcolor=BRAND, fontcolor="#ffffff", color=BRAND, penwidth="2")
        graph.node(state.name, graphviz.escape(_label(state.label, locale)),
                   id=f"state__{state.name}",
                   **attrs)
    for transition in workflow.transitions.values():
        for source in transition.sources:
            attrs = {}
            if transition.name in available and source == current:
                attrs.update(color=HIGHLIGHT, fontcolor=HIGHLIGHT, penwidth="2.2")
            text = _label(transition.label, locale)
            if transition.quorum is not None:  # decided by the steering group's votes
                text += " (röstning)" if not locale.startswith("en") else " (by vote)"
                attrs.setdefault("style", "bold")
            graph.edge(source, transition.target, label=graphviz.escape(text),
                       id=f"transition__{transition.name}__{source}", **attrs)
    return graph


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def to_svg(workflow: Workflow, locale: str = "sv", *, current: str | None = None,
           available: Iterable[str] = ()) -> str:
    """An <svg> element ready to embed in a page (no XML prolog, doctype or comments)."""
    svg = to_dot(workflow, locale, current=current, available=available).pipe(
        format="svg", encoding="utf-8")
    svg = _COMMENT.sub("", _PROLOG.sub("", svg, count=1)).strip()
    # Scale with the page: keep the viewBox, let CSS set the size.
    return re.sub(r'^<svg width="[^"]*" height="[^"]*"', '<svg class="workflow-svg"', svg, count=1)


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
