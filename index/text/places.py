"""Countries named in lower case: a question typed "how many us soldiers r in germany" names Germany
as surely as one that capitalises it, and the answer must come from an article that names it too.

Only country names that are not also common words or first names ("us", "turkey", "chad", "jordan",
"georgia" are left out), so a lower-case question gains a key name only where one is meant.
"""

from __future__ import annotations

import re

COUNTRIES = frozenset(
    """
    afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas
    bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil
    brunei bulgaria burundi cambodia cameroon canada colombia comoros congo croatia cuba cyprus
    czechia denmark djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland
    france gabon gambia germany ghana greece grenada guatemala guyana haiti honduras hungary iceland
    india indonesia iran iraq ireland israel italy jamaica japan kazakhstan kenya kiribati kosovo
    kuwait kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania luxembourg
    madagascar malawi malaysia maldives mali malta mauritania mauritius mexico micronesia moldova
    monaco mongolia montenegro morocco mozambique myanmar namibia nauru nepal netherlands nicaragua
    niger nigeria norway oman pakistan palau palestine panama paraguay peru philippines poland
    portugal qatar romania russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia
    somalia spain sudan suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo
    tonga tunisia turkmenistan tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam
    yemen zambia zimbabwe
    """.split()
) | frozenset(
    {
        "north korea",
        "south korea",
        "south africa",
        "saudi arabia",
        "new zealand",
        "sri lanka",
        "costa rica",
        "el salvador",
        "sierra leone",
        "south sudan",
        "united kingdom",
        "united states",
        "united arab emirates",
        "burkina faso",
        "ivory coast",
        "north macedonia",
        "east timor",
        "papua new guinea",
        "dominican republic",
        "czech republic",
        "great britain",
    }
)
_COUNTRY = re.compile(
    r"\b(?:" + "|".join(sorted((re.escape(c) for c in COUNTRIES), key=len, reverse=True)) + r")\b"
)


def countries_in_lower_case(text: str) -> tuple[str, ...]:
    """The countries `text` names in lower case ("germany", "saudi arabia"), lower-cased, in order."""
    return tuple(dict.fromkeys(m.group(0) for m in _COUNTRY.finditer(text)))
