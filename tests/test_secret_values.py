"""The shared secret judge: names, known formats, random-looking values and placeholders."""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

from infralint import secret_values as sv

RNG = random.Random(12)
ALNUM = string.ascii_letters + string.digits


def rand(size: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(size))


def b64(size: int) -> str:
    return base64.b64encode(RNG.randbytes(size)).decode()


def pem(label: str, lines: int = 4) -> str:
    body = "\n".join(b64(48) for _ in range(lines))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{rand(43)}"


OPTIONS = {
    "secret_name_pattern": r"PASSWORD|SECRET|TOKEN(_|$)|API_?KEY",
    "weak_name_pattern": r"^(?!(.*_)?(PUBLIC|SITE|GPG|CACHE|SORT|PRIMARY)_).*(^|_)(KEY|KEY_CONTENT|CONTENT)$",
    "reference_name_pattern": r"_(FILE|URL|NAME|TTL)$",
}


@pytest.mark.parametrize(
    ("name", "strong", "weak"),
    [
        ("DB_PASSWORD", True, False),
        ("dbPassword", True, False),
        ("PASSWORD_FILE", False, False),
        ("TOKEN_TTL", False, False),
        ("AZURE_BATCH_KEY", False, True),
        ("OCI_CLI_KEY_CONTENT", False, True),
        ("page-content", False, True),
        ("CACHE_KEY", False, False),
        ("SORT_KEY", False, False),
        ("VAPID_PUBLIC_KEY", False, False),
        ("KEYBOARD_LAYOUT", False, False),
    ],
)
def test_names(name: str, strong: bool, weak: bool) -> None:
    assert sv.secret_name(name, OPTIONS) is strong
    assert sv.weak_secret_name(name, OPTIONS) is weak


def test_names_without_patterns_never_match() -> None:
    assert not sv.secret_name("DB_PASSWORD", {})
    assert not sv.weak_secret_name("AZURE_BATCH_KEY", {"weak_name_pattern": ""})


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (pem("RSA PRIVATE KEY"), "a PEM private key block (RSA PRIVATE KEY)"),
        (pem("PRIVATE KEY"), "a PEM private key block (PRIVATE KEY)"),
        (pem("EC PRIVATE KEY"), "a PEM private key block (EC PRIVATE KEY)"),
        (pem("ENCRYPTED PRIVATE KEY"), "a PEM private key block (ENCRYPTED PRIVATE KEY)"),
        (pem("OPENSSH PRIVATE KEY"), "an OpenSSH private key"),
        (pem("PGP PRIVATE KEY BLOCK"), "a PGP private key block"),
        # A service account key file: the block is JSON-escaped.
        (json.dumps({"type": "service_account", "private_key": pem("PRIVATE KEY")}), "a PEM private key block"),
        ("AKIA" + rand(16, string.ascii_uppercase + "234567"), "an AWS access key ID"),
        ("ghp_" + rand(36), "a GitHub token"),
        ("gho_" + rand(36), "a GitHub token"),
        ("github_pat_" + rand(22) + "_" + rand(59), "a GitHub fine-grained personal access token"),
        ("glpat-" + rand(20), "a GitLab personal access token"),
        ("xoxb-" + rand(10, "13579") + "-" + rand(13, "24680") + "-" + rand(24), "a Slack token"),
        ("https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/" + rand(24), "a Slack incoming webhook URL"),
        ("sk_live_" + rand(24), "a Stripe live API key"),
        ("rk_live_" + rand(99), "a Stripe live API key"),
        ("sk-proj-" + rand(20) + "T3BlbkFJ" + rand(20), "an OpenAI API key"),
        ("sk-ant-api03-" + rand(93, ALNUM + "-_"), "an Anthropic API key"),
        ("npm_" + rand(36), "an npm access token"),
        ("SG." + rand(22) + "." + rand(43), "a SendGrid API key"),
        ("hf_" + rand(34, string.ascii_letters), "a Hugging Face access token"),
        ("AccountName=prod;AccountKey=" + b64(64) + ";EndpointSuffix=core.windows.net", "an Azure storage account key"),
        (jwt({"sub": "ci", "iat": 1700000000}), "a JSON Web Token"),
        # Inside a longer text: a URL, a config file.
        ("https://oauth2:glpat-" + rand(20) + "@gitlab.example.com/repo.git", "a GitLab personal access token"),
        ("registry:\n  auth: npm_" + rand(36) + "\n", "an npm access token"),
    ],
)
def test_known_formats(value: str, label: str) -> None:
    found = sv.known_secret(value)
    assert found is not None and found.startswith(label)


@pytest.mark.parametrize(
    "value",
    [
        pem("CERTIFICATE"),
        pem("PUBLIC KEY"),
        pem("RSA PUBLIC KEY"),
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC8" + rand(200) + " deploy@example.com",
        # Truncated or elided key blocks in documentation.
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----",
        "key: -----BEGIN OPENSSH PRIVATE KEY----- (paste yours)",
        # Documentation and placeholder tokens.
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "glpat-<your-token-here>",
        "sk_test_" + rand(24),
        "pk_live_" + rand(24),
        "xoxb-your-bot-token",
        "npm_${NPM_TOKEN}",
        "hf_" + "abcdefghij" * 3 + "abcd",
        # Google API keys are public by design in browser apps (left out on purpose).
        "AIza" + rand(35, ALNUM + "-_"),
        # A JWT without a signature, and Supabase's public anon key.
        jwt({"sub": "x"}).rsplit(".", 1)[0] + ".",
        jwt({"role": "anon", "iss": "supabase"}),
        # The Azurite storage emulator's published key.
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
        # Words and identifiers that share a prefix.
        "npm_config_registry_url_for_the_mirror",
        "sk-learn-preprocessing-pipeline",
        "the quick brown fox",
        "",
    ],
)
def test_not_known_formats(value: str) -> None:
    assert sv.known_secret(value) is None


def test_find_known_secret_gives_the_offset() -> None:
    text = "host: db\nkey: |\n" + pem("RSA PRIVATE KEY")
    label, offset = sv.find_known_secret(text) or ("", -1)
    assert label.startswith("a PEM private key block") and text[offset:].startswith("-----BEGIN RSA")
    token = "ghp_" + rand(36)
    text = f"a: 1\nb: {token}\n" + pem("PRIVATE KEY")
    assert sv.find_known_secret(text) == ("a GitHub token", text.index(token))


@pytest.mark.parametrize(
    "value",
    [
        "changeme",
        "CHANGE_ME",
        "<your-secret-key>",
        "${DB_PASSWORD}",
        "{{ .Values.password }}",
        "xxx",
        "xxxxxxxxxxxxxxxx",
        "your-api-key-here",
        "example-token",
        "aaaaaaaaaaaa",
        "************",
        "/run/secrets/db-password",
        "./keys/prod.pem",
        "C:\\secrets\\key.pem",
        "$DB_PASSWORD",
        "",
        "   ",
        "0123456789abcdef0123456789abcdef",
        "abcabcabcabcabcabc",
    ],
)
def test_placeholders(value: str) -> None:
    assert sv.placeholder(value)


@pytest.mark.parametrize("value", ["hunter2", "Zq8vP2mLx4rT", "s3cr3t-Passw0rd", b64(30)])
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not sv.placeholder(value)


@pytest.mark.parametrize(
    "value",
    [
        "users",
        "id",
        "created_at",
        "users_by_id_v2_2023",
        "myApplicationSessionKey2023",
        "my-very-long-cache-key-name-2023",
        "3f2a1b4c-1234-4abc-9def-0123456789ab",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "projects/my-project-123/locations/global/keyRings/ring1/cryptoKeys/key1",
        "uploads/2023/01/report-final.pdf",
        "sha256:4d5af63ce505f2e6441d99ad9f83a2ebdfa1724851ab9e227caaae1667c2a76f",
        "ghcr.io/org/image:v1.2.3-rc4",
        "nginx-ingress-controller-7d9f8b6c5-x2k4j",
        "redis-master-0.redis-headless.default.svc.cluster.local",
        "https://" + rand(40) + ".example.org",
        "v1.0.0-alpha.20231201-build123",
        "deadbeefdeadbeefdeadbeefdeadbeef",
        "Zq8vP2mLx4rT",  # random, but too short to tell from a word
        "a value with spaces and 1234567 numbers",
        # Seen in real manifests.
        "vllm-llama3-8b-instruct",
        "kafka.strimzi.io/v1beta2",
        "max_prefill_predict_length=1024",
        "--metrics-bind-address=:8443",
        "busybox:1.38.0@sha256:fd8d9aa63ba2f0982b5304e1ee8d3b90a210bc5e7b1f4c5e9d6a0d0c0c1d2e3f",
    ],
)
def test_not_random(value: str) -> None:
    assert not sv.looks_random(value)


def test_random_values() -> None:
    """Generated keys of the usual alphabets and lengths read as random (allowing a few short ones
    that happen to have no digit or fall apart into short pieces)."""
    alphabets = {
        "base64": ALNUM + "+/",
        "base64url": ALNUM + "-_",
        "base62": ALNUM,
        "hex": "0123456789abcdef",
    }
    for name, alphabet in alphabets.items():
        for size in (32, 40, 64, 88):
            hits = sum(sv.looks_random(rand(size, alphabet)) for _ in range(200))
            assert hits >= 190, (name, size, hits)
    assert sv.looks_random("base64:" + b64(32))
    assert sv.looks_random(b64(66))


def test_value_secret() -> None:
    key = b64(66)
    assert sv.value_secret("AZURE_BATCH_KEY", key, OPTIONS) == sv.RANDOM
    assert sv.value_secret("BOOTSTRAP", key, OPTIONS) is None  # random under a neutral name: an id
    assert sv.value_secret("CACHE_KEY", key, OPTIONS) is None
    assert sv.value_secret("CACHE_KEY", "users", OPTIONS) is None
    assert sv.value_secret("BOOTSTRAP", "ghp_" + rand(36), OPTIONS) == "a GitHub token"
    assert sv.value_secret("SSH_KEY", pem("OPENSSH PRIVATE KEY"), OPTIONS) == "an OpenSSH private key"


def test_entropy() -> None:
    assert sv.entropy("") == 0.0
    assert sv.entropy("aaaa") == 0.0
    assert sv.entropy("abcd") == pytest.approx(2.0)
