"""The public inbound URL every receiver serves: the call is checked, stored, processed and answered the same way."""
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from ..errors import problem_response
from ..exceptions import NotFound
from ..throttling import (
    PublicEndpointMixin,
    ReceiverIpThrottle,
    ReceiverSignatureFailureThrottle,
    ReceiverThrottle,
    client_ip,
)
from .services import inbound_call_reject, inbound_signature_error, inbound_signature_failure


class InboundCallView(PublicEndpointMixin, APIView):
    """A third party posts to a receiver (no API key). A receiver with a secret first checks the call's
    signature: a call failing it is answered 401 and kept only as a small rejected record — or, past the
    receiver's rate of failed checks, answered 429 and not kept at all. Any other call is stored raw before
    anything else, then processed; the answer is what it made, or the problem that stopped it naming the
    stored call.

    A subclass names its receivers, its calls' model and services, and documents its post(), which calls
    receive().
    """

    throttle_classes = [ReceiverIpThrottle, ReceiverThrottle]
    receivers = None  # the active receivers (a queryset); any other uuid is a 404 with `not_found`
    calls = None  # the InboundCall model the receiver's calls are kept in
    not_found = ""
    call_field = ""  # the field of a problem that names the stored call
    throttle_prefix = ""  # one app's counts per receiver apart from the other's

    def throttle_subject(self, request):
        return f"{self.throttle_prefix}{self.kwargs['receiver_uuid']}"

    def store(self, *, receiver, headers: dict, body: str, source_ip: str | None):
        """Keep the raw call through the app's service; return the stored row."""
        raise NotImplementedError

    def process(self, *, receiver, call):
        """Process the stored call through the app's service; its `error` is the domain error that stopped it."""
        raise NotImplementedError

    def answer(self, handled) -> Response:
        """The answer to a call processed without an error."""
        raise NotImplementedError

    def receive(self, request, receiver_uuid) -> Response:
        receiver = self.receivers.filter(uuid=receiver_uuid).first()
        if receiver is None:
            raise NotFound(self.not_found)
        raw = request._request.body
        headers, body, source_ip = dict(request.headers), raw.decode("utf-8", errors="replace"), client_ip(request)
        failure = inbound_signature_failure(receiver=receiver, headers=headers, body=body)
        if failure is not None:
            # Counted only when the check fails, so forged calls never use up what genuine ones may send.
            limit = ReceiverSignatureFailureThrottle()
            if not limit.allow_request(request, self):
                raise Throttled(
                    wait=limit.wait(), detail="Too many calls to this receiver failed their signature check."
                )
            rejected = inbound_call_reject(
                model=self.calls,
                receiver=receiver,
                headers=headers,
                body_size=len(raw),
                failure=failure,
                source_ip=source_ip,
            )
            return problem_response(inbound_signature_error(failure=failure), **{self.call_field: str(rejected.uuid)})
        call = self.store(receiver=receiver, headers=headers, body=body, source_ip=source_ip)
        handled = self.process(receiver=receiver, call=call)
        if handled.error is None:
            return self.answer(handled)
        return problem_response(handled.error, **{self.call_field: str(call.uuid)})
