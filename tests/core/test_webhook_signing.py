"""Standard Webhooks signing and verifying: the one module both the sending and the receiving side use."""
import base64
import time
import uuid

import pytest

from salesassist.core.webhook_signing import (
    SignatureFailure,
    message_id_for,
    secret_generate,
    secret_is_valid,
    signature,
    signature_failure,
    signature_header,
)

# The reference example of the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def signed(body: str, *, secret: str, timestamp: int | None = None, message_id: str = "msg_1") -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body.encode()),
    }


def test_the_specification_example_signs_as_the_specification_says():
    assert signature(secret=SPEC_SECRET, message_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY.encode()) == (
        SPEC_SIGNATURE
    )


def test_a_generated_secret_has_a_32_byte_key_and_is_valid():
    secret = secret_generate()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret_is_valid(secret) and secret != secret_generate()


@pytest.mark.parametrize(
    "secret, valid",
    [
        ("whsec_" + base64.b64encode(b"k" * 24).decode(), True),
        ("whsec_" + base64.b64encode(b"k" * 64).decode(), True),
        ("whsec_" + base64.b64encode(b"k" * 23).decode(), False),
        ("whsec_" + base64.b64encode(b"k" * 65).decode(), False),
        (base64.b64encode(b"k" * 32).decode(), False),  # no prefix
        ("whsec_not base64!", False),
    ],
)
def test_secret_format(secret, valid):
    assert secret_is_valid(secret) is valid


def test_a_rotation_header_carries_one_signature_per_secret_and_either_verifies():
    old, new = secret_generate(), secret_generate()
    header = signature_header(secrets_=[new, old], message_id="msg_1", timestamp=int(time.time()), body=b"{}")
    assert len(header.split(" ")) == 2
    headers = {**signed("{}", secret=new), "webhook-signature": header}
    assert signature_failure(secret=old, headers=headers, body="{}") is None
    assert signature_failure(secret=new, headers=headers, body="{}") is None


def test_a_fresh_call_verifies_and_a_changed_body_or_another_secret_does_not():
    secret = secret_generate()
    headers = signed('{"a":1}', secret=secret)
    assert signature_failure(secret=secret, headers=headers, body='{"a":1}') is None
    assert signature_failure(secret=secret, headers=headers, body='{"a":2}') == SignatureFailure.INVALID
    assert signature_failure(secret=secret_generate(), headers=headers, body='{"a":1}') == SignatureFailure.INVALID


@pytest.mark.parametrize(
    "change, failure",
    [
        ({"webhook-signature": "no-comma-here"}, SignatureFailure.MALFORMED),  # standardwebhooks: a plain ValueError
        ({"webhook-signature": ""}, SignatureFailure.MISSING),
        ({"webhook-id": ""}, SignatureFailure.MISSING),
        ({"webhook-timestamp": "soon"}, SignatureFailure.MALFORMED),
        ({"webhook-timestamp": str(int(time.time()) - 3600)}, SignatureFailure.STALE),
        ({"webhook-timestamp": str(int(time.time()) + 3600)}, SignatureFailure.STALE),
        ({"webhook-signature": "v1,AAAA"}, SignatureFailure.INVALID),
    ],
)
def test_a_malformed_missing_stale_or_wrong_header_fails_and_says_why(change, failure):
    secret = secret_generate()
    headers = {**signed("{}", secret=secret), **change}
    assert signature_failure(secret=secret, headers=headers, body="{}") == failure


def test_an_empty_key_never_verifies():
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,AAAA"}
    assert signature_failure(secret="whsec_", headers=headers, body="{}") == SignatureFailure.INVALID


def test_the_message_id_is_stable_for_a_uuid():
    key = uuid.uuid4()
    assert message_id_for(key) == message_id_for(key) == f"msg_{key.hex}"
