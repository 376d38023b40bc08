"""Numbers, money and dates in the UI's language (Babel's CLDR data): one place for every page.

- :func:`usd`: dollars at the precision the estimate uses (4 decimals under $1, cents above);
- :func:`jpy`: yen without decimals (half-up, as the Planner rounds);
- :func:`money`: either, by currency code; :func:`number`, :func:`percent`, :func:`day`, :func:`moment`.

Values stay ``Decimal`` until formatted; formatting never changes a stored figure. The locale is the
current UI language (:func:`ui.i18n.current`) unless ``lang`` is given.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from babel import dates as _dates
from babel import numbers as _numbers

from ui import i18n

#: CLDR locale per UI language (the region fixes the grouping and the yen sign's form).
LOCALE = {"en": "en_US", "ja": "ja_JP"}


def _locale(lang: str | None) -> str:
    return LOCALE.get(lang or i18n.current(), LOCALE[i18n.DEFAULT])


def usd(value: Decimal | float | int | None, lang: str | None = None, places: int | None = None) -> str:
    """``$0.0123`` / ``$1,021.26``: 4 decimals under $1, 2 above (or ``places``); "–" for None."""
    if value is None:
        return "–"
    value = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if places is None:
        places = 4 if abs(value) < 1 else 2
    pattern = "¤#,##0." + "0" * places if places else "¤#,##0"
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return _numbers.format_currency(q, "USD", format=pattern, locale=_locale(lang), currency_digits=False)


def jpy(value: Decimal | float | int | None, lang: str | None = None) -> str:
    """``¥153,189`` (``￥153,189`` in Japanese): whole yen, half-up; "–" for None."""
    if value is None:
        return "–"
    value = Decimal(str(value)) if not isinstance(value, Decimal) else value
    q = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return _numbers.format_currency(q, "JPY", format="¤#,##0", locale=_locale(lang), currency_digits=False)


def money(value: Decimal | None, currency: str = "USD", lang: str | None = None) -> str:
    """:func:`usd` or :func:`jpy` by currency code."""
    return jpy(value, lang) if currency.upper() == "JPY" else usd(value, lang)


def number(value: float | int | Decimal, decimals: int = 0, lang: str | None = None) -> str:
    """``12,345`` / ``1.5`` with the locale's grouping and decimal sign."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return _numbers.format_decimal(value, format=pattern, locale=_locale(lang))


def percent(value: float, decimals: int = 0, lang: str | None = None) -> str:
    """``0.25`` -> ``25%``."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return _numbers.format_percent(value, format=pattern, locale=_locale(lang))


def day(value: date, lang: str | None = None) -> str:
    """A date: ``2026-12-01`` in English (as the catalog writes it), ``2026年12月1日`` in Japanese."""
    loc = _locale(lang)
    if loc.startswith("en"):
        return value.isoformat()
    return _dates.format_date(value, format="long", locale=loc)


def moment(value: datetime, lang: str | None = None) -> str:
    """A time stamp to the minute: ``2026-12-01 09:30 UTC`` / ``2026年12月1日 9:30 UTC``."""
    loc = _locale(lang)
    if loc.startswith("en"):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return f"{_dates.format_date(value.date(), format='long', locale=loc)} {value:%H:%M} UTC"
