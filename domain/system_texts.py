"""The system messages a client reads, as data: built-in texts per language, and the rules for
a company's overrides (``texts`` in the company settings).

A client reads them in their own language when the company has texts for it, else in the
company's ``language``. An empty text sends no message.
"""

from __future__ import annotations

import re
import string
from typing import Any

from domain.errors import InvalidValue

MAX_SYSTEM_TEXT = 1_000
MAX_LABEL = 100  # a button's label (domain.messages.MAX_BUTTON_TEXT)
LABELS = ("yes", "no")
MAX_LANGUAGES = 50
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")

# name -> the placeholders its text may use
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "greeting": ("first_name", "last_name"),
    "transfer": ("first_name", "last_name"),
    "rating_prompt": (),
    "ask_resolved": (),
    "inactivity_close": (),
    # The labels of the buttons under the "anything left?" question.
    "yes": (),
    "no": (),
}
NAMES = tuple(PLACEHOLDERS)

BUILT_IN: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello! My name is {first_name}. How can I help you?",
        "transfer": "Your conversation is now with {first_name}, who will take it from here.",
        "rating_prompt": "Please rate this conversation from 1 to 5.",
        "ask_resolved": "Is there anything else I can help you with?",
        "inactivity_close": (
            "We haven't heard from you for a while, so we've closed this conversation. "
            "Just write to us whenever you need help."
        ),
        "yes": "Yes, I have another question",
        "no": "No, that's all",
    },
    "ru": {
        "greeting": "Здравствуйте! Меня зовут {first_name}. Чем я могу вам помочь?",
        "transfer": "Ваш диалог передан специалисту {first_name}, он продолжит общение с вами.",
        "rating_prompt": "Пожалуйста, оцените наш разговор от 1 до 5.",
        "ask_resolved": "Могу ли я ещё чем-нибудь вам помочь?",
        "inactivity_close": (
            "Мы давно не получали от вас сообщений, поэтому закрыли этот диалог. "
            "Если понадобится помощь, просто напишите нам."
        ),
        "yes": "Да, есть ещё вопрос",
        "no": "Нет, это всё",
    },
    "uk": {
        "greeting": "Вітаю! Мене звати {first_name}. Чим я можу вам допомогти?",
        "transfer": "Ваш діалог передано фахівцю {first_name}, він продовжить спілкування з вами.",
        "rating_prompt": "Будь ласка, оцініть нашу розмову від 1 до 5.",
        "ask_resolved": "Чи можу я ще чимось вам допомогти?",
        "inactivity_close": (
            "Ми давно не отримували від вас повідомлень, тому закрили цей діалог. "
            "Якщо знадобиться допомога, просто напишіть нам."
        ),
        "yes": "Так, маю ще питання",
        "no": "Ні, це все",
    },
}


def language_of(tag: str | None) -> str | None:
    """A language tag as the texts are keyed: lower case, ``_`` read as ``-``."""
    if not tag or not isinstance(tag, str):
        return None
    return tag.strip().lower().replace("_", "-") or None


def check_language(tag: Any) -> None:
    if not isinstance(tag, str) or len(tag) > 20 or not LANGUAGE_TAG.match(tag):
        raise InvalidValue("a language is a tag such as 'en', 'ru' or 'pt-br' (lower case)")


def check_text_template(name: str, text: Any) -> None:
    """A system text of a known name, bounded, using only its own placeholders."""
    if name not in PLACEHOLDERS:
        raise InvalidValue(f"there is no system text {name!r}; there are {', '.join(NAMES)}")
    if not isinstance(text, str) or len(text) > MAX_SYSTEM_TEXT or "\x00" in text:
        raise InvalidValue(f"a system text is text of at most {MAX_SYSTEM_TEXT} characters")
    if name in LABELS and len(text) > MAX_LABEL:
        raise InvalidValue(f"a button's label ({name}) is at most {MAX_LABEL} characters")
    try:
        fields = [(f, s, c) for _, f, s, c in string.Formatter().parse(text) if f is not None]
    except ValueError as error:
        raise InvalidValue(f"the {name} text is not a valid template: {error}") from error
    allowed = PLACEHOLDERS[name]
    for field, spec, conversion in fields:
        if field not in allowed:
            may = ", ".join("{" + f + "}" for f in allowed) or "no placeholders"
            raise InvalidValue(f"the {name} text may use {may}, not {{{field}}}")
        if spec or conversion:
            raise InvalidValue(f"the {name} text takes {{{field}}} plain, without ':' or '!'")


def check_texts(texts: Any) -> None:
    """The ``texts`` setting: ``{language: {name: text}}``, all of the company's overrides."""
    if not isinstance(texts, dict) or len(texts) > MAX_LANGUAGES:
        raise InvalidValue(f"texts are an object of at most {MAX_LANGUAGES} languages")
    for language, named in texts.items():
        check_language(language)
        if not isinstance(named, dict):
            raise InvalidValue("each language's texts are an object of names to texts")
        for name, text in named.items():
            check_text_template(name, text)


def has_texts(settings: dict[str, Any], language: str) -> bool:
    return language in BUILT_IN or language in settings.get("texts", {})


def language_for(settings: dict[str, Any], client_language: str | None) -> str:
    """The client's language (or its primary subtag) where the company has texts for it, else
    the company's ``language``."""
    tag = language_of(client_language)
    if tag is not None:
        for candidate in (tag, tag.split("-")[0]):
            if has_texts(settings, candidate):
                return candidate
    return settings.get("language", "en")


def system_text(
    settings: dict[str, Any], name: str, client_language: str | None, **fields: str
) -> str:
    """The text of system message ``name`` for this client, filled in; "" sends none."""
    language = language_for(settings, client_language)
    template = template_for(settings, name, language)
    return template.format(**{f: fields.get(f, "") for f in PLACEHOLDERS[name]})


def template_for(settings: dict[str, Any], name: str, language: str) -> str:
    overrides = settings.get("texts", {}).get(language, {})
    if name in overrides:
        return overrides[name]
    # The older one-language settings still speak for the company's own language.
    legacy = LEGACY_SETTINGS.get(name)
    if legacy and legacy in settings:
        if not settings[legacy].strip():
            return ""  # an empty greeting_template has always meant none, in any language
        own = language == settings.get("language", "en")
        if own and (settings[legacy] != BUILT_IN["en"][name] or language not in BUILT_IN):
            return settings[legacy]
    built_in = BUILT_IN.get(language) or BUILT_IN["en"]
    return built_in[name]


LEGACY_SETTINGS = {"greeting": "greeting_template", "rating_prompt": "rating_prompt_text"}
