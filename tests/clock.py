"""The dates tests pin (tests never read the wall clock for anything that matters).

``TODAY`` is the day issue 9 was filed: the first day gpt-image-1.5 and gpt-image-1-mini are shut
down on OpenAI (both live on in Azure into 2027). ``CHECKED`` is the date the catalog's facts were
last checked, when they still ran on OpenAI. Tests that depend on one model's lifecycle name their
own date next to the assertion.
"""

from datetime import date

TODAY = date(2026, 12, 1)
CHECKED = date(2026, 11, 25)
