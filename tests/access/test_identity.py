"""Resolving the caller: arguments, environment, verified JWTs (keys minted here), the OS user as a fallback."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import meshlake as ml
from meshlake.access.identity import Identity, TokenVerifier, os_user_identity, resolve_identity
from meshlake.catalog.settings import Settings
from meshlake.contract.principals import Principal
from meshlake.errors import AuthenticationError, ConfigError, InvalidPrincipalError

ISSUER = "https://idp.example.com"
AUDIENCE = "meshlake"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(key: Any) -> str:
    return str(
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "alice",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "groups": ["analytics", "finance"],
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


Mint = Callable[..., str]


@pytest.fixture
def jwks_file(tmp_path: Path, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> Path:
    rsa_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
    ec_jwk = jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True)
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [rsa_jwk | {"kid": "rsa-1", "use": "sig"}, ec_jwk | {"kid": "ec-1"}]}))
    return path


@pytest.fixture
def verifier(jwks_file: Path) -> TokenVerifier:
    return TokenVerifier(jwks_file=str(jwks_file), issuer=ISSUER, audience=AUDIENCE)


def _rs256(key: rsa.RSAPrivateKey, kid: str | None = "rsa-1", **changes: Any) -> str:
    headers = {"kid": kid} if kid else {}
    return jwt.encode(_claims(**changes), key, algorithm="RS256", headers=headers)


def test_valid_rs256_token_from_jwks_is_a_verified_identity(
    verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    identity = verifier.verify(_rs256(rsa_key))
    assert identity.principal == Principal.parse("user:alice")
    assert identity.groups == {Principal.parse("group:analytics"), Principal.parse("group:finance")}
    assert identity.verified and identity.source == "token"


def test_valid_es256_token_from_jwks_is_verified(verifier: TokenVerifier, ec_key: ec.EllipticCurvePrivateKey) -> None:
    token = jwt.encode(_claims(sub="bob"), ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    assert verifier.verify(token).principal == Principal.parse("user:bob")


def test_valid_es256_token_against_a_pem_issuer_key(tmp_path: Path, ec_key: ec.EllipticCurvePrivateKey) -> None:
    token = jwt.encode(_claims(), ec_key, algorithm="ES256")
    assert TokenVerifier(issuer_key=_pem(ec_key), audience=AUDIENCE).verify(token).verified
    key_file = tmp_path / "issuer.pem"
    key_file.write_text(_pem(ec_key))
    assert TokenVerifier(issuer_key=str(key_file), audience=AUDIENCE).verify(token).verified


def test_subject_naming_a_kind_keeps_it(verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    assert verifier.verify(_rs256(rsa_key, sub="service:airflow")).principal == Principal.parse("service:airflow")


def test_principal_and_groups_claims_are_configurable(jwks_file: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    custom = TokenVerifier(jwks_file=str(jwks_file), audience=AUDIENCE, principal_claim="email", groups_claim="roles")
    identity = custom.verify(_rs256(rsa_key, email="carol@example.com", roles=["group:platform"]))
    assert identity.principal == Principal.parse("user:carol@example.com")
    assert identity.groups == {Principal.parse("group:platform")}


def test_missing_groups_claim_means_no_groups(verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    identity = verifier.verify(_rs256(rsa_key, groups=None))
    assert identity.groups == frozenset() and identity.verified


def test_single_group_as_text_is_one_group(verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    assert verifier.verify(_rs256(rsa_key, groups="analytics")).groups == {Principal.parse("group:analytics")}


def test_group_names_that_are_no_principals_grant_nothing_and_are_reported(
    verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    identity = verifier.verify(_rs256(rsa_key, groups=["analytics", "/platform/admins", "Data Team"]))
    assert identity.groups == {Principal.parse("group:analytics")}
    assert identity.ignored_groups == ("/platform/admins", "Data Team")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"exp": int(time.time()) - 3600}, "expired at"),
        ({"exp": None}, "'exp' claim"),
        ({"iss": "https://evil.example.com"}, "not issued by"),
        ({"iss": None}, "'iss' claim"),
        ({"aud": "another-app"}, "audience does not match"),
        ({"sub": None}, "no 'sub' claim"),
        ({"sub": "al ice"}, "not a principal name"),
        ({"groups": 42}, "list of group names"),
        ({"groups": ["ok", 7]}, "list of group names"),
    ],
)
def test_bad_token_is_refused_saying_why(
    changes: dict[str, Any], problem: str, verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        verifier.verify(_rs256(rsa_key, **changes))
    assert problem in str(caught.value)
    assert caught.value.source == "token"


def test_token_signed_by_another_key_is_refused(verifier: TokenVerifier, other_rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(AuthenticationError, match="signature does not verify"):
        verifier.verify(_rs256(other_rsa_key))


def test_tampered_token_is_refused(verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    header, _payload, signature = _rs256(rsa_key).split(".")
    forged = jwt.utils.base64url_encode(json.dumps(_claims(sub="admin")).encode()).decode()
    with pytest.raises(AuthenticationError, match="signature does not verify"):
        verifier.verify(f"{header}.{forged}.{signature}")


def test_token_with_audience_but_none_configured_is_refused(jwks_file: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(AuthenticationError, match="set auth_audience"):
        TokenVerifier(jwks_file=str(jwks_file)).verify(_rs256(rsa_key))


def test_shared_secret_and_unsigned_tokens_never_verify(verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    def part(data: dict[str, Any]) -> str:
        return jwt.utils.base64url_encode(json.dumps(data).encode()).decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT', 'kid': 'rsa-1'})}.{part(_claims())}"
    mac = hmac.new(_pem(rsa_key).encode(), signing_input.encode(), hashlib.sha256).digest()  # the public key as secret
    hs256 = f"{signing_input}.{jwt.utils.base64url_encode(mac).decode()}"
    unsigned = jwt.encode(_claims(), None, algorithm="none", headers={"kid": "rsa-1"})
    for token in (hs256, unsigned):
        with pytest.raises(AuthenticationError):
            verifier.verify(token)


def test_unknown_key_id_is_refused(verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(AuthenticationError, match="key id 'rsa-9' is not in the JWKS"):
        verifier.verify(_rs256(rsa_key, kid="rsa-9"))


def test_garbage_is_not_a_jwt(verifier: TokenVerifier) -> None:
    with pytest.raises(AuthenticationError, match="not a JWT"):
        verifier.verify("not-a-token")


def test_unreadable_jwks_is_refused(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(AuthenticationError) as caught:
        TokenVerifier(jwks_file=str(tmp_path / "missing.json"), audience=AUDIENCE).verify(_rs256(rsa_key))
    assert caught.value.source == "jwks" and "cannot read the JWKS file" in str(caught.value)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(AuthenticationError, match="holds no usable keys") as caught:
        TokenVerifier(jwks_file=str(broken), audience=AUDIENCE).verify(_rs256(rsa_key))
    broken.write_text(json.dumps({"keys": []}))
    with pytest.raises(AuthenticationError, match="holds no usable keys"):
        TokenVerifier(jwks_file=str(broken), audience=AUDIENCE).verify(_rs256(rsa_key))


def test_unreadable_issuer_key_is_refused(tmp_path: Path, ec_key: ec.EllipticCurvePrivateKey) -> None:
    token = jwt.encode(_claims(), ec_key, algorithm="ES256")
    with pytest.raises(AuthenticationError, match="cannot read the issuer key") as caught:
        TokenVerifier(issuer_key=str(tmp_path / "none.pem")).verify(token)
    assert caught.value.source == "issuer-key"
    with pytest.raises(AuthenticationError, match="not a PEM public key"):
        TokenVerifier(issuer_key="-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----").verify(token)


def test_token_without_any_key_configured_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(AuthenticationError, match="nothing can verify it"):
        TokenVerifier().verify(_rs256(rsa_key))


# -- resolution order, through connect() -------------------------------------------------------------
@pytest.fixture
def token_settings(monkeypatch: pytest.MonkeyPatch, jwks_file: Path) -> None:
    monkeypatch.setenv("MESHLAKE_AUTH_JWKS_FILE", str(jwks_file))
    monkeypatch.setenv("MESHLAKE_AUTH_ISSUER", ISSUER)
    monkeypatch.setenv("MESHLAKE_AUTH_AUDIENCE", AUDIENCE)


@pytest.mark.usefixtures("token_settings")
def test_connect_verifies_the_token_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESHLAKE_TOKEN", _rs256(rsa_key))
    lake = ml.connect(home=str(tmp_path / ".meshlake"))
    assert lake.principal == Principal.parse("user:alice")
    assert lake.identity.verified


@pytest.mark.usefixtures("token_settings")
def test_connect_refuses_a_bad_token_at_once(
    monkeypatch: pytest.MonkeyPatch, rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    with pytest.raises(AuthenticationError, match="expired"):
        ml.connect(home=str(tmp_path / ".meshlake"), token=_rs256(rsa_key, exp=int(time.time()) - 3600))
    monkeypatch.setenv("MESHLAKE_TOKEN", _rs256(other_rsa_key))
    with pytest.raises(AuthenticationError, match="signature"):
        ml.connect(home=str(tmp_path / ".meshlake"))
    assert not (tmp_path / ".meshlake").exists()


def test_token_settings_come_from_a_yaml_auth_section(
    tmp_path: Path, jwks_file: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    config = tmp_path / "meshlake.yaml"
    config.write_text(f"home: lake\nauth:\n  jwks_file: {jwks_file}\n  audience: {AUDIENCE}\n  issuer: {ISSUER}\n")
    assert ml.connect(config, token=_rs256(rsa_key)).identity.verified


def test_principal_argument_beats_environment_which_beats_the_token(
    jwks_file: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    settings = Settings(auth_jwks_file=str(jwks_file), auth_audience=AUDIENCE)
    env = {"MESHLAKE_PRINCIPAL": "user:env", "MESHLAKE_TOKEN": _rs256(rsa_key)}
    chosen = resolve_identity(settings, principal="user:arg", environ=env)
    assert (str(chosen), chosen.source, chosen.verified) == ("user:arg", "argument", False)
    chosen = resolve_identity(settings, environ=env)
    assert (str(chosen), chosen.source, chosen.verified) == ("user:env", "environment", False)
    chosen = resolve_identity(settings, environ={"MESHLAKE_TOKEN": env["MESHLAKE_TOKEN"]})
    assert (str(chosen), chosen.source, chosen.verified) == ("user:alice", "token", True)
    assert resolve_identity(settings, environ={}).source == "os-user"


def test_token_argument_is_verified(jwks_file: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    settings = Settings(auth_jwks_file=str(jwks_file), auth_audience=AUDIENCE)
    chosen = resolve_identity(settings, token=_rs256(rsa_key), environ={"MESHLAKE_PRINCIPAL": "user:env"})
    assert (str(chosen), chosen.verified) == ("user:alice", True)


def test_principal_and_token_together_are_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError, match="not both"):
        resolve_identity(Settings(), principal="user:a", token=_rs256(rsa_key), environ={})


def test_groups_cannot_be_added_to_a_token(jwks_file: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    settings = Settings(auth_jwks_file=str(jwks_file), auth_audience=AUDIENCE)
    with pytest.raises(ConfigError, match="verified claim"):
        resolve_identity(settings, token=_rs256(rsa_key), groups=["platform"], environ={})
    with pytest.raises(ConfigError, match="verified claim"):
        resolve_identity(settings, environ={"MESHLAKE_TOKEN": _rs256(rsa_key), "MESHLAKE_GROUPS": "platform"})


def test_claimed_principal_takes_groups_from_argument_or_environment(tmp_path: Path) -> None:
    lake = ml.connect(home=str(tmp_path / ".meshlake"), principal="user:bob", groups=["analytics", "group:finance"])
    assert lake.identity.groups == {Principal.parse("group:analytics"), Principal.parse("group:finance")}
    assert not lake.identity.verified
    env = {"MESHLAKE_PRINCIPAL": "service:etl", "MESHLAKE_GROUPS": "ops, platform"}
    identity = resolve_identity(Settings(), environ=env)
    assert identity.groups == {Principal.parse("group:ops"), Principal.parse("group:platform")}


@pytest.mark.parametrize(
    ("principal", "groups"),
    [("group:platform", ()), ("*", ()), ("user:bob", ["user:alice"]), ("nobody", ()), ("user:bob", ["a b"])],
)
def test_a_caller_that_is_no_user_service_or_product_is_refused(principal: str, groups: list[str]) -> None:
    with pytest.raises(InvalidPrincipalError):
        resolve_identity(Settings(), principal=principal, groups=groups, environ={})


def test_os_user_is_the_unverified_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "John Doe")
    identity = resolve_identity(Settings(), environ={})
    assert identity == Identity(Principal.parse("user:John_Doe"), verified=False, source="os-user")


def test_os_user_without_a_login_is_user_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_login() -> str:
        raise OSError("no login")

    monkeypatch.setattr("getpass.getuser", no_login)
    assert os_user_identity().principal == Principal.parse("user:unknown")
