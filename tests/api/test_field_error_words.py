"""forms.field_errors: how a form's validation errors are worded for the GOV.UK error summary
when the form gives no label or the error names no field. Found unchecked by mutation testing
of api/pages/forms.py (field_errors 4, 11, 13, 16-18, 23, 24)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from api.pages.forms import field_errors


class _Form(BaseModel):
    title: str = Field(min_length=1, max_length=10)
    tags: list[int] = []
    days_of_work: int = Field(ge=0)
    cost_code: str = ""

    @field_validator("cost_code")
    @classmethod
    def _cost_code(cls, value: str) -> str:
        if value and not value.isdigit():
            raise ValueError("must be digits only")
        return value

    @model_validator(mode="after")
    def _not_both_empty(self) -> _Form:
        if self.title == "x" and self.days_of_work == 0:
            raise ValueError("say what the change is")
        return self


def _errors(labels: dict[str, str], **data: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        _Form.model_validate(data)
    return field_errors(raised.value, labels)


def test_a_field_the_form_gives_no_label_is_named_by_its_words() -> None:
    errors = _errors({}, title="", days_of_work=-1, cost_code="A1")
    assert errors == {
        "title": "Enter title",
        "days_of_work": "Days of work must be 0 or more",
        "cost_code": "Cost code: must be digits only",
    }


def test_a_label_the_form_gives_is_used_instead() -> None:
    errors = _errors({"days_of_work": "the number of days' work"}, title="t", days_of_work=-1)
    assert errors == {"days_of_work": "The number of days' work must be 0 or more"}


def test_each_field_gets_its_first_error_and_every_later_field_still_gets_its_own() -> None:
    # two errors for "tags" (one per item), then one for each later field
    errors = _errors({}, title="t", tags=["a", "b"], days_of_work=-1, cost_code="B")
    assert set(errors) == {"tags", "days_of_work", "cost_code"}
    assert errors["tags"].startswith("Tags: ")
    assert errors["days_of_work"] == "Days of work must be 0 or more"


def test_an_error_about_the_whole_form_is_kept_under_no_field() -> None:
    errors = _errors({}, title="x", days_of_work=0)
    assert errors == {"": "Say what the change is"}
