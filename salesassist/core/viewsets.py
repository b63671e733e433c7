"""Viewsets whose writes go through the domain's services, written once instead of in every viewset."""
from django.core.exceptions import ImproperlyConfigured


class ServiceWritesMixin:
    """create, update and destroy call the services a viewset names; the serializer only validates.

        class LeadViewSet(CompanyServiceModelViewSet):   # crm.api.tenancy: this mixin + CompanyModelViewSet
            queryset = Lead.objects.all()
            serializer_class = LeadSerializer
            create_service = services.lead_create        # lead_create(company=…, **validated fields)
            update_service = services.lead_update        # lead_update(lead=…, **validated fields)
            destroy_service = services.lead_soft_delete  # lead_soft_delete(lead=…)
            instance_kwarg = "lead"

    - `instance_kwarg` is the keyword that names the row for the update and destroy services.
    - `company_kwarg_on` lists the operations ("create", "update", "destroy") whose service also gets
      `company=self.company`, the caller's company (crm's CompanyScopedMixin gives it): by default only create;
      a service that checks who owns the row takes it on update and destroy too.
    - `service_fields(serializer)` is what a create or update service gets besides: the validated data,
      unless a viewset leaves some out (a field the serializer only checks).

    An operation the viewset offers without naming its service is a configuration error, never a plain
    model save. A viewset that answers a write differently (another output serializer, say) overrides
    that action and still writes through `perform_create`/`perform_update`/`perform_destroy`, or calls
    its service itself where the body is not the row's serializer.
    """

    create_service = None
    update_service = None
    destroy_service = None
    instance_kwarg = ""
    company_kwarg_on: tuple[str, ...] = ("create",)

    def service_fields(self, serializer) -> dict:
        return dict(serializer.validated_data)

    def perform_create(self, serializer):
        serializer.instance = self._call_service("create", **self.service_fields(serializer))

    def perform_update(self, serializer):
        fields = self.service_fields(serializer)
        serializer.instance = self._call_service("update", **{self.instance_kwarg: serializer.instance}, **fields)

    def perform_destroy(self, instance):
        self._call_service("destroy", **{self.instance_kwarg: instance})

    def _call_service(self, operation: str, **kwargs):
        # Read from the class: a function stored on it is not bound to the viewset there.
        service = getattr(type(self), f"{operation}_service")
        if service is None or (operation != "create" and not self.instance_kwarg):
            raise ImproperlyConfigured(f"{type(self).__name__} names no {operation}_service (or no instance_kwarg).")
        if operation in self.company_kwarg_on:
            kwargs["company"] = self.company
        return service(**kwargs)
