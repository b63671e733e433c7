"""The public inbound URL every receiver serves: the call is stored, processed and answered the same way."""
from rest_framework.response import Response
from rest_framework.views import APIView

from ..errors import problem_response
from ..exceptions import NotFound
from ..throttling import PublicEndpointMixin, ReceiverIpThrottle, ReceiverThrottle, client_ip


class InboundCallView(PublicEndpointMixin, APIView):
    """A third party posts to a receiver (no API key): the raw call is stored before anything else, then
    processed; the answer is what it made, or the problem that stopped it naming the stored call.

    A subclass names its receivers and services, and documents its post(), which calls receive().
    """

    throttle_classes = [ReceiverIpThrottle, ReceiverThrottle]
    receivers = None  # the active receivers (a queryset); any other uuid is a 404 with `not_found`
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
        call = self.store(
            receiver=receiver,
            headers=dict(request.headers),
            body=request._request.body.decode("utf-8", errors="replace"),
            source_ip=client_ip(request),
        )
        handled = self.process(receiver=receiver, call=call)
        if handled.error is None:
            return self.answer(handled)
        return problem_response(handled.error, **{self.call_field: str(call.uuid)})
