"""No module of the product imports itself back through others, not even for its types.

A circle hides which of two modules is the lower one; the layers contracts in
pyproject.toml say it for rooms, this says it for every module. Imports under
``TYPE_CHECKING`` count (grimp, which import-linter brings, reads them like any other).
"""

from __future__ import annotations

import grimp

PACKAGES = ("hub", "edge", "drivers", "rules", "contract", "andon", "bench")


def circles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The modules of each circle (strongly connected set of two or more, or a module
    that imports itself), by Tarjan's algorithm."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in sorted(imports[module]):
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            circle = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(circle) > 1 or module in imports[module]:
                found.append(sorted(circle))

    for module in sorted(imports):
        if module not in order:
            visit(module)
    return found


def test_no_module_of_the_product_is_in_an_import_circle() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False)
    imports = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert circles(imports) == []


def test_every_circle_is_found_and_a_module_that_imports_itself() -> None:
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert circles(imports) == [["a", "b", "c"], ["e"]]
