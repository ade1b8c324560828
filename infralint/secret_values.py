"""Whether a name or a value looks like a secret: one judge for every rule that looks for them.

Three questions, answered by pure functions over strings:

- ``secret_name`` / ``weak_secret_name``: does a variable or key name hold a secret?
  A strong name (PASSWORD, TOKEN, API_KEY ...) says so by itself. A weak one (``*_KEY``,
  ``*_KEY_CONTENT``, ``*_CONTENT``) says so only when its value also looks random:
  ``CACHE_KEY=users`` and ``PRIMARY_KEY=id`` are not secrets, ``AZURE_BATCH_KEY=<88 base64
  characters>`` is. The patterns are rule options; the defaults live in the rules' YAML.
- ``known_secret`` / ``find_known_secret``: does a value hold a private key block or a token
  whose format says what it is (AWS, GitHub, GitLab, Slack, Stripe ...)? These flag under any
  name. Only formats with a fixed prefix and length (or a marker inside) are listed, so a word
  or an id does not match by chance; each cites where its format is published.
- ``looks_random``: length, character-class mix and entropy of a one-line value, for use only
  under a weak secret-looking name (a random-looking id under a neutral name is an id).

``placeholder`` is the shared "a human still has to fill this in" test (``changeme``,
``<your-key>``, ``${VAR}``, ``{{ .Values.x }}``, ``xxxx``, ``example``, a file path ...): such
values never count as secrets for the value judgements.

Everything is compiled at import and costs a few regex searches per value; a value is searched
for key blocks and tokens only when a cheap substring test says one may be there.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from functools import cache
from itertools import pairwise

# -- names -----------------------------------------------------------------------------------

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def upper_snake(name: str) -> str:
    """NAME in UPPER_SNAKE form: camelCase, dashes and dots become underscores."""
    return _SEPARATORS.sub("_", _CAMEL_BOUNDARY.sub("_", name)).strip("_").upper()


@cache
def name_pattern(source: str) -> re.Pattern[str]:
    """A name pattern option, compiled once (searched without regard to case)."""
    return re.compile(source.strip(), re.IGNORECASE)


def _name_matches(name: str, pattern: str | None, reference: str | None) -> bool:
    if not pattern:
        return False
    normalized = upper_snake(name)
    if not name_pattern(pattern).search(normalized):
        return False
    return not (reference and name_pattern(reference).search(normalized))


def secret_name(name: str, options: dict[str, object]) -> bool:
    """Whether NAME holds a secret by its name alone: it matches option `secret_name_pattern`
    and not `reference_name_pattern` (a name that points at a secret: *_FILE, *_URL ...)."""
    return _name_matches(name, _opt(options, "secret_name_pattern"), _opt(options, "reference_name_pattern"))


def weak_secret_name(name: str, options: dict[str, object]) -> bool:
    """Whether NAME holds a secret when its value looks random (option `weak_name_pattern`:
    *_KEY, *_KEY_CONTENT, *_CONTENT), and does not point at one."""
    return _name_matches(name, _opt(options, "weak_name_pattern"), _opt(options, "reference_name_pattern"))


def _opt(options: dict[str, object], key: str) -> str | None:
    value = options.get(key)
    return value if isinstance(value, str) and value.strip() else None


# -- placeholders ----------------------------------------------------------------------------

# Words a value to be filled in is made of; searched anywhere, without regard to case. A random
# value of 40 characters holds one of them by chance about once in a million.
_PLACEHOLDER_WORDS = re.compile(
    r"example|sample|dummy|placeholder|change[-_.]?me|change[-_.]?it|replace[-_.]?(me|with|this)|"
    r"redacted|your[-_ .]|<[^<>]*>|\{\{|\}\}|\$\{|\$\(|x{4,}|\*{3,}|\.{3}|…|todo|fixme|insert[-_ ]",
    re.IGNORECASE,
)
_PLACEHOLDER_VALUES = frozenset(
    {"changeme", "secret", "password", "token", "xxx", "none", "null", "nil", "undefined", "test", "tbd", "n/a"}
)
_SAME_CHAR = re.compile(r"(.)\1*", re.DOTALL)
_RUN = re.compile(r"(.)\1{7,}")  # eight times the same character: typed, not generated
_REPEATED = re.compile(r"(.{1,16}?)\1+", re.DOTALL)  # abcdabcdabcd
_SEQUENCE = re.compile(r"0123456|1234567|abcdefg|ABCDEFG|qwerty|QWERTY")  # typed by a human
_PATH = re.compile(
    r"^(?:~|\.{1,2})?/|^[A-Za-z]:[\\/]|^file:|^\$[A-Za-z_]|"
    r"\.(?:pem|key|crt|cer|der|p12|pfx|jks|json|ya?ml|txt|env|gpg|asc|pub|conf|ini|properties)$",
    re.IGNORECASE,
)
_FILE_NAME = re.compile(r"\.[a-z]{2,10}$")  # a file or host name ending: keys/prod.json, api.example.org
# Credentials published by their vendors for local development and documentation: public.
_PUBLISHED = frozenset(
    {
        # Azurite / the Azure storage emulator's account key (Microsoft Learn, "Use the Azurite
        # emulator": "Well-known storage account and key").
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    }
)


def placeholder(value: str) -> bool:
    """Whether VALUE stands for a secret still to be filled in, or points at one, rather than
    holds one: empty, a placeholder word or marker, a template or variable reference, one
    character repeated, a counting sequence, a file path, or a credential published for
    development."""
    text = value.strip().strip("\"'")
    return _filler(text) or bool(_PATH.search(text))


def _filler(text: str) -> bool:
    if not text or text.lower() in _PLACEHOLDER_VALUES or any(known in text for known in _PUBLISHED):
        return True
    if _SAME_CHAR.fullmatch(text) or _RUN.search(text) or _REPEATED.fullmatch(text):
        return True
    return bool(_PLACEHOLDER_WORDS.search(text) or _SEQUENCE.search(text))


# -- known formats ---------------------------------------------------------------------------

# Private key blocks. RFC 7468 (PKCS #8 "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), RFC 1421 /
# OpenSSL's traditional "RSA PRIVATE KEY", "DSA PRIVATE KEY", RFC 5915 "EC PRIVATE KEY",
# OpenSSH's PROTOCOL.key "OPENSSH PRIVATE KEY", RFC 4880 §6.2 "PGP PRIVATE KEY BLOCK".
# Certificates, public keys and CA bundles use other labels and do not match.
_KEY_BLOCK = re.compile(
    r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |ENCRYPTED |SSH2 ENCRYPTED )?PRIVATE KEY|PGP PRIVATE KEY BLOCK)-----"
)
_BASE64_CHAR = re.compile(r"[A-Za-z0-9+/=]")
_KEY_BODY_MIN = 64  # base64 characters of key material: a truncated example ("MIIE...") has fewer
_KEY_BODY_SCAN = 400  # characters after the header looked at for them


def _key_label(kind: str) -> str:
    if kind.startswith("PGP"):
        return "a PGP private key block"
    if kind.startswith("OPENSSH"):
        return "an OpenSSH private key"
    return f"a PEM private key block ({kind})"


# Tokens: (label, pattern, substrings one of which must be present: a cheap test first). Word boundaries keep a token
# from matching inside a longer identifier.
_TOKENS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    # AWS IAM, "Unique identifier prefixes": AKIA long-term, ASIA temporary access key IDs
    # (docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html). The ID is half of
    # the pair and names the account; the secret key has no format of its own.
    ("an AWS access key ID", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])"), ("AKIA", "ASIA")),
    # GitHub, "Behind GitHub's new authentication token formats" (github.blog, 2021-04-05):
    # ghp_ personal, gho_ OAuth, ghu_ user-to-server, ghs_ server-to-server, ghr_ refresh,
    # 36 base62 characters; fine-grained personal tokens start github_pat_ (GitHub Docs,
    # "About authentication to GitHub", GitHub's token formats).
    (
        "a GitHub token",
        re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    (
        "a GitHub fine-grained personal access token",
        re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9])"),
        ("github_pat_",),
    ),
    # GitLab Docs, "GitLab token overview", token prefixes: glpat- personal access tokens.
    ("a GitLab personal access token", re.compile(r"(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,}"), ("glpat-",)),
    # Slack API docs, "Token types": xoxb- bot, xoxp- user, xoxa- app (workspace) and xoxr-
    # refresh tokens, a team number then more numbers and a random tail.
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9])xox[abpr]-[0-9]{8,}-[0-9A-Za-z-]{16,}"), ("xox",)),
    # Slack API docs, "Sending messages using incoming webhooks": the URL is the credential.
    (
        "a Slack incoming webhook URL",
        re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,}"),
        ("hooks.slack.com",),
    ),
    # Stripe Docs, "API keys": live secret keys sk_live_, restricted keys rk_live_ (test-mode
    # keys, sk_test_, move no money and are left out).
    ("a Stripe live API key", re.compile(r"(?<![A-Za-z0-9])[sr]k_live_[A-Za-z0-9]{24,}"), ("k_live_",)),
    # OpenAI keys carry base64 "OpenAI" (T3BlbkFJ) inside: listed among GitHub secret scanning's
    # supported patterns (docs.github.com, "Supported secret scanning patterns", OpenAI API key).
    (
        "an OpenAI API key",
        re.compile(r"(?<![A-Za-z0-9])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}"),
        ("T3BlbkFJ",),
    ),
    # Anthropic API keys, sk-ant-api03-... (Anthropic docs; GitHub secret scanning partner).
    ("an Anthropic API key", re.compile(r"(?<![A-Za-z0-9])sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}"), ("sk-ant-",)),
    # npm Docs, "About access tokens"; github.blog changelog 2021-09-23 "npm has a new access
    # token format": npm_ and 36 base62 characters.
    ("an npm access token", re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"), ("npm_",)),
    # Twilio SendGrid Docs, "API Keys": SG. then two base64url parts (22 and 43 characters).
    ("a SendGrid API key", re.compile(r"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"), ("SG.",)),
    # Hugging Face Hub docs, "User access tokens": hf_ and 34 letters.
    ("a Hugging Face access token", re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9])"), ("hf_",)),
    # Azure Storage docs, "Configure Azure Storage connection strings": AccountKey= holds the
    # account's shared key, 64 bytes of base64.
    ("an Azure storage account key", re.compile(r"AccountKey=[A-Za-z0-9+/]{86}=="), ("AccountKey=",)),
    # RFC 7519 JWT: base64url header and claims (a JSON object, so "eyJ") and a signature.
    # An unsigned token (empty third part) proves nothing and is left out.
    (
        "a JSON Web Token",
        re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
        ("eyJ",),
    ),
)
# Left out on purpose: Google API keys (AIza...) are public by design in browser apps (Firebase
# web config, Maps), Twilio's prefixed ids (AC..., SK...) are identifiers whose secret has no
# format, and a connection URL with a password is judged by its name, not as a format.


def _key_block_at(text: str) -> tuple[str, int] | None:
    if "PRIVATE KEY" not in text:
        return None
    for match in _KEY_BLOCK.finditer(text):
        body = text[match.end() : match.end() + _KEY_BODY_SCAN]
        end = body.find("-----END")
        body = body[:end] if end >= 0 else body
        if len(_BASE64_CHAR.findall(body)) >= _KEY_BODY_MIN and not _PLACEHOLDER_WORDS.search(body):
            return _key_label(match.group(1)), match.start()
    return None


def _token_at(text: str) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for label, pattern, markers in _TOKENS:
        if not any(marker in text for marker in markers):
            continue
        for match in pattern.finditer(text):
            token = match.group(0)
            if placeholder(token) or _weak_token(label, token):
                continue
            if best is None or match.start() < best[1]:
                best = (label, match.start())
            break
    return best


def _weak_token(label: str, token: str) -> bool:
    """Tokens that match a format yet carry no secret."""
    if label == "a JSON Web Token":
        return _public_jwt(token)
    if label == "a Hugging Face access token":
        return token[3:].islower() or token[3:].isupper()  # a word, not 34 random letters
    return False


def _public_jwt(token: str) -> bool:
    """A JWT that is public by design: Supabase's `anon` key (role anon) is meant for browsers."""
    claims = token.split(".")[1]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return True  # not a JWT after all
    return not isinstance(decoded, dict) or decoded.get("role") == "anon"


def find_known_secret(text: str) -> tuple[str, int] | None:
    """The first private key block or known token in TEXT (which may be a whole file):
    (what it is, the character offset where it starts), or None."""
    block = _key_block_at(text)
    token = _token_at(text)
    if block is None or (token is not None and token[1] < block[1]):
        return token
    return block


def known_secret(value: str) -> str | None:
    """What VALUE holds when it is or contains a private key block or a known token, else None."""
    found = find_known_secret(value)
    return found[0] if found else None


# -- a value under a name ------------------------------------------------------------------

RANDOM = "a random-looking key"


def value_secret(name: str, value: str, options: dict[str, object]) -> str | None:
    """What makes VALUE a secret by its value, whatever NAME's strong pattern says: a private
    key block or known token (any name), or a random-looking value under a weak name; None."""
    label = known_secret(value)
    if label is not None:
        return label
    if "\n" not in value.strip() and weak_secret_name(name, options) and looks_random(value):
        return RANDOM
    return None


# -- random-looking values -------------------------------------------------------------------

_RANDOM_MIN_LENGTH = 20
_HEX_MIN_LENGTH = 32
_HEX = re.compile(r"[0-9a-fA-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9+/=_.:~!@#%^&*-]+")
_DIGEST = re.compile(r"(?:^|[@:])(?:sha(?:1|224|256|384|512)|md5)[:=-]", re.IGNORECASE)  # a checksum
_PARTS = re.compile(r"[A-Za-z0-9]+")


def entropy(text: str) -> float:
    """Shannon entropy of TEXT in bits per character."""
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values()) if size else 0.0


def looks_random(value: str) -> bool:
    """Whether a one-line VALUE reads as generated key material, not as words, ids or paths.

    At least 20 characters (hex: 32) of token characters, no blanks, no URL; two character
    classes of lower, upper and digits (and a digit unless it is 32 long); its alphanumeric
    parts must be mostly long ones that change class often (not `users_by_id_v2_2023`,
    `myCacheKey2023`, `ghcr.io/org/image:v1.2`); and its entropy must be near that of random
    text of its length. A UUID is an id, a checksum public, a `--flag` an argument: no keys.
    """
    text = value.strip()
    if len(text) < _RANDOM_MIN_LENGTH or not _TOKEN_CHARS.fullmatch(text) or "://" in text:
        return False
    if _UUID.fullmatch(text) or _DIGEST.search(text) or text.startswith("--"):
        return False
    if _filler(text) or _FILE_NAME.search(text):
        return False
    has_digit = any(c.isdigit() for c in text)
    if _HEX.fullmatch(text):
        return len(text) >= _HEX_MIN_LENGTH and has_digit and not text.isdigit() and entropy(text) >= 3.0
    classes = has_digit + any(c.islower() for c in text) + any(c.isupper() for c in text)
    if classes < 2 or not (has_digit or len(text) >= 32):
        return False
    parts = _PARTS.findall(text)
    alnum = sum(len(part) for part in parts)
    # Most of it in long parts that change character class often: random text does so about
    # every second character, words, names, versions and paths seldom (`llama3`, `v1beta2`).
    random_parts = sum(len(part) for part in parts if len(part) >= 8 and _changes(part) >= 0.2 * len(part))
    if alnum < _RANDOM_MIN_LENGTH - 2 or random_parts < 0.6 * alnum:
        return False
    # Random base64 of n characters has an entropy close to log2(min(n, 64)); words far less.
    return entropy(text) >= min(4.0, 0.8 * math.log2(len(text)))


def _changes(part: str) -> int:
    """How often PART changes character class: letter and digit, lower to upper (an upper-case
    letter starting a word is no change)."""
    return sum(
        before.isdigit() != after.isdigit() or (before.islower() and after.isupper())
        for before, after in pairwise(part)
    )
