"""The README's glossary is the glossary the API describes its figures with, and every field of
every figure model (api.figure_models) has a meaning there (DESIGN.md §4 "One meaning per
figure")."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from api import figure_models
from api.glossary import GLOSSARY, SECTIONS

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


def test_every_response_model_field_is_in_the_glossary() -> None:
    models = [
        m
        for m in vars(figure_models).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m is not BaseModel
    ]
    fields = {info.alias or name for m in models for name, info in m.model_fields.items()}

    assert len(models) >= 10
    assert fields <= set(GLOSSARY)
    for model in models:
        for name, info in model.model_fields.items():
            assert info.description == GLOSSARY[info.alias or name], (model, name)
