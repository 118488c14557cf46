"""The README's glossary is the glossary the API describes its figures with, and every field of
every figure model (api.figure_models) has a meaning there (DESIGN.md §4 "One meaning per
figure")."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from api import figure_models, pagination, responses, responses_audit
from api.glossary import GLOSSARY, SECTIONS
from api.pagination import Page

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `([a-z_0-9]+)` \| (.+) \|$")


def readme_glossary() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Glossary", 1)[1].split("\n## ", 1)[0]
    rows = [ROW.match(line) for line in section.splitlines()]
    return {m.group(1): m.group(2) for m in rows if m}


def test_the_readme_defines_every_figure_once_as_the_api_does() -> None:
    defined = [name for names in SECTIONS.values() for name in names]

    assert len(defined) == len(set(defined))  # once each
    assert readme_glossary() == GLOSSARY


def response_models() -> list[type[BaseModel]]:
    """Every model the response modules define (not the ones they import)."""
    modules = [figure_models, responses, responses_audit, pagination]
    return [
        m
        for module in modules
        for m in vars(module).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == module.__name__
    ]


def test_every_response_model_field_is_in_the_glossary_with_its_meaning() -> None:
    models = response_models()
    fields = {info.alias or name for m in models for name, info in m.model_fields.items()}

    assert {m.__name__ for m in models} >= {"BudgetBalanceOut", "ExceptionItem", "AuditRow", "Page"}
    assert fields <= set(GLOSSARY)
    for model in models:
        for name, info in model.model_fields.items():
            assert info.description == GLOSSARY[info.alias or name], (model, name)


def test_a_page_of_any_list_describes_its_envelope_from_the_glossary() -> None:
    page = Page[int]

    assert {n: i.description for n, i in page.model_fields.items()} == {
        name: GLOSSARY[name] for name in ("items", "next_cursor", "has_more", "as_at_position")
    }
