"""What every request and response body shares: strict bodies, pages, checked text."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict

from api.validation import no_nul
from domain.texts import MAX_NAME, MAX_SHORT_TEXT, MAX_TEXT

T = TypeVar("T")
NoNul = AfterValidator(no_nul)


def bounded(max_length: int, min_length: int = 0):
    """Text of a bounded length, without NUL."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), NoNul]


Text = Annotated[str, NoNul]
# JSON bodies take numbers and booleans as they are: no `false` for 0, no `"5"` for 5.
Whole = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
Name = bounded(MAX_NAME, 1)
ShortText = bounded(MAX_SHORT_TEXT)
MessageText = bounded(MAX_TEXT, 1)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
