"""No module of the suite imports a test module or a conftest: what tests share lives in
tests/helpers/, and a conftest only holds fixtures (it imports helpers, never the reverse).

A test module imported by another runs its module-level code twice under two names and
drags its fixtures along; a conftest imported as a module is a second copy of its
fixtures. grimp (which import-linter brings) reads every import, ``TYPE_CHECKING`` ones
included.
"""

from __future__ import annotations

import grimp


def forbidden(module: str) -> bool:
    """A module no other may import: a test module or a conftest."""
    name = module.rpartition(".")[2]
    return name.startswith("test_") or name == "conftest"


def wrong_imports(imports: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) for every import of a test module or a conftest."""
    return sorted(
        (importer, imported)
        for importer, targets in imports.items()
        for imported in targets
        if forbidden(imported)
    )


def test_no_module_of_the_suite_imports_a_test_module_or_a_conftest() -> None:
    graph = grimp.build_graph("tests", exclude_type_checking_imports=False)
    imports = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert len(imports) > 100  # the whole suite was read
    assert wrong_imports(imports) == []


def test_an_import_of_a_test_module_or_a_conftest_is_found_and_of_helpers_is_not() -> None:
    imports = {
        "tests.edge.test_s7": {"tests.edge.test_opcua", "tests.helpers.heard"},
        "tests.hub.conftest": {"tests.helpers.hub"},
        "tests.helpers.web": {"tests.hub.web.conftest", "tests.helpers.plant"},
        "tests.hub.test_pages": {"tests.helpers.pages"},
    }
    assert wrong_imports(imports) == [
        ("tests.edge.test_s7", "tests.edge.test_opcua"),
        ("tests.helpers.web", "tests.hub.web.conftest"),
    ]
