"""Draw a scalar computational graph, step by step, from a trace (no graphviz).

Layout, computed here: an inner node's column is the length of the longest path from
a leaf to it, so every edge points right and the output is furthest right. A leaf (an
input, weight or constant) sits one column left of the first node that uses it, so a
bias added late does not stretch an edge across the whole picture. Within a column
nodes are ordered by the average height of their parents, which keeps most edges
short and uncrossed.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from ..trace import Trace, fmt, trace_value
from . import style

BOX_W, BOX_H = 0.6, 0.72          # node box size in data units (columns are 1 apart)
LABEL_SIZE = 10                   # node text in points: readable when a wide graph is scaled to fit
EDGE_SIZE = 8.5                   # the local-derivative label on each edge


def layered_layout(graph: dict) -> dict[int, tuple[float, float]]:
    """{node id: (x, y)}: x = longest path from a leaf (leaves: just left of their first
    user), y = position in its column."""
    parents: dict[int, list[int]] = {n["id"]: [] for n in graph["nodes"]}
    children: dict[int, list[int]] = {n["id"]: [] for n in graph["nodes"]}
    for p, c, _ in graph["edges"]:
        parents[c].append(p)
        children[p].append(c)
    depth: dict[int, int] = {}
    for node in graph["nodes"]:                            # topological order: parents first
        i = node["id"]
        depth[i] = 1 + max(depth[p] for p in parents[i]) if parents[i] else 0
    for i in depth:
        if not parents[i] and children[i]:
            depth[i] = min(depth[c] for c in children[i]) - 1
    columns: dict[int, list[int]] = {}
    for i, d in depth.items():
        columns.setdefault(d, []).append(i)
    y: dict[int, float] = {}

    def place(ids: list[int], key) -> None:
        ids.sort(key=key)
        for k, i in enumerate(ids):
            y[i] = (len(ids) - 1) / 2 - k                  # centred, first on top

    def height(i: int) -> float:                           # parents' mean height; leaves first
        return -np.mean([y[p] for p in parents[i]]) if parents[i] else -np.inf

    for d in sorted(columns):
        place(columns[d], key=lambda i: (height(i), i) if all(p in y for p in parents[i]) else (0.0, i))
    return {i: (float(depth[i]), y[i]) for i in depth}


class GraphView:
    """A figure of the graph in ``trace`` (kind "graph") that ``update(step)`` redraws cheaply.

    Boxes show name, op, value and gradient as known after event ``step``; the current
    node is orange and the edge whose chain-rule product is being added is vermillion.

    comparison: rows from ``widgets.graph.compare_graph``: those boxes also show the
    learner's gradient ("yours") once the reference is final, and the first one that
    differs gets a thick vermillion dashed frame.
    """

    def __init__(self, trace: Trace, fig: Figure | None = None, comparison: list | None = None):
        if trace.kind != "graph":
            raise ValueError(f"GraphView draws a scalar graph trace (trace_value), got a {trace.kind!r} trace.")
        self.trace = trace
        self.comparison = {row["node"]: row for row in comparison or []}
        self.first_difference = next((r for r in comparison or [] if not r["match"]), None)
        self.nodes = {n["id"]: n for n in trace.graph["nodes"]}
        self.pos = layered_layout(trace.graph)
        ncols = int(max(x for x, _ in self.pos.values())) + 1
        nrows = max(sum(1 for x, _ in self.pos.values() if x == c) for c in range(ncols))
        lines = 4 if self.comparison else 3
        size = (min(1.5 + 2.1 * ncols, 16), min(1.6 + (0.42 * lines) * nrows, 11))
        self.figure = style.view_figure(fig, size)
        ax = self.ax = self.figure.add_subplot(111)
        ax.set_xlim(-0.6, ncols - 0.4)
        ys = [y for _, y in self.pos.values()]
        ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel("column = longest path from the leaves (inputs and weights on the left, output on the right)")
        ax.set_ylabel("nodes")
        self.edges = trace.graph["edges"]
        for p, c, g in self.edges:
            (x0, y0), (x1, y1) = self._segment(p, c)
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=1,
                        arrowprops=dict(arrowstyle="-|>", color=style.EDGE, shrinkA=0, shrinkB=0))
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"×{fmt(g)}", fontsize=EDGE_SIZE, color="#444444", ha="center",
                    va="center", zorder=2, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"))
        self.current_edge = ax.plot([], [], color=style.HIGHLIGHT, linewidth=3.0, zorder=3)[0]
        self.boxes, self.labels = {}, {}
        for i, (x, y) in self.pos.items():
            box = FancyBboxPatch((x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H, boxstyle="round,pad=0.02",
                                 facecolor=style.PENDING, edgecolor="#333333", linewidth=1.0, zorder=4)
            ax.add_patch(box)
            self.boxes[i] = box
            self.labels[i] = ax.text(x, y, "", ha="center", va="center", fontsize=LABEL_SIZE, zorder=5)
        self.title = ax.set_title("")
        self.dynamic = [self.current_edge, *self.boxes.values(), *self.labels.values(), self.title]

    def _yours(self, i: int, step: int) -> str:
        """"\nyours 0.31 ✗" for a compared node whose reference gradient is final, else ""."""
        row = self.comparison.get(i)
        if row is None:
            return ""
        if step < row["step"]:
            return "\nyours ?"
        return f"\nyours {fmt(row['yours'])} " + ("✓" if row["match"] else "✗")

    def _frame(self, i: int, step: int, current: bool) -> None:
        """Box outline: thick for the current node, vermillion dashed for the first difference."""
        first = self.first_difference
        marked = first is not None and first["node"] == i and step >= first["step"]
        box = self.boxes[i]
        box.set_edgecolor(style.HIGHLIGHT if marked else "#333333")
        box.set_linestyle("--" if marked else "-")
        box.set_linewidth(3.5 if marked else 2.5 if current else 1.0)

    def _segment(self, p: int, c: int):
        (x0, y0), (x1, y1) = self.pos[p], self.pos[c]
        return [(x0 + BOX_W / 2, y0), (x1 - BOX_W / 2, y1)]

    def update(self, step: int) -> Figure:
        """Show the graph as it is after event ``step``; returns the figure."""
        state = self.trace.graph_state(step)
        event = self.trace[step]
        for i, node in self.nodes.items():
            known = i in state["computed"]
            head = node["name"] + (f"  [{node['op']}]" if node["op"] else "")
            value = fmt(node["data"]) if known else "?"
            grad = fmt(state["grads"][i]) if i in state["grads"] else "?"
            self.labels[i].set_text(f"{head}\ndata {value}\ngrad {grad}" + self._yours(i, step))
            colour = style.GRADDONE if i in state["grads"] else style.COMPUTED if known else style.PENDING
            self.boxes[i].set_facecolor(style.CURRENT if i == state["node"] else colour)
            self._frame(i, step, current=i == state["node"])
        if state["edge"] is not None:
            (x0, y0), (x1, y1) = self._segment(*state["edge"])
            self.current_edge.set_data([x0, x1], [y0, y1])
        else:
            self.current_edge.set_data([], [])
        self.title.set_text(f"Computational graph, step {step} of {len(self.trace) - 1}: "
                            f"{event.phase} ({event.name})")
        return self.figure


def plot_graph(source, step: int | None = None) -> Figure:
    """Draw a scalar graph after event ``step`` (default: the end of the backward pass).

    source: a Trace from ``trace_value`` or an output Value (traced here, which runs
    its backward pass). Returns the matplotlib Figure.
    """
    trace = source if isinstance(source, Trace) else trace_value(source)
    view = GraphView(trace)
    return view.update(len(trace) - 1 if step is None else step)
