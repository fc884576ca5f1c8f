#!/usr/bin/env python3
"""The shape of src/: no file over 600 lines and no import circle between files.

Reads every `use crate::…`, `crate::…` path, `use super::…` and `super::…`
path in src/, resolves each to the file that defines the module it names,
and looks for cycles in that file graph. A child's use of its own parent
module (`super::X` from `a/b.rs` into `a/mod.rs`) is how Rust modules share
their parent's items and is not counted as an edge back, as the issue on the
shape of the tree asks. Exits non-zero with the offending files listed.

Usage: scripts/check-imports.py [--max-lines N] [src-dir]
"""
import os
import re
import sys

MAX_LINES = 600


def module_files(src):
    """Map a module path ('worker::copy') to its file, and back."""
    by_module = {}
    for root, _dirs, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            if rel in (["lib"], ["main"]):
                rel = []
            by_module[tuple(rel)] = path
    return by_module


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.splitlines())


PATH = re.compile(r"\b(crate|super(?:::super)*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP = re.compile(r"\b(crate|super(?:::super)*)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{")


def own_module(by_module, path):
    for module, file in by_module.items():
        if file == path:
            return module
    raise KeyError(path)


def resolve(by_module, segments):
    """The deepest module that `segments` names (the rest are items)."""
    for end in range(len(segments), -1, -1):
        key = tuple(segments[:end])
        if key in by_module:
            return key
    return ()


def brace_heads(text, start):
    """The first identifiers of each item in a `{…}` group starting at text[start]."""
    depth, i, heads, token = 0, start, [], ""
    expect = True
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
            expect = depth == 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
        elif c == "," and depth == 1:
            expect = True
        elif depth == 1 and expect and (c.isalnum() or c == "_"):
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            heads.append(text[i:j])
            expect = False
            i = j
            continue
        i += 1
    return heads


def edges(by_module, path):
    me = own_module(by_module, path)
    text = strip_comments(open(path, encoding="utf-8").read())
    found = set()

    def base(anchor):
        if anchor == "crate":
            return []
        ups = anchor.count("super")
        # `super` from a/b.rs (module a::b) is a; from a/mod.rs (module a) is ().
        return list(me[: max(len(me) - ups, 0)])

    for m in PATH.finditer(text):
        segments = base(m.group(1)) + m.group(2).strip(":").split("::")
        found.add((resolve(by_module, segments), m.group(1) != "crate"))
    for m in GROUP.finditer(text):
        prefix = base(m.group(1)) + [s for s in m.group(2).split("::") if s]
        for head in brace_heads(text, m.end() - 1):
            if head == "self":
                found.add((resolve(by_module, prefix), m.group(1) != "crate"))
            else:
                found.add((resolve(by_module, prefix + [head]), m.group(1) != "crate"))
    out = set()
    for target, _via_super in found:
        if target == me:
            continue
        # A child's use of an ancestor module is the parent's items shared
        # downward, not a circle.
        if me[: len(target)] == target:
            continue
        out.add(by_module[target])
    return out


def cycles(graph):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    args = sys.argv[1:]
    max_lines = MAX_LINES
    if args[:1] == ["--max-lines"]:
        max_lines = int(args[1])
        args = args[2:]
    src = args[0] if args else "src"
    by_module = module_files(src)
    graph = {path: edges(by_module, path) for path in by_module.values()}
    failed = False
    for comp in cycles(graph):
        failed = True
        print("import circle between files:", file=sys.stderr)
        for path in comp:
            back = sorted(p for p in graph[path] if p in comp)
            print(f"  {path} -> {', '.join(back)}", file=sys.stderr)
    for path in sorted(by_module.values()):
        n = sum(1 for _ in open(path, encoding="utf-8"))
        if n > max_lines:
            failed = True
            print(f"{path}: {n} lines (at most {max_lines})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
